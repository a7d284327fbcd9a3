"""SPDX 2.3 JSON, 2.2 tag-value and 3.0.1 JSON-LD, each with the quirks real documents have."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clearroom.sbom import SbomError, load_sbom

DATA = Path(__file__).resolve().parents[1] / "data" / "sbom"


def test_spdx_2_3_json():
    sbom = load_sbom(DATA / "spdx-2.3.json")
    assert (sbom.format, sbom.spec_version) == ("spdx", "2.3")
    assert sbom.serial == "https://example.org/spdx/shop-2.0.0-1"
    assert sbom.created == datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=UTC)
    assert sbom.authors == ("Example Ltd (security@example.org)",)
    assert sbom.tools == ("syft-1.0.0",)
    assert sbom.vulnerabilities == 0  # a SECURITY cpe23Type is an identifier, not an advisory
    shop = sbom.subject
    assert shop is not None and shop.ref == "SPDXRef-shop"
    assert (shop.supplier, shop.filename, shop.type) == (
        "Example Ltd",
        "shop-2.0.0.tar.gz",
        "application",
    )
    assert shop.licences == ("Apache-2.0",)  # NOASSERTION dropped
    assert shop.hashes == {"sha512": "abcd"}
    requests, urllib3, pytest_ = sbom.components
    assert requests.purl == "pkg:pypi/requests@2.31.0"
    assert requests.cpes == ("cpe:2.3:a:python:requests:2.31.0:*:*:*:*:*:*:*",)
    assert requests.hashes == {"sha256": "ff", "sha3-256": "ee"}
    assert requests.supplier == "Kenneth Reitz"  # NOASSERTION supplier: the originator
    assert urllib3.purl is None
    assert any("packages[2]: malformed purl 'pkg:pypi/@2.0.7'" in w for w in sbom.warnings)
    assert any("creator 'nonsense'" in w for w in sbom.warnings)
    # DEPENDS_ON forward; DEPENDENCY_OF and TEST_DEPENDENCY_OF turned round; others ignored
    assert sbom.dependencies == {
        "SPDXRef-shop": ("SPDXRef-requests", "SPDXRef-pytest"),
        "SPDXRef-requests": ("SPDXRef-urllib3",),
    }
    assert sbom.paths_to("SPDXRef-urllib3") == [
        ["SPDXRef-shop", "SPDXRef-requests", "SPDXRef-urllib3"]
    ]
    assert pytest_.version == "8.0.0"


def test_spdx_2_2_tag_value():
    sbom = load_sbom(DATA / "spdx-2.2.spdx")
    assert (sbom.format, sbom.spec_version) == ("spdx", "2.2")
    assert sbom.authors == ("Jane Doe (jane@example.org)",)
    assert sbom.tools == ("hand-written",)
    hello = sbom.subject
    assert hello is not None
    assert (hello.name, hello.version, hello.supplier) == ("hello", "1.0", "Hello Inc")
    assert hello.purl == "pkg:golang/example.org/hello@1.0"
    assert hello.hashes == {"sha1": "78ed46e8e6f86f19d3a6782979029be5f918235f"}
    assert hello.licences == ("GPL-3.0-or-later AND LicenseRef-Golang-BSD-plus-Patents",)
    # <text> blocks that look like tags are not packages; files are not components
    assert [c.name for c in sbom.components] == ["fmt"]
    assert sbom.dependencies == {
        "SPDXRef-Package-fmt": ("SPDXRef-Package-hello",),
        "SPDXRef-Package-hello": ("SPDXRef-Package-fmt",),
    }
    assert sbom.warnings == ()


def test_spdx_tag_value_without_a_version_is_not_an_sbom():
    with pytest.raises(SbomError, match="SPDXVersion"):
        load_sbom(b"PackageName: x\nSPDXVersion:\n")


def test_spdx_3_json_ld():
    sbom = load_sbom(DATA / "spdx-3.0.1.json")
    assert (sbom.format, sbom.spec_version, sbom.serial) == ("spdx", "3.0.1", "urn:doc:1")
    assert (sbom.authors, sbom.tools) == (("Jane Doe",), ("spdx-gen 1.0",))
    app = sbom.subject
    assert app is not None and app.ref == "urn:pkg:app"  # software_Sbom.rootElement
    assert (app.supplier, app.type, app.licences) == ("ACME", "application", ("MIT",))
    assert app.hashes == {"sha512": "ab"}
    lib, model = sbom.components  # the software_File is not a component
    assert lib.purl == "pkg:pypi/lib@2.1" and lib.cpes[0].startswith("cpe:2.3:a:acme:lib")
    assert lib.licences == ("MIT AND Apache-2.0",)
    assert lib.supplier == "ACME"  # originatedBy, for want of suppliedBy
    assert lib.hashes == {"sha3-256": "cd"}
    assert (model.type, model.purl, model.licences) == ("machine-learning-model", None, ())
    assert any("malformed purl" in w for w in sbom.warnings)
    assert sbom.dependencies == {"urn:pkg:app": ("urn:pkg:lib", "urn:pkg:model")}
