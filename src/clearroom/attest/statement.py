"""in-toto Statement v1: what was checked (``subject``: names and digests) and what is claimed
about it (``predicateType`` and ``predicate``). Carried in DSSE with the in-toto payload type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clearroom.attest.errors import StatementError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
_HEX = re.compile(r"[0-9a-f]+")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True)
class Subject:
    name: str
    digest: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "digest": dict(self.digest)}


@dataclass(frozen=True)
class Statement:
    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "_type": STATEMENT_TYPE,
            "subject": [s.to_dict() for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": dict(self.predicate),
        }

    def to_json(self) -> bytes:
        """Canonical bytes (sorted keys, no whitespace), so one statement has one encoding."""
        return json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    @classmethod
    def parse(cls, payload: bytes) -> Statement:
        try:
            doc = json.loads(payload, object_pairs_hook=_no_duplicates, parse_constant=_no_nan)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StatementError(f"in-toto: the payload is not JSON ({exc})") from None
        except RecursionError:
            raise StatementError("in-toto: the payload is nested too deeply") from None
        if not isinstance(doc, dict) or doc.get("_type") != STATEMENT_TYPE:
            raise StatementError(f"in-toto: the payload is not a Statement ({STATEMENT_TYPE})")
        subjects = doc.get("subject")
        if not isinstance(subjects, list) or not subjects:
            raise StatementError("in-toto: a statement needs at least one subject")
        predicate_type = doc.get("predicateType")
        if not isinstance(predicate_type, str) or not predicate_type:
            raise StatementError("in-toto: a statement needs a predicateType")
        predicate = doc.get("predicate", {})
        if not isinstance(predicate, dict):
            raise StatementError("in-toto: the predicate is not a JSON object")
        return cls(tuple(_subject(s) for s in subjects), predicate_type, predicate)

    def digests(self, algorithm: str = "sha256") -> dict[str, str]:
        """Subject name → digest in ``algorithm`` (subjects without one are left out)."""
        return {s.name: s.digest[algorithm] for s in self.subjects if algorithm in s.digest}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse a repeated member: parsers disagree on which copy wins, so two verifiers
    could read different claims from the same signed bytes."""
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise StatementError(f"in-toto: the payload repeats the member {key!r}")
        doc[key] = value
    return doc


def _no_nan(constant: str) -> Any:
    raise StatementError(f"in-toto: the payload holds {constant}, which is not JSON")


def _subject(item: Any) -> Subject:
    if not isinstance(item, dict) or not isinstance(item.get("digest"), dict):
        raise StatementError("in-toto: each subject needs a digest object")
    name = item.get("name", "")
    if not isinstance(name, str):
        raise StatementError("in-toto: a subject's name is not a string")
    digest = item["digest"]
    if not digest:
        raise StatementError(f"in-toto: subject {name!r} has no digest")
    for algorithm, value in digest.items():
        if not isinstance(value, str):
            raise StatementError(f"in-toto: subject {name!r} digest {algorithm} is not a string")
        expected = _DIGEST_LENGTHS.get(algorithm)
        if expected is not None and (len(value) != expected or not _HEX.fullmatch(value)):
            raise StatementError(
                f"in-toto: subject {name!r} {algorithm} must be {expected} lower-case hex digits"
            )
    return Subject(name, dict(digest))
