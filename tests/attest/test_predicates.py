"""predicates: the release manifest (checked by the Python validator and, independently, by its
JSON Schema with the same table of bad statements), SLSA provenance and VSA v1, claims, and the
dispatch on predicate type."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone

import jsonschema
import pytest

from clearroom.attest.errors import StatementError
from clearroom.attest.predicates import (
    CLAIM,
    FILE_KINDS,
    KEY_EVENT,
    RELEASE_MANIFEST,
    SLSA_PROVENANCE,
    SLSA_VSA,
    ManifestFile,
    ReleaseManifest,
    make_claim,
    make_vsa,
    release_manifest_schema,
    validate_claim,
    validate_provenance,
    validate_statement,
    validate_vsa,
)
from clearroom.attest.statement import Statement, Subject


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


def manifest() -> ReleaseManifest:
    return ReleaseManifest(
        "Acme GmbH",
        "router-fw",
        "2.4.1",
        [
            ManifestFile("sbom.cdx.json", "sbom", sha256(b"sbom"), 4),
            ManifestFile("fw/router-2.4.1.bin", "artifact", sha256(b"fw"), 2, sha512(b"fw")),
            ManifestFile("vex.json", "vex", sha256(b"vex"), 3),
        ],
        support_until=date(2031, 12, 31),
    )


def manifest_doc() -> dict:
    return json.loads(manifest().to_statement().to_json())


VALIDATOR = jsonschema.Draft202012Validator(
    release_manifest_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def python_check(doc) -> ReleaseManifest:
    return ReleaseManifest.from_statement(Statement.parse(json.dumps(doc).encode()))


def schema_errors(doc) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(doc)]


# --- release manifest -------------------------------------------------------------------------


def test_predicate_type_constants():
    assert RELEASE_MANIFEST == "https://clearroom.dev/release-manifest/v1"
    assert SLSA_PROVENANCE == "https://slsa.dev/provenance/v1"
    assert SLSA_VSA == "https://slsa.dev/verification_summary/v1"
    assert CLAIM == "https://clearroom.dev/claim/v1"
    assert KEY_EVENT == "https://clearroom.dev/key-event/v1"
    assert FILE_KINDS == ("artifact", "sbom", "vex", "provenance", "test_report", "other")


def test_to_statement_layout():
    statement = manifest().to_statement()
    assert statement.predicate_type == RELEASE_MANIFEST
    assert [s.name for s in statement.subjects] == [
        "fw/router-2.4.1.bin",
        "sbom.cdx.json",
        "vex.json",
    ]
    assert statement.subjects[0].digest == {"sha256": sha256(b"fw"), "sha512": sha512(b"fw")}
    assert statement.predicate == {
        "release": {"vendor": "Acme GmbH", "product": "router-fw", "version": "2.4.1"},
        "supportUntil": "2031-12-31",
        "files": [
            {
                "name": "fw/router-2.4.1.bin",
                "kind": "artifact",
                "size": 2,
                "digest": {"sha256": sha256(b"fw"), "sha512": sha512(b"fw")},
            },
            {
                "name": "sbom.cdx.json",
                "kind": "sbom",
                "size": 4,
                "digest": {"sha256": sha256(b"sbom")},
            },
            {"name": "vex.json", "kind": "vex", "size": 3, "digest": {"sha256": sha256(b"vex")}},
        ],
    }


def test_support_until_absent_when_unknown():
    plain = ReleaseManifest("a", "b", "1", [ManifestFile("x", "other", sha256(b""), 0)])
    assert "supportUntil" not in plain.to_statement().predicate
    assert python_check(json.loads(plain.to_statement().to_json())) == plain
    assert schema_errors(json.loads(plain.to_statement().to_json())) == []


def test_round_trip_and_schema_accepts_what_to_statement_writes():
    doc = manifest_doc()
    assert python_check(doc) == manifest()
    assert schema_errors(doc) == []
    jsonschema.Draft202012Validator.check_schema(release_manifest_schema())


def test_every_kind_round_trips():
    files = [ManifestFile(f"{kind}.dat", kind, sha256(kind.encode()), 1) for kind in FILE_KINDS]
    doc = json.loads(ReleaseManifest("v", "p", "1", files).to_statement().to_json())
    assert schema_errors(doc) == []
    assert {f.kind for f in python_check(doc).files} == set(FILE_KINDS)


def test_files_are_kept_sorted_and_order_on_input_does_not_matter():
    doc = manifest_doc()
    doc["predicate"]["files"].reverse()
    doc["subject"].reverse()
    assert python_check(doc) == manifest()
    assert [f.name for f in manifest().files] == sorted(f.name for f in manifest().files)


def test_unknown_members_are_ignored_by_both():
    doc = manifest_doc()
    doc["predicate"]["https://example.com/ext"] = {"x": 1}
    doc["predicate"]["release"]["cpe"] = "cpe:2.3:o:acme:router-fw:2.4.1"
    doc["predicate"]["files"][0]["mediaType"] = "application/octet-stream"
    doc["subject"][0]["annotations"] = {"note": "x"}
    assert python_check(doc) == manifest()
    assert schema_errors(doc) == []


def _set(path, value):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _pop(path):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _rename_first_file(name):
    def change(doc):
        doc["predicate"]["files"][0]["name"] = name
        doc["subject"][0]["name"] = name

    return change


FILE0 = ("predicate", "files", 0)
# (id, change, fragment of the Python validator's message) — both validators must refuse each.
BAD = [
    ("wrong _type", _set(("_type",), "https://in-toto.io/Statement/v0.1"), "not a Statement"),
    ("other predicateType", _set(("predicateType",), SLSA_VSA), "predicateType is"),
    ("no subjects", _set(("subject",), []), "at least one subject"),
    (
        "subject digest upper-case",
        _set(("subject", 0, "digest", "sha256"), "A" * 64),
        "lower-case hex",
    ),
    (
        "subject extra digest",
        _set(("subject", 1, "digest", "sha384"), "c" * 96),
        "differs from the file",
    ),
    ("predicate not an object", _set(("predicate",), []), "not a JSON object"),
    ("no release", _pop(("predicate", "release")), "predicate.release is required"),
    (
        "release not an object",
        _set(("predicate", "release"), "acme"),
        "release must be a JSON object",
    ),
    ("no vendor", _pop(("predicate", "release", "vendor")), "release.vendor is required"),
    ("empty version", _set(("predicate", "release", "version"), ""), "release.version must be"),
    ("blank product", _set(("predicate", "release", "product"), "  "), "release.product must be"),
    ("numeric version", _set(("predicate", "release", "version"), 2), "release.version must be"),
    (
        "null vendor",
        _set(("predicate", "release", "vendor"), None),
        "release.vendor must be a non-empty string",
    ),
    ("impossible date", _set(("predicate", "supportUntil"), "2031-02-30"), "must be a date"),
    ("month 13", _set(("predicate", "supportUntil"), "2031-13-01"), "must be a date"),
    ("basic date format", _set(("predicate", "supportUntil"), "20311231"), "must be a date"),
    (
        "date with time",
        _set(("predicate", "supportUntil"), "2031-12-31T00:00:00Z"),
        "must be a date",
    ),
    ("null date", _set(("predicate", "supportUntil"), None), "supportUntil"),
    ("no files", _pop(("predicate", "files")), "predicate.files is required"),
    ("empty files", _set(("predicate", "files"), []), "files must not be empty"),
    ("files not an array", _set(("predicate", "files"), {}), "files must be an array"),
    ("file not an object", _set(FILE0, "fw.bin"), "files[0] must be a JSON object"),
    ("unknown kind", _set((*FILE0, "kind"), "binary"), "kinds are artifact"),
    ("no kind", _pop((*FILE0, "kind")), "files[0].kind is required"),
    ("negative size", _set((*FILE0, "size"), -1), "files[0].size must be at least 0"),
    ("size as text", _set((*FILE0, "size"), "2"), "size must be an integer"),
    ("size as boolean", _set((*FILE0, "size"), True), "size must be an integer"),
    ("no size", _pop((*FILE0, "size")), "size is required"),
    ("no digest", _pop((*FILE0, "digest")), "digest is required"),
    ("no sha256", _pop((*FILE0, "digest", "sha256")), "sha256 is required"),
    ("short sha256", _set((*FILE0, "digest", "sha256"), "ab" * 31), "64 lower-case hex"),
    (
        "upper-case sha256",
        _set((*FILE0, "digest", "sha256"), sha256(b"fw").upper()),
        "64 lower-case hex",
    ),
    ("sha512 of sha256 length", _set((*FILE0, "digest", "sha512"), "a" * 64), "128 lower-case hex"),
    ("md5 digest", _set((*FILE0, "digest", "md5"), "a" * 32), "only sha256 and sha512"),
    ("parent directory", _rename_first_file("../etc/passwd"), "must be a relative path"),
    ("inner parent", _rename_first_file("fw/../../x"), "must be a relative path"),
    ("dot segment", _rename_first_file("./fw.bin"), "must be a relative path"),
    ("absolute", _rename_first_file("/etc/passwd"), "must be a relative path"),
    ("empty segment", _rename_first_file("fw//x.bin"), "must be a relative path"),
    ("trailing slash", _rename_first_file("fw/"), "must be a relative path"),
    ("backslash", _rename_first_file("..\\x.bin"), "must be a relative path"),
    ("newline", _rename_first_file("fw.bin\nx"), "must be a relative path"),
    ("NUL", _rename_first_file("fw.bin\x00.txt"), "must be a relative path"),
    # Python's re (used by the jsonschema library) lets "$" match before a final newline.
    ("trailing newline", _rename_first_file("fw.bin\n"), "must be a relative path"),
    (
        "sha256 + newline",
        _set((*FILE0, "digest", "sha256"), sha256(b"fw") + "\n"),
        "64 lower-case hex",
    ),
    (
        "sha512 + newline",
        _set((*FILE0, "digest", "sha512"), sha512(b"fw") + "\n"),
        "128 lower-case hex",
    ),
    ("date + newline", _set(("predicate", "supportUntil"), "2031-12-31\n"), "must be a date"),
    ("empty name", _rename_first_file(""), "files[0].name must be a non-empty string"),
]


@pytest.mark.parametrize(("change", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_manifests_are_refused_by_python_and_by_the_schema(change, message):
    doc = manifest_doc()
    change(doc)
    with pytest.raises(StatementError, match=message.replace("[", r"\[").replace("]", r"\]")):
        python_check(doc)
    assert schema_errors(doc), "the JSON Schema accepted what the Python validator refuses"


# Rules JSON Schema cannot state (relations between members): only the Python validator
# refuses these. The schema's description says so; this table keeps it honest.
def _duplicate_file(doc):
    doc["predicate"]["files"].append(copy.deepcopy(doc["predicate"]["files"][0]))
    doc["subject"].append(copy.deepcopy(doc["subject"][0]))


PYTHON_ONLY = [
    (
        "subject not a file",
        _set(("subject", 0, "name"), "other.bin"),
        "is not a file of the release",
    ),
    ("subject digest differs", _set(("subject", 0, "digest", "sha256"), "f" * 64), "differs from"),
    ("subject lacks sha512", _pop(("subject", 0, "digest", "sha512")), "differs from"),
    ("file without subject", _pop(("subject", 2)), "'vex.json' is not a subject"),
    ("subject twice", lambda d: d["subject"].append(d["subject"][0]), "is listed twice"),
    ("file twice", _duplicate_file, "is listed twice"),
    # JSON Schema counts 1.0 as an integer; Python's JSON reader gives a float.
    ("size 2.0", _set((*FILE0, "size"), 2.0), "size must be an integer"),
]


@pytest.mark.parametrize(
    ("change", "message"), [b[1:] for b in PYTHON_ONLY], ids=[b[0] for b in PYTHON_ONLY]
)
def test_cross_field_rules_are_python_only(change, message):
    doc = manifest_doc()
    change(doc)
    with pytest.raises(StatementError, match=message):
        python_check(doc)
    assert schema_errors(doc) == []


def test_schema_ships_as_package_data():
    schema = release_manifest_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["predicateType"]["const"] == RELEASE_MANIFEST
    assert schema["$defs"]["fileName"]["description"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ManifestFile("x", "binary", sha256(b""), 0), "kinds are"),  # type: ignore[arg-type]
        (lambda: ManifestFile("x", "sbom", sha256(b""), -1), "non-negative integer"),
        (lambda: ManifestFile("x", "sbom", sha256(b""), True), "non-negative integer"),
        (lambda: ManifestFile("x", "sbom", "00", 0), "sha256 must be 64"),
        (lambda: ManifestFile("x", "sbom", sha256(b""), 0, sha256(b"")), "sha512 must be 128"),
        (lambda: ManifestFile("../x", "sbom", sha256(b""), 0), "relative path"),
        (lambda: ReleaseManifest("a", "b", "1", []), "at least one file"),
        (
            lambda: ReleaseManifest("", "b", "1", [ManifestFile("x", "other", "0" * 64, 0)]),
            "vendor",
        ),
        (
            lambda: ReleaseManifest("a", "b", "1", [ManifestFile("x", "other", "0" * 64, 0)] * 2),
            "'x' is listed twice",
        ),
        (
            lambda: ReleaseManifest(
                "a", "b", "1", [ManifestFile("x", "other", "0" * 64, 0)], datetime.now(UTC)
            ),
            "support_until must be a date",
        ),
    ],
)
def test_builders_refuse_what_the_validator_would(make, message):
    with pytest.raises(StatementError, match=message):
        make()


# --- SLSA provenance v1 -----------------------------------------------------------------------


def provenance() -> dict:
    """Shaped like the example of slsa.dev/spec/v1.0/provenance and GitHub's generator."""
    return {
        "buildDefinition": {
            "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
            "externalParameters": {
                "workflow": {
                    "ref": "refs/tags/v2.4.1",
                    "repository": "https://github.com/acme/router-fw",
                    "path": ".github/workflows/release.yml",
                }
            },
            "internalParameters": {"github": {"event_name": "push"}},
            "resolvedDependencies": [
                {
                    "uri": "git+https://github.com/acme/router-fw@refs/tags/v2.4.1",
                    "digest": {"gitCommit": "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"},
                }
            ],
        },
        "runDetails": {
            "builder": {
                "id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0",
                "version": {"generator": "2.0.0"},
            },
            "metadata": {
                "invocationId": "https://github.com/acme/router-fw/actions/runs/1/attempts/1",
                "startedOn": "2026-01-02T03:04:05Z",
                "finishedOn": "2026-01-02T03:14:05.123456789Z",
            },
            "byproducts": [{"name": "build.log", "digest": {"sha256": sha256(b"log")}}],
        },
    }


