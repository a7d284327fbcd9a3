"""Every comparison in the osv-scalibr version fixtures (``../shared/data/versions``, generated
in part by dpkg and pip themselves) must hold both ways, for every ecosystem that reads the file.

A few fixture lines compare strings the ecosystem's own tool refuses; those are listed below
with the reason, and the test checks that exactly those are refused (never silently guessed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clearroom.vulns.versions import UnparsableVersion, ecosystem

pytestmark = pytest.mark.conformance

_NOT_SEMVER = {"1.1.3.4.5": "five numeric parts; SemVer has exactly three"}
_NOT_GEM = ("1beta", "1gamma")  # Gem::Version needs a "." before letters
_HASH_FORM = ("1.2.3.#", "1.2.3.#.1", "1.2.3.#.p3", "1.2.3.#.beta")
_NOT_APK = (
    # "-r" not followed by a number only, or more after it
    "1-r-0", "1-r-1", "1-r-2", "1-r0-1", "1-r0-2", "1-ruff", "1-ruff1", "1-ruff2", "1--ruff1",
    "1-r0-ruff1", "1-r0-ruff2",
    # empty numbers, or a letter not right after the last number
    "0.r1", "0..1..0", "0..1..1", "0...1...0", "0...1...1", "0...1...0.r1",
    "0...1...0.r2", "0...1...0r1", "0...1...0r2", "0..8", "0...8", "0.8.21.r1", "0.8.21.r2",
    "10.2.24.r0", "10.2.22.r0", ".1", ".2", "a", "b", "c",
    # upper-case or repeated letters
    "1.2.0A", "1.2.0D", "1.0bc",
    # unknown suffixes
    "1.2_blah", "1.2_csv2", "23_foo",
)  # fmt: skip

# versions the fixtures compare that the ecosystem's grammar refuses, with the reason
REFUSED: dict[str, dict[str, str]] = {
    "semver-versions.txt": _NOT_SEMVER,
    "pub-versions.txt": _NOT_SEMVER,
    "rubygems-versions.txt": dict.fromkeys(_NOT_GEM, "Gem::Version needs a '.' before letters"),
    "packagist-versions.txt": dict.fromkeys(
        _HASH_FORM, "'#' ties with numbers that differ, so no order can hold it"
    ),
    "alpine-versions.txt": dict.fromkeys(_NOT_APK, "outside the apk-package(5) grammar"),
}

EXPECTED = {"<": -1, "=": 0, ">": 1}


def comparisons(path: Path) -> list[tuple[str, str, str]]:
    lines = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "//")):
            continue
        a, op, b = line.split()
        assert op in EXPECTED, line
        lines.append((a, op, b))
    return lines


@pytest.mark.parametrize(
    ("name", "fixture"),
    [
        ("PyPI", "pypi-versions.txt"),
        ("PyPI", "pypi-versions-generated.txt"),
        ("npm", "semver-versions.txt"),
        ("crates.io", "semver-versions.txt"),
        ("Go", "semver-versions.txt"),
        ("Hex", "semver-versions.txt"),
        ("Pub", "pub-versions.txt"),
        ("Maven", "maven-versions.txt"),
        ("NuGet", "nuget-versions.txt"),
        ("RubyGems", "rubygems-versions.txt"),
        ("Packagist", "packagist-versions.txt"),
        ("Debian", "debian-versions.txt"),
        ("Debian", "debian-versions-generated.txt"),
        ("Alpine", "alpine-versions.txt"),
    ],
)
def test_every_fixture_line_agrees(shared_data, name, fixture):
    scheme = ecosystem(name)
    lines = comparisons(shared_data / "versions" / fixture)
    assert lines, fixture
    refused_expected = REFUSED.get(fixture, {})
    disagreements, refused = [], set()
    for a, op, b in lines:
        try:
            forward, backward = scheme.compare(a, b), scheme.compare(b, a)
        except UnparsableVersion as error:
            refused.add(error.version)
            if error.version not in refused_expected:
                disagreements.append(f"{a} {op} {b}: refused {error.version!r} ({error.reason})")
            continue
        if (forward, backward) != (EXPECTED[op], -EXPECTED[op]):
            disagreements.append(f"{a} {op} {b}: got {forward} and reversed {backward}")
    shown = "\n".join(disagreements[:20])
    assert not disagreements, f"{len(disagreements)} of {len(lines)} lines disagree:\n{shown}"
    # every documented refusal still happens (each version is refused, never compared)
    for version in refused_expected:
        with pytest.raises(UnparsableVersion):
            scheme.key(version)
    assert refused <= set(refused_expected)
