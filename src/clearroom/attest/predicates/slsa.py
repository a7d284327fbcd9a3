"""SLSA predicates: build provenance v1 (read from builders) and the Verification Summary
Attestation v1 (written by Clearroom's verifier, read from others).

The VSA's ``slsaVersion`` says which SLSA 1.x defines its values: the verified properties
(``SLSA_BUILD_REPRODUCED``, ``SLSA_SOURCE_TWO_PARTY_REVIEWED``) and the Source track came with
SLSA 1.2, so a VSA that claims them under 1.0 or 1.1 is refused (those versions forbid custom
values starting ``SLSA_``). Clearroom writes 1.2 with ``policy.digest`` (RECOMMENDED since 1.1).

The checks follow slsa.dev/spec/v1.x: ``provenance`` §Schema and ``verification_summary``
§Fields. Unknown fields are ignored and, as SLSA's parsing rules say, an unset, ``null`` or
empty optional field mean the same.

Example::

    vsa = make_vsa([Subject("fw.bin", {"sha256": digest})], "https://clearroom.dev/verifier",
                   datetime.now(UTC), "pkg:generic/acme/fw@2.4.1",
                   "https://clearroom.dev/policy/default", None, [], "PASSED",
                   ["SLSA_BUILD_LEVEL_3", "SLSA_BUILD_REPRODUCED"])
    validate_vsa(vsa.predicate)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from clearroom.attest.errors import StatementError
from clearroom.attest.predicates._common import Fields, resource_descriptor
from clearroom.attest.predicates.types import SLSA_VSA
from clearroom.attest.statement import Statement, Subject

VerificationResult = Literal["PASSED", "FAILED"]
RESULTS: tuple[VerificationResult, ...] = ("PASSED", "FAILED")
# SLSA v1.2 "verified properties"; any other value starting SLSA_ must be a track level.
BUILD_REPRODUCED = "SLSA_BUILD_REPRODUCED"
VERIFIED_PROPERTIES = (BUILD_REPRODUCED, "SLSA_SOURCE_TWO_PARTY_REVIEWED")
_LEVEL = re.compile(r"SLSA_([A-Z]+)_LEVEL_(\d+)")
_SLSA_VERSION = re.compile(r"(\d+)\.(\d+)")
SLSA_VERSION = "1.2"
"""The SLSA version Clearroom's VSAs follow (predicate type ``verification_summary/v1``)."""


def validate_provenance(predicate: Mapping[str, Any]) -> None:
    """Check a SLSA Provenance v1 predicate: the fields required for Build L1
    (``buildDefinition.buildType``, ``buildDefinition.externalParameters``,
    ``runDetails.builder.id``) and the shape of every optional one present."""
    doc = Fields("slsa provenance", predicate, "predicate", null_is_unset=True)
    build = doc.obj("buildDefinition")
    run = doc.obj("runDetails")
    assert build is not None and run is not None
    build.type_uri("buildType")
    build.obj("externalParameters")
    build.obj("internalParameters", required=False)
    build.items("resolvedDependencies", resource_descriptor)
    builder = run.obj("builder")
    assert builder is not None
    builder.type_uri("id")
    builder.string_map("version")
    builder.items("builderDependencies", resource_descriptor)
    metadata = run.obj("metadata", required=False)
    if metadata is not None:
        metadata.text("invocationId", required=False)
        started = metadata.timestamp("startedOn", required=False)
        finished = metadata.timestamp("finishedOn", required=False)
        if started is not None and finished is not None and finished < started:
            raise metadata.error("finishedOn", "is before startedOn")
    run.items("byproducts", resource_descriptor)