def test_valid_provenance():
    validate_provenance(provenance())
    validate_statement(
        Statement((Subject("x", {"sha256": sha256(b"x")}),), SLSA_PROVENANCE, provenance())
    )


def test_minimal_provenance_and_null_optional_fields():
    minimal = {
        "buildDefinition": {"buildType": "https://example.com/bt/v1", "externalParameters": {}},
        "runDetails": {"builder": {"id": "https://example.com/builder"}},
    }
    validate_provenance(minimal)
    minimal["buildDefinition"]["resolvedDependencies"] = None  # unset == null == empty
    minimal["runDetails"]["metadata"] = None
    minimal["runDetails"]["byproducts"] = []
    validate_provenance(minimal)


BAD_PROVENANCE = [
    (_pop(("buildDefinition",)), "predicate.buildDefinition is required"),
    (_pop(("runDetails",)), "predicate.runDetails is required"),
    (_set(("buildDefinition",), []), "buildDefinition must be a JSON object"),
    (_pop(("buildDefinition", "buildType")), "buildType is required"),
    (
        _set(("buildDefinition", "buildType"), "github-workflow"),
        "buildType must be an absolute URI",
    ),
    (_pop(("buildDefinition", "externalParameters")), "externalParameters is required"),
    (
        _set(("buildDefinition", "externalParameters"), "x"),
        "externalParameters must be a JSON object",
    ),
    (
        _set(("buildDefinition", "internalParameters"), []),
        "internalParameters must be a JSON object",
    ),
    (
        _set(("buildDefinition", "resolvedDependencies"), {}),
        "resolvedDependencies must be an array",
    ),
    (
        _set(("buildDefinition", "resolvedDependencies", 0), "git+https://x"),
        r"resolvedDependencies\[0\] must be",
    ),
    (
        _set(("buildDefinition", "resolvedDependencies", 0), {"name": "x"}),
        "needs a uri, a digest or content",
    ),
    (
        _set(("buildDefinition", "resolvedDependencies", 0, "digest"), {"sha256": "xyz"}),
        "sha256 must be 64",
    ),
    (_set(("buildDefinition", "resolvedDependencies", 0, "digest"), {}), "at least one digest"),
    (_set(("buildDefinition", "resolvedDependencies", 0, "uri"), "a b"), "without whitespace"),
    (_pop(("runDetails", "builder")), "runDetails.builder is required"),
    (_pop(("runDetails", "builder", "id")), "builder.id is required"),
    (_set(("runDetails", "builder", "id"), ""), "builder.id must be an absolute URI"),
    (_set(("runDetails", "builder", "version"), {"x": 1}), "version must map names to strings"),
    (_set(("runDetails", "metadata", "startedOn"), "yesterday"), "startedOn must be an RFC 3339"),
    (_set(("runDetails", "metadata", "startedOn"), "2026-01-02 03:04:05Z"), "RFC 3339"),
    (_set(("runDetails", "metadata", "startedOn"), "2026-01-02T03:04:05"), "RFC 3339"),
    (_set(("runDetails", "metadata", "finishedOn"), "2026-01-01T00:00:00Z"), "before startedOn"),
    (_set(("runDetails", "byproducts", 0), 3), r"byproducts\[0\] must be a JSON object"),
]


