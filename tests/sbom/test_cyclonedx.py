"""CycloneDX JSON and XML: one quirky fixture per encoding, and the XML attacks refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clearroom.sbom import SbomError, load_sbom
from clearroom.sbom.cyclonedx import MAX_NESTING

DATA = Path(__file__).resolve().parents[1] / "data" / "sbom"


def test_json_quirks_become_warnings_not_errors():
    sbom = load_sbom(DATA / "cyclonedx-1.6-quirks.json")
    assert (sbom.format, sbom.spec_version) == ("cyclonedx", "1.6")
    assert sbom.serial == "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    assert sbom.created == datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=UTC)
    assert sbom.authors == ("Release Team",)
    assert sbom.tools == ("@cyclonedx cdxgen 10.0.0",)  # the 1.5+ tools object
    assert sbom.vulnerabilities == 1
    assert sbom.subject is not None and sbom.subject.supplier == "Example Ltd"

    express, body_parser, broken, duplicate, nameless = sbom.components
    assert express.hashes == {"sha512": "abcdef01", "sha3-256": "0123", "blake2b-256": "4567"}
    assert express.licences == ("MIT", "Custom licence")
    assert express.cpes == ("cpe:2.3:a:expressjs:express:4.18.2:*:*:*:*:node.js:*:*",)
    assert express.filename == "express-4.18.2.tgz"  # BSI taxonomy property
    assert express.group is None  # "" is no group
    assert body_parser.licences == ("MIT OR Apache-2.0",)  # nested, with an expression
    assert (broken.purl, broken.version, broken.swid) == (None, "1.0", "swidgen-broken-1.0")
    assert broken.scope == "optional"
    assert duplicate.ref != express.ref and duplicate.name == "express-duplicate"
    assert nameless.name == ""

    assert sbom.dependencies == {
        "app": ("pkg:npm/express@4.18.2", "broken-purl"),
        "pkg:npm/express@4.18.2": ("pkg:npm/body-parser@1.20.1",),  # nesting and dependsOn
    }
    assert sbom.paths_to("pkg:npm/body-parser@1.20.1") == [
        ["app", "pkg:npm/express@4.18.2", "pkg:npm/body-parser@1.20.1"]
    ]
    warnings = "\n".join(sbom.warnings)
    for expected in (
        "components[0]: hash without alg or content",
        "components[1]: malformed purl 'not-a-purl' dropped",
        "duplicate ref 'pkg:npm/express@4.18.2'",
        "components[3]: component is not an object",
        "components[4]: component without a name",
        "dependency without a ref",
    ):
        assert expected in warnings


def test_xml_reads_like_json():
    sbom = load_sbom(DATA / "cyclonedx-1.4.xml")
    assert (sbom.format, sbom.spec_version, sbom.authors) == ("cyclonedx", "1.4", ("Release Team",))
    assert sbom.tools == ("CycloneDX cyclonedx-maven-plugin 2.7.9",)
    core, inner, no_ref = sbom.components
    assert core.group == "org.example" and core.name == "core"  # CDATA
    assert core.hashes == {"sha256": "aaaa", "sha512": "bbbb"}
    assert core.licences == ("Apache-2.0", "MIT OR GPL-2.0-only")
    assert core.supplier == "Example Org"  # publisher, for want of a supplier
    assert core.scope == "required"
    assert no_ref.ref == "pkg:generic/no-ref@3"  # no bom-ref: the purl stands in
    assert sbom.dependencies == {
        "app": ("pkg:maven/org.example/core@1.0?type=jar",),
        "pkg:maven/org.example/core@1.0?type=jar": ("inner",),
    }
    assert inner.ref in {r for targets in sbom.dependencies.values() for r in targets}
    assert sbom.warnings == ()


def nested_xml(depth: int) -> bytes:
    """A CycloneDX XML document whose components nest ``depth`` levels deep."""
    head = '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>'
    opening = "".join(
        f'<component type="library"><name>c{i}</name><version>1.0</version><components>'
        for i in range(depth)
    )
    return (head + opening + "</components></component>" * depth + "</components></bom>").encode()


@pytest.mark.parametrize("depth", [300, 20_000])
def test_cyclonedx_xml_nested_300_deep_is_capped_with_warning(depth):
    sbom = load_sbom(nested_xml(depth))
    assert len(sbom.components) == MAX_NESTING + 1  # as the JSON reader: levels 0..32
    assert sbom.warnings == (f"components nested deeper than {MAX_NESTING} ignored",)
    json_shape = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}
    level = json_shape["components"]
    for i in range(40):
        level.append({"type": "library", "name": f"c{i}", "version": "1.0", "components": []})
        level = level[0]["components"]
    from_json = load_sbom(json.dumps(json_shape).encode())
    assert [c.name for c in from_json.components] == [c.name for c in sbom.components]
    assert from_json.warnings == sbom.warnings


@pytest.mark.parametrize("attack", ["billion-laughs.xml", "external-entity.xml"])
def test_xml_entity_attacks_are_refused(attack):
    with pytest.raises(SbomError, match="DTD or entity declarations refused"):
        load_sbom(DATA / attack)


def test_xml_entity_attacks_are_refused_from_bytes_as_well():
    bomb = (DATA / "billion-laughs.xml").read_bytes()
    with pytest.raises(SbomError, match="refused"):
        load_sbom(bomb)


def test_xml_that_is_not_cyclonedx_is_refused():
    with pytest.raises(SbomError, match="not a CycloneDX bom"):
        load_sbom(b"<html><body/></html>")
    with pytest.raises(SbomError, match="invalid or truncated XML"):
        load_sbom((DATA / "cyclonedx-1.4.xml").read_bytes()[:700])


def test_streaming_gives_the_same_sbom_as_loading():
    path = DATA / "cyclonedx-1.6-quirks.json"
    assert load_sbom(path, stream_above=0) == load_sbom(path)


def test_streaming_reads_keys_written_after_the_components(tmp_path):
    path = tmp_path / "late-header.json"
    path.write_text(
        '{"components": [{"name": "a", "version": "1", "purl": "pkg:pypi/a@1"}],'
        ' "bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": "urn:uuid:x",'
        ' "metadata": {"timestamp": "2024-01-01T00:00:00Z"}}'
    )
    streamed = load_sbom(path, stream_above=0)
    assert streamed == load_sbom(path)
    assert (streamed.spec_version, streamed.serial) == ("1.5", "urn:uuid:x")
    assert [c.purl for c in streamed.components] == ["pkg:pypi/a@1"]
