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

A policy is read with a cap (`MAX_POLICY_BYTES`) and must be UTF-8. Tables and keys not in
`POLICY_KEYS` are refused, naming the nearest known one: a typo (``quorom``, ``[[requires]]``)
must never silently weaken the check. A new policy key is declared there first.

A requirement's signers are followed through the organisation's key history in the log like
the vendor's keys: a key revoked before the statement was logged no longer counts. Without
``organisation``, the organisation the log names for the statement is followed.
"""

from __future__ import annotations

import difflib
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
from clearroom.untrusted import (
    InputError,
    MalformedInput,
    decode_utf8,
    parse_json,
    read_capped,
)

MAX_POLICY_BYTES = 1 << 20
"""A policy holds a few keys; anything larger is refused before it is read."""

POLICY_KEYS: dict[str, tuple[str, ...]] = {
    "log": ("origin", "key", "witnesses", "quorum"),
    "vendor": ("organisation", "keys", "centre_keys"),
    "release": ("allow_withdrawn", "max_status_age"),
    "require": ("predicate_type", "organisation", "signers", "result", "levels"),
}
"""Every table a policy may have and the keys each may hold: the one place to declare a new
policy key. Anything else is refused (fail closed)."""
ARRAY_TABLES = frozenset({"require"})
"""The tables written as arrays of tables (``[[require]]``)."""


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
        """The policy in a TOML file (JSON if its name ends in ``.json``), read with a cap."""
        try:
            data = read_capped(path, MAX_POLICY_BYTES, what="policy")
            if path.suffix == ".json":
                doc = parse_json(data, what=f"policy: {path}")
            else:
                doc = tomllib.loads(decode_utf8(data, what=f"policy: {path}"))
        except (InputError, MalformedInput) as exc:
            raise PolicyError(str(exc)) from None
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"policy: {path} is not valid TOML: {exc}") from None
        except RecursionError:  # tomllib is pure Python: deep nesting ends here, cleanly
            raise PolicyError(f"policy: {path} nests arrays or tables too deeply") from None
        return cls.from_dict(doc)

    @classmethod
    def from_dict(cls, doc: Any) -> Policy:
        _refuse_unknown_keys(doc)
        log, vendor = _table(doc, "log"), _table(doc, "vendor")
        log_key = _note_key(log.get("key"), "log.key")
        if isinstance(log_key, CosignatureVerifier):
            raise PolicyError("policy: log.key is a witness key, not a log key")
        witnesses = tuple(_note_key(k, "log.witnesses") for k in _list(log, "witnesses"))
        quorum = log.get("quorum", 0)
        if type(quorum) is not int or not 0 <= quorum <= len(witnesses):
            raise PolicyError(f"policy: log.quorum must be 0..{len(witnesses)} (the witnesses)")
        organisation = vendor.get("organisation")
        if not isinstance(organisation, str) or not organisation:
            raise PolicyError("policy: vendor.organisation names the vendor (its slug)")
        vendor_keys = tuple(_key(k, "vendor.keys") for k in _list(vendor, "keys"))
        centre_keys = tuple(_key(k, "vendor.centre_keys") for k in _list(vendor, "centre_keys"))
        if not vendor_keys and not centre_keys:
            raise PolicyError("policy: trust at least one vendor key or centre key")
        requirements = tuple(_requirement(r, centre_keys) for r in _list(doc, "require"))
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


def _refuse_unknown_keys(doc: Any) -> None:
    """Refuse a table or key that `POLICY_KEYS` does not declare, naming the nearest one."""
    if not isinstance(doc, dict):
        raise PolicyError("policy: the document is not a table of [log], [vendor], ...")
    for name, table in doc.items():
        if name not in POLICY_KEYS:
            shown = f"[[{name}]]" if isinstance(table, list) else f"[{name}]"
            raise PolicyError(f"policy: unknown table {shown}{_nearest(name, POLICY_KEYS)}")
        if name in ARRAY_TABLES:
            if not isinstance(table, list):
                raise PolicyError(f"policy: {name} must be an array of tables, [[{name}]]")
            tables = table
        else:
            if not isinstance(table, dict):
                raise PolicyError(f"policy: {name} must be a table, [{name}]")
            tables = [table]
        for entry in tables:
            if not isinstance(entry, dict):
                raise PolicyError(f"policy: each [[{name}]] must be a table")
            for key in entry:
                if key not in POLICY_KEYS[name]:
                    raise PolicyError(
                        f"policy: unknown key {name}.{key}{_nearest(key, POLICY_KEYS[name])}"
                    )


def _nearest(name: str, known: Any) -> str:
    """'; did you mean X?' for the closest known name, and what happens now."""
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
    hint = f" (did you mean {lowered[close[0]]!r}?)" if close else ""
    return f"{hint}; a policy must not hold anything the verifier does not understand"


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
    if not (result is None or isinstance(result, str)) or not all(
        isinstance(level, str) for level in levels
    ):
        raise PolicyError("policy: require.result and require.levels hold strings")
    return Requirement(raw["predicate_type"], signers, result, tuple(levels), organisation)