@pytest.mark.parametrize(("change", "message"), BAD_PROVENANCE)
def test_bad_provenance(change, message):
    doc = provenance()
    change(doc)
    with pytest.raises(StatementError, match=f"slsa provenance: .*{message}"):
        validate_provenance(doc)


# --- SLSA VSA v1 ------------------------------------------------------------------------------

SUBJECTS = [Subject("fw.bin", {"sha256": sha256(b"fw")})]


def vsa(**changes) -> Statement:
    arguments = {
        "subjects": SUBJECTS,
        "verifier_id": "https://clearroom.dev/verifier/v1",
        "time_verified": datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),
        "resource_uri": "pkg:generic/acme/router-fw@2.4.1",
        "policy_uri": "https://clearroom.dev/policies/cra-default",
        "policy_digest": {"sha256": sha256(b"policy")},
        "input_attestations": [
            {"uri": "https://clearroom.dev/a/1.intoto.json", "digest": {"sha256": sha256(b"a")}}
        ],
        "result": "PASSED",
        "verified_levels": ["SLSA_BUILD_LEVEL_3", "SLSA_BUILD_REPRODUCED"],
    }
    arguments.update(changes)
    return make_vsa(**arguments)


def test_make_vsa_layout():
    statement = vsa(dependency_levels={"SLSA_BUILD_LEVEL_3": 5, "SLSA_BUILD_LEVEL_1": 1})
    assert statement.predicate_type == SLSA_VSA
    assert statement.subjects == tuple(SUBJECTS)
    assert statement.predicate == {
        "verifier": {"id": "https://clearroom.dev/verifier/v1"},
        "timeVerified": "2026-03-01T12:00:00Z",
        "resourceUri": "pkg:generic/acme/router-fw@2.4.1",
        "policy": {
            "uri": "https://clearroom.dev/policies/cra-default",
            "digest": {"sha256": sha256(b"policy")},
        },
        "inputAttestations": [
            {"uri": "https://clearroom.dev/a/1.intoto.json", "digest": {"sha256": sha256(b"a")}}
        ],
        "verificationResult": "PASSED",
        "verifiedLevels": ["SLSA_BUILD_LEVEL_3", "SLSA_BUILD_REPRODUCED"],
        "dependencyLevels": {"SLSA_BUILD_LEVEL_3": 5, "SLSA_BUILD_LEVEL_1": 1},
        "slsaVersion": "1.2",  # SLSA_BUILD_REPRODUCED is a verified property of SLSA 1.2
    }
    validate_statement(Statement.parse(statement.to_json()))


