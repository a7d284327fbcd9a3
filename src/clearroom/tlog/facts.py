"""Clearroom's log entries: one canonical JSON document per fact, so that anyone holding an
entry can tell what was claimed, and anyone holding the claim can rebuild the exact entry bytes.

Why canonical JSON: the log commits to bytes. An entry is the RFC 8785 (JCS) form of a JSON
object whose values are strings, integers, booleans, lists and objects (no floats, so the JCS
number rules never apply): keys sorted, no insignificant whitespace, UTF-8. ``parse_fact``
refuses an entry that is not in that form, so two encodings of one fact cannot both be logged.

Every entry has ``fact`` (its type), ``id`` (unique, so two identical claims are two entries)
and ``time`` (UTC, ``YYYY-MM-DDTHH:MM:SSZ``). The types, documented in docs/VERIFYING.md:

``clearroom.dev/release/v1``
    ``release`` {vendor, product, version}, ``state`` (``published`` or ``withdrawn``),
    ``files`` [{kind, sha256, size}] (what was published, sorted), ``reason`` (withdrawn only).
``clearroom.dev/artifact/v1`` and ``clearroom.dev/document/v1``
    ``release``, ``sha256``, ``size``, ``media_type``, ``confidentiality``, and ``name`` for
    public files (a confidential file's name is not made public); documents add ``kind``.
``clearroom.dev/attestation/v1``
    A signed statement (DSSE envelope) the centre accepted: ``organisation``, ``envelope_sha256``
    (SHA-256 of the envelope's canonical JSON), ``payload_type``, ``predicate_type``,
    ``subjects`` [{name, sha256}], ``signers`` [keyid] and, when it is about one, ``release``.
    Key registrations and revocations are attestations too (``predicate_type`` key-event).
``clearroom.dev/audit-batch/v1``
    A sealed batch of the centre's audit trail: ``sequence`` (1, 2, ...), ``count`` records,
    ``first`` and ``last`` record ids, ``root`` (hex RFC 6962 Merkle root of the records' leaf
    hashes, each the canonical JSON of one record) and ``previous`` (the root of the batch
    before, "" for the first).
``clearroom.dev/finding/v1``
    A finding's status that third parties rely on: ``verified`` (the raiser checked the fix)
    or ``risk_accepted`` (the vendor accepts the risk). ``release``, ``finding`` (its random
    id), ``severity``, ``status``, ``raised_by`` and ``by`` (organisation slugs) and
    ``justification_sha256`` (of the reason, which stays between the parties).
``clearroom.dev/catalogue/v1``
    A standards body published a version of a control catalogue: ``organisation``,
    ``catalogue`` (its slug), ``version``, ``uuid`` (the OSCAL catalog's), ``sha256`` (of the
    OSCAL JSON document as published, byte for byte) and ``controls`` (how many).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from clearroom.tlog.errors import InvalidInput

RELEASE = "clearroom.dev/release/v1"
ARTIFACT = "clearroom.dev/artifact/v1"
DOCUMENT = "clearroom.dev/document/v1"
ATTESTATION = "clearroom.dev/attestation/v1"
AUDIT_BATCH = "clearroom.dev/audit-batch/v1"
FINDING = "clearroom.dev/finding/v1"
CATALOGUE = "clearroom.dev/catalogue/v1"
FACT_TYPES = (RELEASE, ARTIFACT, DOCUMENT, ATTESTATION, AUDIT_BATCH, FINDING, CATALOGUE)

_COMMON = {"fact": str, "id": str, "time": str}
_FILE = {"release": dict, "sha256": str, "size": int, "media_type": str, "confidentiality": str}
_REQUIRED: dict[str, dict[str, type]] = {
    RELEASE: {**_COMMON, "release": dict, "state": str, "files": list},
    ARTIFACT: {**_COMMON, **_FILE},
    DOCUMENT: {**_COMMON, **_FILE, "kind": str},
    ATTESTATION: {
        **_COMMON,
        "organisation": str,
        "envelope_sha256": str,
        "payload_type": str,
        "predicate_type": str,
        "subjects": list,
        "signers": list,
    },
    AUDIT_BATCH: {
        **_COMMON,
        "sequence": int,
        "count": int,
        "first": int,
        "last": int,
        "root": str,
        "previous": str,
    },
    FINDING: {
        **_COMMON,
        "release": dict,
        "finding": str,
        "severity": str,
        "status": str,
        "raised_by": str,
        "by": str,
        "justification_sha256": str,
    },
    CATALOGUE: {
        **_COMMON,
        "organisation": str,
        "catalogue": str,
        "version": str,
        "uuid": str,
        "sha256": str,
        "controls": int,
    },
}
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` (which must hold no floats)."""
    _refuse_floats(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise InvalidInput("tlog: log entries hold no floating-point numbers")
    if isinstance(value, Mapping):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def timestamp(moment: datetime) -> str:
    """The entry form of a time: UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_fact(fact: str, moment: datetime, **fields: Any) -> tuple[str, bytes]:
    """A new entry of type ``fact``: returns its id and its canonical bytes."""
    fact_id = str(uuid.uuid4())
    entry = canonical_json({"fact": fact, "id": fact_id, "time": timestamp(moment), **fields})
    parse_fact(entry)  # one place decides what a valid entry is
    return fact_id, entry


def parse_fact(entry: bytes) -> dict[str, Any]:
    """The fact an entry states, after checking it is one canonical, complete Clearroom fact."""
    try:
        value = json.loads(entry)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"tlog: entry is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput("tlog: entry is not a JSON object")
    required = _REQUIRED.get(value.get("fact"))  # type: ignore[arg-type]
    if required is None:
        raise InvalidInput(f"tlog: unknown fact type {value.get('fact')!r}")
    for key, kind in required.items():
        if not isinstance(value.get(key), kind) or isinstance(value.get(key), bool):
            raise InvalidInput(f"tlog: {value['fact']} entry needs {key!r} ({kind.__name__})")
    if not _TIME.fullmatch(value["time"]):
        raise InvalidInput("tlog: entry time must be UTC, YYYY-MM-DDTHH:MM:SSZ")
    for key in ("sha256", "envelope_sha256", "root", "justification_sha256"):
        if key in value and not _SHA256.fullmatch(value[key]):
            raise InvalidInput(f"tlog: entry {key} must be 64 lower-case hex digits")
    if canonical_json(value) != entry:
        raise InvalidInput("tlog: entry is not in canonical JSON form (RFC 8785)")
    return value