def validate_vsa(predicate: Mapping[str, Any]) -> None:
    """Check a SLSA Verification Summary v1 predicate (timeVerified became optional in 1.1)."""
    doc = Fields("slsa vsa", predicate, "predicate", null_is_unset=True)
    verifier = doc.obj("verifier")
    assert verifier is not None
    verifier.type_uri("id")
    verifier.string_map("version")
    doc.timestamp("timeVerified", required=False)
    doc.resource_uri("resourceUri")
    policy = doc.obj("policy")
    assert policy is not None
    policy.resource_uri("uri")
    policy.digest_set("digest", required=False)
    doc.items("inputAttestations", lambda rd: resource_descriptor(rd, need_digest=True))
    result = doc.text("verificationResult")
    if result not in RESULTS:
        raise doc.error("verificationResult", f"must be PASSED or FAILED, not {result!r}")
    levels = doc.array("verifiedLevels", non_empty=True)
    _check_levels(doc, "verifiedLevels", levels, one_per_track=True)
    if result == "PASSED" and "FAILED" in levels:
        raise doc.error("verifiedLevels", "holds FAILED though verificationResult is PASSED")
    dependency_levels = doc.obj("dependencyLevels", required=False)
    if dependency_levels is not None:
        _check_levels(doc, "dependencyLevels", list(dependency_levels.doc), one_per_track=False)
        for level in dependency_levels.doc:
            dependency_levels.integer(level, minimum=0)
    version = doc.text("slsaVersion", required=False)
    found = None if version is None else _SLSA_VERSION.fullmatch(version)
    if version is not None and found is None:
        raise doc.error("slsaVersion", f"must be MAJOR.MINOR, not {version!r}")
    if found is not None and found[1] != "1":
        raise doc.error("slsaVersion", f"is {version}; this predicate type is SLSA 1.x")
    if found is not None and int(found[2]) < 2:
        counted = list(dependency_levels.doc) if dependency_levels is not None else []
        newer = [v for v in [*levels, *counted] if _needs_1_2(v)]
        if newer:
            raise doc.error(
                "slsaVersion",
                f"is {version}, but {newer[0]} is defined by SLSA 1.2; set slsaVersion"
                f" to {SLSA_VERSION}",
            )


def _needs_1_2(level: Any) -> bool:
    """Verified properties and tracks other than Build came with SLSA 1.2."""
    match = _LEVEL.fullmatch(level) if isinstance(level, str) else None
    return level in VERIFIED_PROPERTIES or (match is not None and match[1] != "BUILD")


def _check_levels(doc: Fields, key: str, levels: list[Any], *, one_per_track: bool) -> None:
    """SlsaResult values: ``SLSA_<TRACK>_LEVEL_<n>``, a SLSA verified property, ``FAILED``
    or a custom value — which "MUST NOT start with SLSA_"."""
    tracks: set[str] = set()
    for level in levels:
        if not isinstance(level, str) or not level.strip():
            raise doc.error(key, "must hold non-empty strings")
        match = _LEVEL.fullmatch(level)
        if match is None and level.startswith("SLSA_") and level not in VERIFIED_PROPERTIES:
            raise doc.error(
                key,
                f"holds {level!r}; values starting SLSA_ are SLSA_<TRACK>_LEVEL_<n> or "
                f"{', '.join(VERIFIED_PROPERTIES)}",
            )
        if match is not None and one_per_track:
            if match[1] in tracks:
                raise doc.error(key, f"holds more than one {match[1]} level")
            tracks.add(match[1])


def reports_reproduced(predicate: Mapping[str, Any]) -> bool:
    """Does a VSA say the verifier rebuilt the subjects and got the same bytes: a valid VSA
    (:func:`validate_vsa`, so of SLSA 1.2 or unversioned) with a PASSED result whose
    ``verifiedLevels`` hold ``SLSA_BUILD_REPRODUCED``?"""
    try:
        validate_vsa(predicate)
    except StatementError:
        return False
    levels = predicate.get("verifiedLevels")
    return (
        predicate.get("verificationResult") == "PASSED"
        and isinstance(levels, list)
        and BUILD_REPRODUCED in levels
    )


def make_vsa(
    subjects: Sequence[Subject],
    verifier_id: str,
    time_verified: datetime,
    resource_uri: str,
    policy_uri: str,
    policy_digest: Mapping[str, str] | None,
    input_attestations: Sequence[Mapping[str, Any]],
    result: VerificationResult,
    verified_levels: Sequence[str],
    dependency_levels: Mapping[str, int] | None = None,
    slsa_version: str = SLSA_VERSION,
) -> Statement:
    """A VSA Statement about ``subjects``; raises :class:`StatementError` when the result
    would not pass :func:`validate_vsa`. ``time_verified`` must be timezone-aware."""
    if time_verified.tzinfo is None:
        raise ValueError("slsa vsa: time_verified must be timezone-aware")
    if not subjects:
        raise StatementError("slsa vsa: a VSA needs at least one subject")
    policy: dict[str, Any] = {"uri": policy_uri}
    if policy_digest is not None:
        policy["digest"] = dict(policy_digest)
    predicate: dict[str, Any] = {
        "verifier": {"id": verifier_id},
        "timeVerified": time_verified.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "resourceUri": resource_uri,
        "policy": policy,
        "verificationResult": result,
        "verifiedLevels": list(verified_levels),
        "slsaVersion": slsa_version,
    }
    if input_attestations:
        predicate["inputAttestations"] = [dict(a) for a in input_attestations]
    if dependency_levels is not None:
        predicate["dependencyLevels"] = dict(dependency_levels)
    validate_vsa(predicate)
    return Statement(tuple(subjects), SLSA_VSA, predicate)