def test_make_vsa_time_is_utc_with_z():
    plus_two = timezone(timedelta(hours=2))
    statement = vsa(time_verified=datetime(2026, 3, 1, 14, 0, 0, 250000, tzinfo=plus_two))
    assert statement.predicate["timeVerified"] == "2026-03-01T12:00:00.250000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        vsa(time_verified=datetime(2026, 3, 1))  # noqa: DTZ001


def test_make_vsa_optional_parts():
    statement = vsa(
        policy_digest=None, input_attestations=[], result="FAILED", verified_levels=["FAILED"]
    )
    assert "digest" not in statement.predicate["policy"]
    assert "inputAttestations" not in statement.predicate
    assert "dependencyLevels" not in statement.predicate


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subjects": []}, "at least one subject"),
        ({"verifier_id": "clearroom"}, "verifier.id must be an absolute URI"),
        ({"result": "OK"}, "must be PASSED or FAILED"),
        ({"verified_levels": []}, "verifiedLevels must not be empty"),
        ({"verified_levels": ["SLSA_BUILD_LEVEL3"]}, "values starting SLSA_ are"),
        ({"verified_levels": ["SLSA_BUILD_REPRODUCIBLE"]}, "values starting SLSA_ are"),
        (
            {"verified_levels": ["SLSA_BUILD_LEVEL_2", "SLSA_BUILD_LEVEL_3"]},
            "more than one BUILD level",
        ),
        ({"verified_levels": ["FAILED"]}, "holds FAILED though verificationResult is PASSED"),
        ({"verified_levels": [""]}, "non-empty strings"),
        (
            {"input_attestations": [{"uri": "https://x/a"}]},
            r"inputAttestations\[0\].digest is required",
        ),
        ({"policy_digest": {"sha256": "nope"}}, "policy.digest"),
        ({"dependency_levels": {"SLSA_BUILD_LEVEL_3": -1}}, "must be at least 0"),
        ({"dependency_levels": {"SLSA_BUILD_LEVEL_3": 1.5}}, "must be an integer"),
        ({"dependency_levels": {"SLSA_LEVEL_3": 1}}, "values starting SLSA_ are"),
        ({"slsa_version": "1"}, "slsaVersion must be MAJOR.MINOR"),
        ({"resource_uri": ""}, "resourceUri must be a URI"),
        ({"policy_uri": "has space"}, "policy.uri must be a URI"),
    ],
)
def test_make_vsa_refuses_invalid_summaries(changes, message):
    with pytest.raises(StatementError, match=f"slsa vsa: .*{message}"):
        vsa(**changes)


