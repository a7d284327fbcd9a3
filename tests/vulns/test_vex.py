"""VEX: each format read into the normalised model, written back, checked and resolved."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clearroom.vulns.vex import (
    Justification,
    ProductRef,
    Status,
    VexDocument,
    VexError,
    VexFormat,
    VexStatement,
    applies_to,
    check_minimum,
    dump_vex,
    load_vex,
    resolve,
)
from clearroom.vulns.vex.csaf import filename as csaf_filename

DATA = Path(__file__).resolve().parents[1] / "data" / "vex"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 2, 1, tzinfo=UTC)


def load(name: str) -> VexDocument:
    return load_vex((DATA / name).read_bytes())


def by_vuln(doc: VexDocument) -> dict[str, list[VexStatement]]:
    result: dict[str, list[VexStatement]] = {}
    for s in doc.statements:
        result.setdefault(s.vulnerability, []).append(s)
    return result


# --- OpenVEX ---------------------------------------------------------------------------------


def test_openvex_document_fields_and_every_status():
    doc = load("openvex-all-statuses.json")
    assert doc.format is VexFormat.OPENVEX
    assert (doc.id, doc.author, doc.version) == (
        "https://vex.example.com/public/vex-2024-0001",
        "Example Corp PSIRT",
        "2",
    )
    assert (doc.timestamp, doc.last_updated) == (
        datetime(2024, 1, 10, 9, tzinfo=UTC),
        T1.replace(hour=12),
    )
    assert {s.status for s in doc.statements} == set(Status)
    first = doc.statements[0]
    assert first.aliases == ("GHSA-jfh8-c2jp-5v3q",)
    assert first.justification is Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH
    assert first.impact_statement == "JNDI lookups are disabled in our configuration."
    product = first.products[0]
    assert product.purl == "pkg:oci/app@sha256%3Aabc?repository_url=ghcr.io/example"
    assert product.subcomponents[0].purl == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    affected = doc.statements[1]
    assert affected.action_statement == "Upgrade to left-pad 1.3.1."
    assert affected.products[1].cpe == "cpe:2.3:a:example:widget:2.0:*:*:*:*:*:*:*"
    # statements without a timestamp inherit the document's last update
    assert affected.timestamp == doc.last_updated
    assert first.timestamp == datetime(2024, 1, 10, 9, tzinfo=UTC)


def test_openvex_every_justification_label_is_read():
    doc = load("openvex-all-statuses.json")
    assert {s.justification for s in doc.statements if s.justification} == set(Justification)


def _openvex(**statement: object) -> bytes:
    body = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "x",
        "author": "a",
        "timestamp": "2024-01-01T00:00:00Z",
        "version": 1,
        "statements": [statement],
    }
    return json.dumps(body).encode()


def test_openvex_unknown_status_is_refused_with_the_allowed_values():
    data = _openvex(vulnerability={"name": "CVE-1"}, products=[], status="exploitable")
    with pytest.raises(VexError) as error:
        load_vex(data)
    assert str(error.value) == (
        "OpenVEX: statements[0].status is 'exploitable'; expected one of"
        " not_affected, affected, fixed, under_investigation"
    )


def test_openvex_unknown_justification_is_a_warning():
    data = _openvex(
        vulnerability={"name": "CVE-1"}, products=[], status="not_affected", justification="nope"
    )
    doc = load_vex(data)
    assert doc.statements[0].justification is None
    assert doc.warnings == (
        "OpenVEX: statements[0].justification 'nope' is not an OpenVEX justification; ignored",
    )


def test_openvex_statements_must_be_a_list():
    body = json.loads(_openvex(vulnerability={"name": "CVE-1"}, status="fixed"))
    body["statements"] = {"a": 1}
    with pytest.raises(VexError, match=r"^OpenVEX: document.statements must be a list, not dict$"):
        load_vex(json.dumps(body).encode())


def test_openvex_v0_0_x_bare_strings_are_read():
    data = _openvex(vulnerability="CVE-1", products=["pkg:npm/a@1"], status="fixed")
    statement = load_vex(data).statements[0]
    assert statement.vulnerability == "CVE-1"
    assert statement.products == (ProductRef(id="pkg:npm/a@1", purl="pkg:npm/a@1"),)


# --- CSAF ------------------------------------------------------------------------------------


def test_csaf_product_tree_status_flags_threats_and_remediations():
    doc = load("csaf-vex-mapping.json")
    assert doc.format is VexFormat.CSAF
    assert (doc.id, doc.author, doc.version) == ("EX-VEX-2024-0001", "Example PSIRT", "3")
    assert doc.last_updated == datetime(2024, 3, 1, tzinfo=UTC)
    log4j = by_vuln(doc)["CVE-2021-44228"]
    fixed, not_affected = log4j  # product_status keys in sorted order, as export writes them
    assert not_affected.aliases == ("GHSA-jfh8-c2jp-5v3q",)
    assert not_affected.status is Status.NOT_AFFECTED
    assert not_affected.justification is Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH
    assert not_affected.timestamp == datetime(2024, 2, 1, tzinfo=UTC)  # the flag's date
    gateway = not_affected.products[0]
    assert (gateway.id, gateway.name, gateway.version) == ("GW-42", "Gateway", "4.2")
    assert gateway.purl == "pkg:generic/example/gateway@4.2"
    assert gateway.cpe == "cpe:2.3:a:example:gateway:4.2:*:*:*:*:*:*:*"
    assert gateway.subcomponents == (
        ProductRef(
            id="LOG4J",
            purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            name="log4j-core 2.14.1",
        ),
    )
    assert fixed.status is Status.FIXED
    assert fixed.action_statement == "Fixed in 4.3."
    assert fixed.timestamp == doc.last_updated
    affected, investigating = by_vuln(doc)["CVE-2023-0001"]
    assert (affected.status, affected.action_statement) == (Status.AFFECTED, "Upgrade to 4.3.")
    assert investigating.status is Status.UNDER_INVESTIGATION
    (grouped,) = by_vuln(doc)["CVE-2023-0002"]  # product group expanded, both share details
    assert [p.id for p in grouped.products] == ["GW-42", "GW-43"]
    assert grouped.justification is Justification.COMPONENT_NOT_PRESENT
    assert grouped.impact_statement == "The parser is not shipped."


@pytest.mark.parametrize("label", list(Justification))
def test_csaf_flag_labels_map_one_to_one(label):
    body = json.loads((DATA / "csaf-vex-mapping.json").read_bytes())
    body["vulnerabilities"][2]["flags"][0]["label"] = str(label)
    assert by_vuln(load_vex(json.dumps(body).encode()))["CVE-2023-0002"][0].justification is label


def test_csaf_unknown_product_id_is_a_warning_not_a_crash():
    body = json.loads((DATA / "csaf-vex-mapping.json").read_bytes())
    body["vulnerabilities"][1]["product_status"]["known_affected"].append("GHOST")
    doc = load_vex(json.dumps(body).encode())
    assert doc.warnings == (
        "CSAF: vulnerabilities[1].product_status.known_affected names product 'GHOST',"
        " which the product tree does not define",
    )


def test_csaf_advisory_that_is_not_csaf_vex_is_read_with_a_warning():
    body = json.loads((DATA / "csaf-vex-mapping.json").read_bytes())
    body["document"]["category"] = "csaf_security_advisory"
    doc = load_vex(json.dumps(body).encode())
    assert doc.warnings[0] == (
        "CSAF: document.category is 'csaf_security_advisory', not 'csaf_vex';"
        " product statuses read anyway"
    )


# --- CycloneDX -------------------------------------------------------------------------------


def test_cyclonedx_states_refs_and_versions():
    doc = load("cyclonedx-vex.json")
    assert doc.format is VexFormat.CYCLONEDX
    assert doc.id == "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    assert (doc.author, doc.version, doc.last_updated) == ("Example PSIRT", "4", None)
    s = {k: v[0] for k, v in by_vuln(doc).items()}
    log4j = s["CVE-2021-44228"]
    assert (log4j.status, log4j.justification) == (
        Status.NOT_AFFECTED,
        Justification.VULNERABLE_CODE_NOT_PRESENT,
    )
    assert log4j.impact_statement == "Class removed before shipping."
    assert log4j.aliases == ("GHSA-jfh8-c2jp-5v3q",)
    assert log4j.timestamp == datetime(2024, 2, 1, tzinfo=UTC)  # analysis.lastUpdated
    assert log4j.products == (
        ProductRef(id="product-abc", purl="pkg:generic/example/abc@4.2", name="ABC", version="4.2"),
    )
    jackson = s["CVE-2020-25649"]
    assert jackson.status is Status.AFFECTED
    assert jackson.action_statement == "Upgrade Gateway to 2.4."  # detail, as no recommendation
    assert [(p.version, p.version_range) for p in jackson.products] == [
        ("2.2.0", None),
        (None, "vers:semver/>=2.3.0|<2.4.0"),  # the contradicting "unaffected" entry is dropped
    ]
    fixed = s["CVE-2020-36518"]  # a BOM-Link into this BOM, to a nested component
    assert fixed.status is Status.FIXED
    assert fixed.products[0].id == "gateway"
    assert fixed.products[0].subcomponents[0].name == "jackson-databind"
    elsewhere = s["CVE-2022-0001"]  # a BOM-Link into another BOM, fragment a purl
    assert elsewhere.status is Status.UNDER_INVESTIGATION
    assert elsewhere.products[0].purl == "pkg:maven/org.example/lib@1.0"
    assert s["CVE-2022-0002"].status is Status.NOT_AFFECTED  # false_positive
    hotfix = s["CVE-2022-0011"]
    assert (hotfix.action_statement, hotfix.impact_statement) == (
        "Apply the hotfix.",
        "Remote code execution.",
    )
    assert s["CVE-2022-0012"].status is Status.FIXED  # resolved_with_pedigree
    assert "CVE-2022-0013" not in s
    assert doc.warnings == (
        "CycloneDX: vulnerabilities[1].affects[0].versions[2] contradicts the analysis state;"
        " ignored",
        "CycloneDX: vulnerabilities[14].affects[0].ref 'nowhere' matches no component in this BOM",
        "CycloneDX: vulnerabilities[15] has no analysis.state; not a VEX statement, skipped",
    )


@pytest.mark.parametrize(
    ("cyclonedx", "normalised"),
    [
        ("code_not_present", Justification.VULNERABLE_CODE_NOT_PRESENT),
        ("code_not_reachable", Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH),
        ("requires_configuration", Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY),
        ("requires_dependency", Justification.COMPONENT_NOT_PRESENT),
        ("requires_environment", Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY),
        ("protected_by_compiler", Justification.INLINE_MITIGATIONS_ALREADY_EXIST),
        ("protected_at_runtime", Justification.INLINE_MITIGATIONS_ALREADY_EXIST),
        ("protected_at_perimeter", Justification.INLINE_MITIGATIONS_ALREADY_EXIST),
        ("protected_by_mitigating_control", Justification.INLINE_MITIGATIONS_ALREADY_EXIST),
    ],
)
def test_cyclonedx_justifications_map_onto_the_cisa_labels(cyclonedx, normalised):
    doc = load("cyclonedx-vex.json")
    found = [s for s in doc.statements if s.justification is normalised]
    assert found
    body = json.loads((DATA / "cyclonedx-vex.json").read_bytes())
    body["vulnerabilities"] = [body["vulnerabilities"][5]]
    body["vulnerabilities"][0]["analysis"]["justification"] = cyclonedx
    assert load_vex(json.dumps(body).encode()).statements[0].justification is normalised


def test_cyclonedx_unknown_state_is_refused():
    body = json.loads((DATA / "cyclonedx-vex.json").read_bytes())
    body["vulnerabilities"][0]["analysis"]["state"] = "maybe"
    with pytest.raises(
        VexError, match=r"^CycloneDX: vulnerabilities\[0\].analysis.state is 'maybe'"
    ):
        load_vex(json.dumps(body).encode())


def test_cyclonedx_sbom_without_analysis_is_not_vex():
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}
    with pytest.raises(VexError) as error:
        load_vex(json.dumps(bom).encode())
    assert str(error.value) == (
        "CycloneDX: no vulnerabilities[] entry has an analysis, so this BOM makes no VEX"
        " statements; add vulnerabilities[].analysis.state (and affects[].ref) to each"
    )


def test_cyclonedx_xml_is_read_like_json():
    doc = load("cyclonedx-vex.xml")
    assert (doc.id, doc.version, doc.author) == (
        "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "2",
        "Example Inc.",
    )
    first, second = doc.statements
    assert first.justification is Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH
    assert first.impact_statement == "JNDI is never reached."
    assert first.aliases == ("GHSA-jfh8-c2jp-5v3q",)
    assert second.action_statement == "Upgrade to 4.3."
    assert second.products[0].version_range == "vers:generic/>=4.0|<4.3"


@pytest.mark.parametrize("attack", ["attack-billion-laughs.xml", "attack-xxe-external-entity.xml"])
def test_cyclonedx_xml_attacks_are_refused(attack):
    with pytest.raises(VexError) as error:
        load(attack)
    assert str(error.value).startswith("CycloneDX XML: refused: the document declares a DTD")


def test_xml_that_is_not_cyclonedx_is_refused():
    with pytest.raises(VexError, match=r"^CycloneDX XML: the root element is 'svg'"):
        load_vex(b"<svg/>")
    with pytest.raises(VexError, match=r"^CycloneDX XML: not well-formed XML"):
        load_vex(b"<bom")


# --- detection and hostile JSON ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{}", "VEX: not a VEX document: expected OpenVEX"),
        (b"[1]", "VEX: not a VEX document"),
        (b"{", "VEX: not valid JSON"),
        (b'{"a": 1, "a": 2}', "VEX: duplicate key 'a' in a JSON object"),
        (b'{"a": NaN}', "VEX: NaN is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "VEX: JSON is nested too deeply"),
    ],
)
def test_invalid_documents_are_refused_with_a_reason(data, message):
    with pytest.raises(VexError) as error:
        load_vex(data)
    assert str(error.value).startswith(message)


def test_oversized_document_is_refused_before_parsing():
    with pytest.raises(VexError, match=r"^VEX: the document is 11 bytes; the limit is 10$"):
        load_vex(b" " * 11, max_bytes=10)


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "fmt"),
    [
        ("openvex-all-statuses.json", VexFormat.OPENVEX),
        ("csaf-vex-mapping.json", VexFormat.CSAF),
        ("cyclonedx-vex.json", VexFormat.CYCLONEDX),
        ("cyclonedx-vex.xml", VexFormat.CYCLONEDX),
    ],
)
def test_round_trip_in_the_same_format(fixture, fmt):
    doc = load(fixture)
    again = load_vex(dump_vex(doc, fmt))
    assert again == doc


def _portable() -> VexDocument:
    """Fields every format carries: ids, purls/CPEs, subcomponents, all statuses and texts."""
    app = ProductRef(id="app", purl="pkg:oci/app@sha256%3Aabc")
    lib = ProductRef(id="log4j", purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    return VexDocument(
        id="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        author="Example PSIRT",
        version="7",
        timestamp=T0,
        last_updated=T0,
        format=VexFormat.OPENVEX,
        statements=(
            VexStatement(
                vulnerability="CVE-2021-44228",
                aliases=("GHSA-jfh8-c2jp-5v3q",),
                products=(replace(app, subcomponents=(lib,)),),
                status=Status.NOT_AFFECTED,
                justification=Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
                impact_statement="JNDI is disabled.",
                timestamp=T1,
            ),
            *(
                VexStatement(
                    vulnerability=f"CVE-2024-000{n}",
                    products=(app,),
                    status=Status.NOT_AFFECTED,
                    justification=j,
                    timestamp=T0,
                )
                for n, j in enumerate(Justification)
            ),
            VexStatement(
                vulnerability="CVE-2024-1000",
                products=(app, ProductRef(id="w", cpe="cpe:2.3:a:example:w:2.0:*:*:*:*:*:*:*")),
                status=Status.AFFECTED,
                action_statement="Upgrade to 2.1.",
                timestamp=T0,
            ),
            VexStatement(
                vulnerability="CVE-2024-1001", products=(app,), status=Status.FIXED, timestamp=T0
            ),
            VexStatement(
                vulnerability="CVE-2024-1002",
                products=(app,),
                status=Status.UNDER_INVESTIGATION,
                timestamp=T0,
            ),
        ),
    )


def _supported(doc: VexDocument) -> tuple[object, ...]:
    """What survives any format: document identity and per statement everything but names."""

    def product(p: ProductRef) -> tuple[object, ...]:
        return (p.id, p.purl, p.cpe, tuple(product(s) for s in p.subcomponents))

    return (
        doc.id,
        doc.author,
        doc.version,
        doc.timestamp,
        tuple(
            (
                s.vulnerability,
                s.aliases,
                tuple(product(p) for p in s.products),
                s.status,
                s.justification,
                s.impact_statement,
                s.action_statement,
                s.timestamp,
            )
            for s in doc.statements
        ),
    )


@pytest.mark.parametrize("fmt", list(VexFormat))
def test_round_trip_through_every_format(fmt):
    doc = _portable()
    again = load_vex(dump_vex(doc, fmt))
    assert again.format is fmt
    assert _supported(again) == _supported(doc)
    assert check_minimum(again) == []


def test_csaf_export_is_a_csaf_vex_document():
    body = json.loads(dump_vex(_portable(), VexFormat.CSAF, namespace="https://psirt.example"))
    assert body["document"]["category"] == "csaf_vex"
    assert body["document"]["publisher"]["namespace"] == "https://psirt.example"
    first = body["vulnerabilities"][0]
    assert first["cve"] == "CVE-2021-44228"
    assert first["product_status"] == {"known_not_affected": ["app:log4j"]}
    assert first["flags"][0]["label"] == "vulnerable_code_not_in_execute_path"
    assert body["product_tree"]["relationships"][0]["relates_to_product_reference"] == "app"


NO_SCORE = frozenset({"optionalTest_6_2_3"})
"""CSAF 6.2.3 wants a CVSS score for each affected product; VEX carries none to write."""


@pytest.mark.parametrize(
    "name", ["openvex-all-statuses.json", "csaf-vex-mapping.json", "cyclonedx-vex.json", None]
)
def test_csaf_vex_passes_oasis_validator_mandatory_and_optional(oasis_csaf, name):
    doc = load(name) if name else _portable()
    base = "https://psirt.example/.well-known/csaf/white/2024/"
    body = dump_vex(
        doc,
        VexFormat.CSAF,
        namespace="https://psirt.example",
        canonical_url=base + csaf_filename(doc.id or ""),
        lang="en",
        tlp="WHITE",
    )
    unnamed = any(not (p.purl or p.cpe) for s in doc.statements for p in s.products)
    no_helper = {"optionalTest_6_2_16"} if unnamed else set()  # nothing to identify them by
    assert oasis_csaf.problems(body, allow=NO_SCORE | no_helper) == []
    written = json.loads(body)
    assert all(
        v["notes"][0]["text"].startswith("VEX status of") for v in written["vulnerabilities"]
    )
    again = load_vex(body)  # the remediation written for 6.2.2 is not read as an action
    assert {s.action_statement for s in again.statements} == {
        s.action_statement for s in doc.statements
    }


def test_csaf_export_revision_history_has_every_version_from_one():
    body = json.loads(dump_vex(_portable(), VexFormat.CSAF))  # version 7
    history = body["document"]["tracking"]["revision_history"]
    assert [r["number"] for r in history] == [str(n) for n in range(1, 8)]
    assert load_vex(json.dumps(body).encode()).version == "7"


# --- CISA minimum elements -------------------------------------------------------------------


def test_minimum_elements_complete_document_passes():
    assert check_minimum(load("openvex-all-statuses.json")) == []
    assert check_minimum(load("csaf-vex-mapping.json")) == []


def test_minimum_elements_messages_say_what_to_add():
    doc = VexDocument(
        id=None,
        author=None,
        version=None,
        timestamp=None,
        last_updated=None,
        format=VexFormat.OPENVEX,
        statements=(
            VexStatement(vulnerability="", products=(), status=Status.FIXED),
            VexStatement(
                vulnerability="CVE-1", products=(ProductRef(id="p"),), status=Status.NOT_AFFECTED
            ),
            VexStatement(
                vulnerability="CVE-2", products=(ProductRef(id="p"),), status=Status.AFFECTED
            ),
            VexStatement(
                vulnerability="CVE-3",
                products=(ProductRef(id="p"),),
                status=Status.NOT_AFFECTED,
                impact_statement="Not loaded.",
            ),
        ),
    )
    assert check_minimum(doc) == [
        "document: add a document id (@id)",
        "document: add a document version (version)",
        "document: add the author (author)",
        "document: add the time it was issued (timestamp)",
        "statement 1 (no vulnerability, fixed): add the vulnerability id, e.g. a CVE"
        " (vulnerability.name)",
        "statement 1 (no vulnerability, fixed): add the product it is about"
        " (products[] (@id or identifiers.purl/cpe23))",
        "statement 2 (CVE-1, not_affected): add a justification (justification: one of"
        " component_not_present, vulnerable_code_not_present,"
        " vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary,"
        " inline_mitigations_already_exist) or an impact statement (impact_statement) saying why"
        " it is not affected",
        "statement 3 (CVE-2, affected): add an action statement (action_statement) saying what"
        " users should do",
    ]


def test_minimum_elements_use_the_documents_own_field_names():
    doc = replace(load("cyclonedx-vex.xml"), id=None, statements=())
    assert check_minimum(doc) == [
        "document: add a document id (serialNumber)",
        "document: add at least one statement",
    ]
    csaf = replace(load("csaf-vex-mapping.json"), author=None)
    assert check_minimum(csaf) == ["document: add the author (document.publisher.name)"]


# --- applies_to and resolution -------------------------------------------------------------


def _stmt(*products: ProductRef, status=Status.NOT_AFFECTED, when=T0, vuln="CVE-1"):
    return VexStatement(vulnerability=vuln, products=products, status=status, timestamp=when)


@pytest.mark.parametrize(
    ("product", "purl", "version", "expected"),
    [
        (ProductRef(purl="pkg:npm/a@1.0.0"), "pkg:npm/a@1.0.0", None, True),
        (ProductRef(purl="pkg:npm/a@1.0.0?arch=x86"), "pkg:npm/a@1.0.0?arch=arm", None, True),
        (ProductRef(purl="pkg:npm/a@1.0.0"), "pkg:npm/a@1.0.1", None, False),
        (ProductRef(purl="pkg:npm/a@1.0.0"), "pkg:npm/a", "1.0.0", True),
        (ProductRef(purl="pkg:npm/a@1.0.0"), "pkg:npm/a", None, False),
        (ProductRef(purl="pkg:npm/a"), "pkg:npm/a@9", None, True),
        (ProductRef(purl="pkg:npm/a", version="2.0"), "pkg:npm/a@2.0", None, True),
        (ProductRef(purl="pkg:npm/a", version="2.0"), "pkg:npm/a@2.1", None, False),
        (ProductRef(purl="pkg:npm/b@1.0.0"), "pkg:npm/a@1.0.0", None, False),
        (ProductRef(purl="pkg:pypi/Foo_Bar@1"), "pkg:pypi/foo-bar@1", None, True),
        (
            ProductRef(purl="pkg:npm/a", version_range="vers:semver/>=1.0.0|<2.0.0"),
            "pkg:npm/a@1.5.0",
            None,
            True,
        ),
        (
            ProductRef(purl="pkg:npm/a", version_range="vers:semver/>=1.0.0|<2.0.0"),
            "pkg:npm/a@2.0.0",
            None,
            False,
        ),
        (
            ProductRef(purl="pkg:npm/a", version_range="vers:semver/>=1.0.0|<2.0.0"),
            "pkg:npm/a@2.0.0-rc1",
            None,
            True,
        ),
        (
            ProductRef(purl="pkg:npm/a", version_range="vers:generic/<1.5|>=7"),
            "pkg:npm/a@8",
            None,
            True,
        ),
        (
            ProductRef(purl="pkg:npm/a", version_range="vers:generic/<1.5|>=7"),
            "pkg:npm/a@3",
            None,
            False,
        ),
        (
            ProductRef(purl="pkg:npm/a", version_range="vers:generic/2.5"),
            "pkg:npm/a@2.5.0",
            None,
            True,
        ),
        (
            ProductRef(purl="pkg:npm/a", version_range="vers:semver/>=1.0.0"),
            "pkg:npm/a",
            None,
            False,
        ),
        (ProductRef(name="a", version="1"), "pkg:npm/a@1", None, False),
    ],
)
def test_applies_to(product, purl, version, expected):
    assert applies_to(_stmt(product), purl, version) is expected


def test_applies_to_subcomponents():
    lib = ProductRef(purl="pkg:maven/org.example/lib@1.0")
    statement = _stmt(ProductRef(purl="pkg:oci/app", subcomponents=(lib,)))
    assert applies_to(statement, "pkg:maven/org.example/lib@1.0")
    assert applies_to(statement, "pkg:oci/app@sha256:1")


def test_applies_to_refuses_a_bad_purl():
    with pytest.raises(VexError, match=r"^VEX: 'nope' is not a valid package URL"):
        applies_to(_stmt(ProductRef(purl="pkg:npm/a")), "nope")


def test_resolve_newest_wins_and_conflicts_are_kept():
    a = ProductRef(purl="pkg:npm/a@1.0.0?arch=x86")
    b = ProductRef(purl="pkg:npm/b@2.0.0")
    old = _stmt(a, b, status=Status.UNDER_INVESTIGATION, when=T0)
    new = _stmt(a, status=Status.NOT_AFFECTED, when=T1)
    other = _stmt(a, status=Status.AFFECTED, when=T0, vuln="CVE-2")
    result = resolve([new, old, other])
    assert result.current == {
        ("CVE-1", "pkg:npm/a@1.0.0"): new,
        ("CVE-1", "pkg:npm/b@2.0.0"): old,
        ("CVE-2", "pkg:npm/a@1.0.0"): other,
    }
    assert result.conflicts == {("CVE-1", "pkg:npm/a@1.0.0"): (old, new)}


def test_resolve_same_time_later_in_order_wins_and_agreement_is_no_conflict():
    a = ProductRef(purl="pkg:npm/a@1")
    first, second = _stmt(a, status=Status.AFFECTED), _stmt(a, status=Status.FIXED)
    assert resolve([first, second]).current[("CVE-1", "pkg:npm/a@1")] is second
    undated = _stmt(a, status=Status.AFFECTED, when=None)
    assert resolve([second, undated]).current[("CVE-1", "pkg:npm/a@1")] is second
    same = resolve([_stmt(a), _stmt(a, when=T1)])
    assert same.conflicts == {}


def test_resolve_distinguishes_versions_and_ranges():
    doc = load("cyclonedx-vex.json")
    keys = {key for key in resolve(doc.statements).current if key[0] == "CVE-2020-25649"}
    assert keys == {
        ("CVE-2020-25649", "pkg:generic/example/gateway@2.2.0"),
        ("CVE-2020-25649", "pkg:generic/example/gateway vers:semver/>=2.3.0|<2.4.0"),
    }
