"""Simple purls skip packageurl's full parse; the shortcut must give exactly what the full
parse gives (target, or error class) for every purl it takes."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from clearroom.vulns import purl as purls
from clearroom.vulns.purl import from_purl

TYPES = [
    "pypi",
    "PyPI",
    "npm",
    "golang",
    "cargo",
    "maven",
    "nuget",
    "gem",
    "composer",
    "pub",
    "hex",
]
PATHS = [
    "django",
    "Django_Rest.Framework",
    "Left-Pad",
    "github.com/Gin-Gonic/gin",
    "golang.org/x/net",
    "org.Apache.commons/Commons-Lang3",
    "Newtonsoft.Json",
    "Laravel/Framework",
    "serde",
    "a/b/c",
]
VERSIONS = [
    "1.0",
    "v1.6.0",
    "2.0.0-rc.1",
    "0.0.0-20210101000000-abcdef012345",
    "1.0+build.5",
    "3!1.0",
]


def _outcome(text, slow):
    saved = purls._SIMPLE_PURL
    if slow:
        purls._SIMPLE_PURL = re.compile(r"(?!)")  # never matches: the full parse
    try:
        return from_purl(text)
    except Exception as exc:  # noqa: BLE001 - the class is what is compared
        return type(exc)
    finally:
        purls._SIMPLE_PURL = saved


def _battery():
    for ptype, path, version in itertools.product(TYPES, PATHS, VERSIONS):
        yield f"pkg:{ptype}/{path}@{version}"
    juice = Path(__file__).resolve().parents[3] / "shared" / "data" / "sbom" / "cyclonedx"
    bom = juice / "SBOM" / "juice-shop" / "v11.1.2" / "bom.json"
    if bom.is_file():
        yield from (c["purl"] for c in json.loads(bom.read_text())["components"] if "purl" in c)


def test_the_shortcut_agrees_with_the_full_parse():
    checked = taken = 0
    for text in _battery():
        checked += 1
        taken += bool(purls._SIMPLE_PURL.fullmatch(text))
        assert _outcome(text, slow=False) == _outcome(text, slow=True), text
    assert checked > 600 and taken > checked // 2


@pytest.mark.parametrize(
    "text",
    ["pkg:npm/%40acme/parser@1.4.0", "pkg:pypi/x@1.0?repository_url=y", "pkg:deb/debian/a@1"],
)
def test_purls_with_escapes_qualifiers_or_distributions_take_the_full_parse(text):
    assert purls._SIMPLE_PURL.fullmatch(text) is None or "deb" in text
    assert _outcome(text, slow=False) == _outcome(text, slow=True)