def test_vsa_levels_custom_values_and_tracks():
    validate_vsa(
        vsa(verified_levels=["SLSA_BUILD_LEVEL_2", "SLSA_SOURCE_LEVEL_3", "ACME_FIPS"]).predicate
    )
    validate_vsa(vsa(verified_levels=["SLSA_SOURCE_TWO_PARTY_REVIEWED"]).predicate)


def test_spec_example_vsa_validates():
    # slsa.dev/spec/v1.0/verification_summary, "Example" (digests made full length)
    validate_vsa(
        {
            "verifier": {"id": "https://example.com/publication_verifier"},
            "timeVerified": "1985-04-12T23:20:50.52Z",
            "resourceUri": "https://example.com/example-1.2.3.tar.gz",
            "policy": {
                "uri": "https://example.com/example_tarball.policy",
                "digest": {"sha256": "1" * 64},
            },
            "inputAttestations": [
                {
                    "uri": "https://example.com/provenances/example-1.2.3.tar.gz.intoto.jsonl",
                    "digest": {"sha256": "a" * 64},
                }
            ],
            "verificationResult": "PASSED",
            "verifiedLevels": ["SLSA_BUILD_LEVEL_3"],
            "dependencyLevels": {
                "SLSA_BUILD_LEVEL_3": 5,
                "SLSA_BUILD_LEVEL_2": 7,
                "SLSA_BUILD_LEVEL_1": 1,
            },
            "slsaVersion": "1.0",
        }
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_pop(("verifier",)), "predicate.verifier is required"),
        (_pop(("verifier", "id")), "verifier.id is required"),
        (_set(("timeVerified",), "2026-03-01"), "timeVerified must be an RFC 3339"),
        (_set(("timeVerified",), "2026-13-01T00:00:00Z"), "timeVerified must be an RFC 3339"),
        (_set(("timeVerified",), 1700000000), "timeVerified must be an RFC 3339"),
        (_pop(("resourceUri",)), "resourceUri is required"),
        (_pop(("policy",)), "policy is required"),
        (_pop(("policy", "uri")), "policy.uri is required"),
        (_pop(("verificationResult",)), "verificationResult is required"),
        (_set(("verificationResult",), "passed"), "must be PASSED or FAILED"),
        (_pop(("verifiedLevels",)), "verifiedLevels is required"),
        (_set(("verifiedLevels",), "SLSA_BUILD_LEVEL_3"), "verifiedLevels must be an array"),
        (_set(("verifiedLevels",), [3]), "non-empty strings"),
        (_set(("inputAttestations",), {}), "inputAttestations must be an array"),
    ],
)
def test_bad_vsa(change, message):
    doc = dict(vsa().predicate)
    doc = json.loads(json.dumps(doc))
    change(doc)
    with pytest.raises(StatementError, match=f"slsa vsa: .*{message}"):
        validate_vsa(doc)


