"""load_sbom: format by content, clear errors for what is not an SBOM, bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packageurl import PackageURL

from clearroom.errors import ClearroomError
from clearroom.sbom import SbomError, load_sbom
from clearroom.sbom._common import _PLAIN_PURL, hash_algorithm

DATA = Path(__file__).resolve().parents[1] / "data" / "sbom"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x7fELF\x02\x01\x01" + bytes(64), "not a CycloneDX or SPDX document"),
        (b"", "not a CycloneDX or SPDX document"),
        (b'{"name": "package.json"}', "neither CycloneDX nor SPDX"),
        (b'{"bomFormat": "SPDX"}', "unknown bomFormat"),
        (b"[1, 2]", "not an object"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"na', "truncated JSON"),
        (b"[" * 100_000, "truncated JSON"),
    ],
)
def test_what_is_not_an_sbom_says_so(data, message):
    with pytest.raises(SbomError, match=message) as raised:
        load_sbom(data)
    assert isinstance(raised.value, ClearroomError)
    assert str(raised.value).startswith("SBOM: ")


def test_truncated_json_is_an_error_when_streamed_too(tmp_path):
    path = tmp_path / "truncated.json"
    path.write_bytes((DATA / "cyclonedx-1.6-quirks.json").read_bytes()[:1500])
    with pytest.raises(SbomError, match="truncated JSON"):
        load_sbom(path)
    with pytest.raises(SbomError, match="truncated JSON"):
        load_sbom(path, stream_above=0)


def test_size_limit(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes((DATA / "cyclonedx-1.6-quirks.json").read_bytes())
    with pytest.raises(SbomError, match="over the 100 byte limit"):
        load_sbom(path, max_bytes=100)
    with pytest.raises(SbomError, match="over the 100 byte limit"):
        load_sbom(path.read_bytes(), max_bytes=100)
    with pytest.raises(SbomError, match="cannot read"):
        load_sbom(tmp_path / "missing.json")


def test_bytes_and_paths_and_a_utf8_bom_give_the_same_result():
    path = DATA / "spdx-2.3.json"
    assert load_sbom(path) == load_sbom(str(path)) == load_sbom(b"\xef\xbb\xbf" + path.read_bytes())


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("SHA-256", "sha256"),
        ("SHA1", "sha1"),
        ("sha-512", "sha512"),
        ("SHA3_384", "sha3-384"),
        ("SHA3-512", "sha3-512"),
        ("BLAKE2b-256", "blake2b-256"),
        ("MD5", "md5"),
    ],
)
def test_hash_algorithm_names(name, normalised):
    assert hash_algorithm(name) == normalised


def test_the_fast_purl_check_accepts_only_what_packageurl_accepts():
    candidates = [
        "pkg:npm/%40angular/core@12.0.0",
        "pkg:maven/org.apache/commons@1.0?type=jar&classifier=x",
        "pkg:pypi/Django@4.2",
        "pkg:golang/github.com/a/b@v1.2.3+incompatible",
        "pkg:deb/debian/curl@7.0:1-2",
        "pkg:npm/a:b@1",
        "pkg:generic/./..@1",
        "pkg:npm/x@1?a=%",
        "pkg:npm/x@1?a=b&c=d",
        "pkg:n.p-m_/x",
        "pkg:npm/x@1!2",
        "pkg:npm/~x@~1",
    ]
    for purl in candidates:
        if _PLAIN_PURL.fullmatch(purl):
            PackageURL.from_string(purl)  # raises if the fast path were too lenient


def test_malformed_purls_keep_their_component():
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [
            {"name": "a", "purl": "pkg:1npm/a@1"},
            {"name": "b", "purl": "pkg:npm/b@1?novalue"},
            {"name": "c", "purl": 42},
            {"name": "d", "purl": " pkg:npm/d@1 "},
        ],
    }
    sbom = load_sbom(json.dumps(bom).encode())
    assert [(c.name, c.purl) for c in sbom.components] == [
        ("a", None),
        ("b", None),
        ("c", None),
        ("d", "pkg:npm/d@1"),
    ]
    assert len(sbom.warnings) == 3


def test_warnings_are_bounded():
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [{"name": f"c{i}", "purl": f"bad{i}"} for i in range(500)],
    }
    sbom = load_sbom(json.dumps(bom).encode())
    assert len(sbom.components) == 500
    assert len(sbom.warnings) == 51
    assert sbom.warnings[-1] == "450 further warnings not kept"


_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from clearroom.sbom import load_sbom
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sbom = load_sbom(sys.argv[1])
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
    print(json.dumps([len(sbom.components), len(sbom.dependencies), grown]))
    """
)


def _write_large_cyclonedx(path: Path, target_bytes: int) -> int:
    with path.open("w") as f:
        f.write(
            '{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"timestamp":'
            ' "2024-01-01T00:00:00Z", "component": {"bom-ref": "root", "name": "root"}},'
            ' "components": ['
        )
        count = size = 0
        while size < target_bytes:
            ref = f"pkg:npm/pkg-{count}@1.{count % 97}.0"
            line = json.dumps(
                {
                    "type": "library",
                    "bom-ref": ref,
                    "name": f"pkg-{count}",
                    "version": f"1.{count % 97}.0",
                    "description": "padding that real SBOMs carry as descriptions " * 4,
                    "hashes": [{"alg": "SHA-512", "content": f"{count:0128x}"}],
                    "licenses": [{"license": {"id": "MIT"}}],
                    "purl": ref,
                }
            )
            f.write(("," if count else "") + line)
            size, count = size + len(line) + 1, count + 1
        f.write('], "dependencies": [')
        for i in range(count - 1):
            dependency = {
                "ref": f"pkg:npm/pkg-{i}@1.{i % 97}.0",
                "dependsOn": [f"pkg:npm/pkg-{i + 1}@1.{(i + 1) % 97}.0"],
            }
            f.write(("," if i else "") + json.dumps(dependency))
        f.write("]}")
    return count


@pytest.mark.slow
def test_a_large_cyclonedx_file_is_streamed_in_bounded_memory(tmp_path):
    path = tmp_path / "large.cdx.json"
    count = _write_large_cyclonedx(path, 60 << 20)
    assert path.stat().st_size > 60 << 20
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    components, dependencies, grown_mb = json.loads(result.stdout)
    assert (components, dependencies) == (count, count - 1)
    assert grown_mb < 300, f"peak RSS grew by {grown_mb} MB for a 60 MB SBOM"
