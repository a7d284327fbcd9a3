"""Clearroom's predicates — what a signed Statement may claim — as typed builders and
validators: the release manifest, SLSA provenance and VSA, generic claims.

Validators raise :class:`~clearroom.attest.errors.StatementError` naming the bad field by its
path (``"slsa vsa: predicate.policy.uri is required"``). :func:`validate_statement` picks the
validator from the predicate type.

Example::

    statement = Statement.parse(verified_payload)
    validate_statement(statement)
    if statement.predicate_type == RELEASE_MANIFEST:
        manifest = ReleaseManifest.from_statement(statement)
"""

from __future__ import annotations

from collections.abc import Callable

from clearroom.attest.errors import StatementError
from clearroom.attest.predicates.claim import make_claim, validate_claim
from clearroom.attest.predicates.manifest import (
    FILE_KINDS,
    FileKind,
    ManifestFile,
    ReleaseManifest,
    release_manifest_schema,
)
from clearroom.attest.predicates.slsa import (
    VERIFIED_PROPERTIES,
    VerificationResult,
    make_vsa,
    validate_provenance,
    validate_vsa,
)
from clearroom.attest.predicates.status import ReleaseStatus, release_subject
from clearroom.attest.predicates.types import (
    CLAIM,
    KEY_EVENT,
    OPENVEX,
    RELEASE_MANIFEST,
    RELEASE_STATUS,
    SLSA_PROVENANCE,
    SLSA_VSA,
)
from clearroom.attest.statement import Statement

__all__ = [
    "CLAIM",
    "FILE_KINDS",
    "KEY_EVENT",
    "OPENVEX",
    "RELEASE_MANIFEST",
    "RELEASE_STATUS",
    "SLSA_PROVENANCE",
    "SLSA_VSA",
    "VERIFIED_PROPERTIES",
    "FileKind",
    "ManifestFile",
    "ReleaseManifest",
    "ReleaseStatus",
    "VerificationResult",
    "make_claim",
    "make_vsa",
    "release_manifest_schema",
    "release_subject",
    "validate_claim",
    "validate_provenance",
    "validate_statement",
    "validate_vsa",
]


def _key_event(statement: Statement) -> object:
    # The key registry owns this predicate, and imports this package: import it late.
    from clearroom.attest.registry import KeyEvent

    return KeyEvent.from_statement(statement)


def _openvex(statement: Statement) -> object:
    """An OpenVEX document meeting CISA's minimum elements. Imported late: the offline
    verifier never needs the VEX reader (nor its dependencies)."""
    import json

    from clearroom.vulns.vex import VexError, check_minimum, load_vex

    try:
        document = load_vex(json.dumps(dict(statement.predicate)).encode())
    except VexError as exc:
        raise StatementError(f"OpenVEX predicate: {exc}") from None
    if document.format != "openvex":
        raise StatementError("OpenVEX predicate: the predicate is not an OpenVEX document")
    problems = check_minimum(document)
    if problems:
        raise StatementError("OpenVEX predicate: " + "; ".join(problems))
    return document


_VALIDATORS: dict[str, Callable[[Statement], object]] = {
    RELEASE_MANIFEST: ReleaseManifest.from_statement,
    SLSA_PROVENANCE: lambda s: validate_provenance(s.predicate),
    SLSA_VSA: lambda s: validate_vsa(s.predicate),
    CLAIM: lambda s: validate_claim(s.predicate),
    KEY_EVENT: _key_event,
    OPENVEX: _openvex,
    RELEASE_STATUS: ReleaseStatus.from_statement,
}


def validate_statement(statement: Statement) -> None:
    """Check the predicate of ``statement`` against its type; unknown types are refused."""
    validate = _VALIDATORS.get(statement.predicate_type)
    if validate is None:
        raise StatementError(
            f"in-toto: unknown predicateType {statement.predicate_type!r}; known: "
            f"{', '.join(sorted(_VALIDATORS))}"
        )
    validate(statement)


PREDICATE_TYPES = tuple(_VALIDATORS)
"""Every predicate type a statement accepted by Clearroom may have (what pages must name)."""