def test_time_verified_is_optional_since_vsa_1_1():
    doc = json.loads(json.dumps(vsa().predicate))
    del doc["timeVerified"]
    validate_vsa(doc)


# --- claims and dispatch ----------------------------------------------------------------------


def test_claim_round_trip():
    statement = make_claim(
        SUBJECTS, "passed penetration test", {"report": "r-17"}, claimant="https://lab.example"
    )
    assert statement.predicate_type == CLAIM
    assert statement.predicate == {
        "claimant": "https://lab.example",
        "claim": "passed penetration test",
        "details": {"report": "r-17"},
    }
    validate_statement(Statement.parse(statement.to_json()))
    assert "details" not in make_claim(SUBJECTS, "deployed", claimant="acme").predicate


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        ({"claim": "x"}, "predicate.claimant is required"),
        ({"claimant": "x"}, "predicate.claim is required"),
        ({"claimant": "x", "claim": " "}, "claim must be a non-empty string"),
        ({"claimant": "x", "claim": 1}, "claim must be a non-empty string"),
        ({"claimant": "x", "claim": "y", "details": ["z"]}, "details must be a JSON object"),
        ({"claimant": "x", "claim": "y", "details": None}, "details must be a JSON object"),
    ],
)
def test_bad_claims(predicate, message):
    with pytest.raises(StatementError, match=f"claim: .*{message}"):
        validate_claim(predicate)


