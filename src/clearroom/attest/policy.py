"""The verifier's trust policy: which log (origin and key), which witnesses and how many must
cosign, which vendor keys (or registry roots) and centre keys to trust, and which further
signed statements a release must carry. A TOML file (or the same structure in JSON)::

    [log]
    origin = "clearroom.example/log"
    key = "clearroom.example/log+1a2b3c4d+AbCd…"      # C2SP note verifier key
    witnesses = ["witness.example/w1+5e6f7a8b+BcDe…"]  # cosignature/v1 verifier keys
    quorum = 1                                         # cosignatures required

    [vendor]
    organisation = "acme"
    keys = ["-----BEGIN PUBLIC KEY-----\\n…"]    # trusted from the start (registry roots)
    centre_keys = ["-----BEGIN PUBLIC KEY-----\\n…"]  # may introduce and revoke vendor keys

    [release]
    allow_withdrawn = false      # a release its vendor withdrew fails (the default)
    max_status_age = "7d"        # the centre's signed release status may be this old at most
                                 # (s, m, h or d; the default is 7 days)

    [[require]]
    predicate_type = "https://slsa.dev/verification_summary/v1"
    organisation = "lab"         # whose registered keys (replayed from the log) must sign
    signers = ["-----BEGIN PUBLIC KEY-----\\n…"]  # trust anchors of that organisation
    result = "PASSED"
    levels = ["SLSA_BUILD_LEVEL_3"]

A requirement's signers are followed through the organisation's key history in the log like
the vendor's keys: a key revoked before the statement was logged no longer counts. Without
``organisation``, the organisation the log names for the statement is followed.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from clearroom.attest.errors import AttestError
from clearroom.attest.keys import PublicKey
from clearroom.tlog.errors import TlogError
from clearroom.tlog.note import CosignatureVerifier, Verifier, parse_verifier_key


class PolicyError(AttestError):
    """The policy file is missing, malformed, or asks for something impossible."""


DEFAULT_MAX_STATUS_AGE = timedelta(days=7)
"""How old the centre's release status may be when the policy does not say: the centre
refreshes it daily, so a week leaves room for an outage while bounding a hidden withdrawal."""
_DURATION = re.compile(r"([1-9][0-9]{0,8})([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Requirement:
    predicate_type: str
    signers: tuple[PublicKey, ...]
    result: str | None = None
    levels: tuple[str, ...] = ()
    organisation: str | None = None
    """Whose key history (replayed from the log) decides which keys may sign; None: the
    organisation the log names for the statement."""

    def describe(self) -> str:
        text = self.predicate_type.rsplit("/", 2)[-2] if "/" in self.predicate_type else ""
        text = text or self.predicate_type
        if self.result:
            text += f" {self.result}"
        if self.levels:
            text += f" ({', '.join(self.levels)})"
        if self.organisation:
            text += f" by {self.organisation}"
        return text


@dataclass(frozen=True)
class Policy:
    log_key: Verifier
    origin: str
    organisation: str
    witnesses: tuple[Verifier, ...] = ()
    quorum: int = 0
    vendor_keys: tuple[PublicKey, ...] = ()
    centre_keys: tuple[PublicKey, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    allow_withdrawn: bool = False
    max_status_age: timedelta = DEFAULT_MAX_STATUS_AGE

    @classmethod
    def load(cls, path: Path) -> Policy:
        try:
            text = path.read_text()
        except OSError as exc:
            raise PolicyError(f"policy: cannot read {path}: {exc.strerror}") from None
        try:
            doc = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise PolicyError(
                f"policy: {path} is not valid {path.suffix or 'TOML'}: {exc}"
            ) from None
        return cls.from_dict(doc)

    @classmethod
    def from_dict(cls, doc: Any) -> Policy:
        log, vendor = _table(doc, "log"), _table(doc, "vendor")
        log_key = _note_key(log.get("key"), "log.key")
        if isinstance(log_key, CosignatureVerifier):
            raise PolicyError("policy: log.key is a witness key, not a log key")
        witnesses = tuple(_note_key(k, "log.witnesses") for k in _list(log, "witnesses"))
        quorum = log.get("quorum", 0)
        if not isinstance(quorum, int) or not 0 <= quorum <= len(witnesses):
            raise PolicyError(f"policy: log.quorum must be 0..{len(witnesses)} (the witnesses)")
        organisation = vendor.get("organisation")
        if not isinstance(organisation, str) or not organisation:
            raise PolicyError("policy: vendor.organisation names the vendor (its slug)")
        vendor_keys = tuple(_key(k, "vendor.keys") for k in _list(vendor, "keys"))
        centre_keys = tuple(_key(k, "vendor.centre_keys") for k in _list(vendor, "centre_keys"))
        if not vendor_keys and not centre_keys:
            raise PolicyError("policy: trust at least one vendor key or centre key")
        requirements = tuple(_requirement(r, centre_keys) for r in doc.get("require", []))
        release = doc.get("release", {})
        allow_withdrawn = (
            release.get("allow_withdrawn", False) if isinstance(release, dict) else None
        )
        if not isinstance(allow_withdrawn, bool):
            raise PolicyError("policy: release.allow_withdrawn must be true or false")
        max_status_age = _duration(release.get("max_status_age"), "release.max_status_age")
        return cls(
            log_key,
            str(log.get("origin") or log_key.name),
            organisation,
            witnesses,
            quorum,
            vendor_keys,
            centre_keys,
            requirements,
            allow_withdrawn,
            max_status_age,
        )


def _table(doc: Any, name: str) -> dict[str, Any]:
    table = doc.get(name) if isinstance(doc, dict) else None
    if not isinstance(table, dict):
        raise PolicyError(f"policy: the [{name}] table is missing")
    return table


def _list(table: dict[str, Any], name: str) -> list[Any]:
    value = table.get(name, [])
    if not isinstance(value, list):
        raise PolicyError(f"policy: {name} must be a list")
    return value


def _note_key(value: Any, where: str) -> Verifier:
    if not isinstance(value, str):
        raise PolicyError(f"policy: {where} must be a verifier key (name+hash+base64)")
    try:
        return parse_verifier_key(value.strip())
    except TlogError as exc:
        raise PolicyError(f"policy: {where}: {exc}") from None


def _key(value: Any, where: str) -> PublicKey:
    if not isinstance(value, str):
        raise PolicyError(f"policy: {where} holds PEM public keys")
    try:
        return PublicKey.from_pem(value.strip())
    except AttestError as exc:
        raise PolicyError(f"policy: {where}: {exc}") from None


def _duration(value: Any, where: str) -> timedelta:
    """A duration written as a whole number and a unit: ``"90s"``, ``"30m"``, ``"12h"``,
    ``"7d"``; absent: the default."""
    if value is None:
        return DEFAULT_MAX_STATUS_AGE
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise PolicyError(
            f'policy: {where} must be a duration such as "7d", "12h", "30m" or "90s", not {value!r}'
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _requirement(raw: Any, centre_keys: tuple[PublicKey, ...]) -> Requirement:
    if not isinstance(raw, dict) or not isinstance(raw.get("predicate_type"), str):
        raise PolicyError("policy: each [[require]] needs a predicate_type")
    signers = tuple(_key(k, "require.signers") for k in _list(raw, "signers"))
    organisation = raw.get("organisation")
    if organisation is not None and (not isinstance(organisation, str) or not organisation):
        raise PolicyError("policy: require.organisation names an organisation (its slug)")
    if not signers and not (organisation and centre_keys):
        raise PolicyError(
            "policy: each [[require]] names the keys that must have signed it (signers), or"
            " an organisation whose keys the centre introduced (with vendor.centre_keys)"
        )
    levels = _list(raw, "levels")
    result = raw.get("result")
    return Requirement(
        raw["predicate_type"],
        signers,
        None if result is None else str(result),
        tuple(str(level) for level in levels),
        organisation,
    )