def test_make_claim_checks_its_input():
    with pytest.raises(StatementError, match="at least one subject"):
        make_claim([], "x", claimant="y")
    with pytest.raises(StatementError, match="claimant"):
        make_claim(SUBJECTS, "x", claimant="")


def test_validate_statement_dispatches():
    validate_statement(manifest().to_statement())
    broken = Statement(manifest().to_statement().subjects, RELEASE_MANIFEST, {"files": []})
    with pytest.raises(StatementError, match="release manifest"):
        validate_statement(broken)
    with pytest.raises(StatementError, match="slsa provenance"):
        validate_statement(Statement(tuple(SUBJECTS), SLSA_PROVENANCE, {}))
    with pytest.raises(StatementError, match="slsa vsa"):
        validate_statement(Statement(tuple(SUBJECTS), SLSA_VSA, {}))


def test_key_events_are_validated_by_the_key_registry():
    with pytest.raises(StatementError, match="key event: "):
        validate_statement(Statement(tuple(SUBJECTS), KEY_EVENT, {"action": "add"}))


def test_unknown_predicate_type_names_the_known_ones():
    with pytest.raises(
        StatementError, match=re.escape("unknown predicateType 'https://example.com/x/v1'")
    ) as info:
        validate_statement(Statement(tuple(SUBJECTS), "https://example.com/x/v1", {}))
    for known in (RELEASE_MANIFEST, SLSA_PROVENANCE, SLSA_VSA, CLAIM, KEY_EVENT):
        assert known in str(info.value)


@pytest.mark.parametrize(
    ("result", "levels", "reproduced"),
    [
        ("PASSED", ["SLSA_BUILD_LEVEL_2", "SLSA_BUILD_REPRODUCED"], True),
        ("PASSED", ["SLSA_BUILD_LEVEL_3"], False),
        ("FAILED", ["FAILED"], False),
    ],
)
def test_a_vsa_says_reproduced_only_when_it_passed_with_the_property(
    result: str, levels: list[str], reproduced: bool
) -> None:
    from clearroom.attest.predicates.slsa import reports_reproduced

    predicate = vsa(result=result, verified_levels=levels).predicate
    assert reports_reproduced(predicate) is reproduced
    assert reports_reproduced({**predicate, "verifiedLevels": "oops"}) is False


@pytest.mark.parametrize(
    ("version", "levels", "dependencies"),
    [
        ("1.0", ["SLSA_BUILD_REPRODUCED"], None),
        ("1.1", ["SLSA_BUILD_LEVEL_2", "SLSA_SOURCE_TWO_PARTY_REVIEWED"], None),
        ("1.0", ["SLSA_SOURCE_LEVEL_3"], None),
        ("1.1", ["SLSA_BUILD_LEVEL_3"], {"SLSA_SOURCE_LEVEL_2": 1}),
    ],
)
def test_vsa_claiming_slsa_1_2_values_under_an_older_slsa_version_is_refused(
    version, levels, dependencies
):
    from clearroom.attest.predicates.slsa import reports_reproduced

    with pytest.raises(StatementError, match=f"slsaVersion is {version}, but .* SLSA 1.2"):
        vsa(slsa_version=version, verified_levels=levels, dependency_levels=dependencies)
    written = vsa(verified_levels=levels, dependency_levels=dependencies).predicate
    assert written["slsaVersion"] == "1.2"
    older = {**written, "slsaVersion": version}
    assert reports_reproduced(older) is False  # the showcase does not count it either
    unversioned = {k: v for k, v in written.items() if k != "slsaVersion"}
    validate_vsa(unversioned)  # "an unspecified minor version of 1.x"


def test_vsa_of_another_major_slsa_version_is_refused():
    with pytest.raises(
        StatementError, match=r"slsaVersion is 2\.0; this predicate type is SLSA 1\.x"
    ):
        vsa(slsa_version="2.0", verified_levels=["SLSA_BUILD_LEVEL_3"])
