"""The version-ordering rules each ecosystem documents, one case or more per rule, and the
refusals: bad strings, unknown ecosystems, hostile lengths."""

from __future__ import annotations

import contextlib
import itertools
import time

import pytest

from clearroom.vulns.versions import (
    SUPPORTED,
    UnknownEcosystem,
    UnparsableVersion,
    ecosystem,
)


def ordered(name: str, *versions: str) -> None:
    """Each version sorts strictly before the next, both ways round."""
    scheme = ecosystem(name)
    for a, b in itertools.pairwise(versions):
        assert scheme.compare(a, b) == -1, f"{name}: {a} < {b}"
        assert scheme.compare(b, a) == 1, f"{name}: {b} > {a}"


def same(name: str, a: str, b: str) -> None:
    scheme = ecosystem(name)
    assert scheme.compare(a, b) == 0 == scheme.compare(b, a), f"{name}: {a} = {b}"
    assert scheme.key(a) == scheme.key(b)
    assert hash(scheme.key(a)) == hash(scheme.key(b))


# --- lookup ---------------------------------------------------------------------------------


def test_supported_names_are_the_osv_names():
    assert set(SUPPORTED) == {
        "PyPI",
        "npm",
        "crates.io",
        "Go",
        "Hex",
        "Pub",
        "Maven",
        "NuGet",
        "RubyGems",
        "Packagist",
        "Debian",
        "Alpine",
    }
    for name in SUPPORTED:
        assert ecosystem(name).name == name


def test_release_suffix_is_ignored():
    assert ecosystem("Debian:12") is ecosystem("Debian")
    assert ecosystem("Alpine:v3.19") is ecosystem("Alpine")


def test_unknown_ecosystem_lists_the_supported_ones():
    with pytest.raises(UnknownEcosystem) as caught:
        ecosystem("CRAN")
    message = str(caught.value)
    assert message.startswith("vulns: ")
    assert "'CRAN'" in message
    for name in SUPPORTED:
        assert name in message
    with pytest.raises(UnknownEcosystem):
        ecosystem("pypi")  # OSV names are case-sensitive


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("PyPI", ""),
        ("PyPI", "1.0 beta"),
        ("PyPI", "1.0\n"),
        ("PyPI", "!!weird!!"),
        ("PyPI", "1.0/2"),
        ("PyPI", "..."),
        ("npm", "1.2.3.4"),
        ("npm", "01.2.3"),
        ("npm", "1.2.3-01"),
        ("npm", "1.2.3-"),
        ("npm", "1.2.3-a..b"),
        ("npm", "1.2-beta"),
        ("Go", "latest"),
        ("Pub", "1.2.3+"),
        ("Maven", "1.0 final"),
        ("NuGet", "1.2.3.4.5"),
        ("NuGet", "v1.0.0"),
        ("RubyGems", "1beta"),
        ("RubyGems", "1..2"),
        ("Packagist", "1.2.3.#"),
        ("Packagist", "1.0-"),
        ("Packagist", "v"),
        ("Debian", "a1.0"),
        ("Debian", "x:1.0"),
        ("Debian", "1.0-"),
        ("Debian", "1.0-a_b"),
        ("Debian", "1.0:2"),
        ("Alpine", "1.2_blah"),
        ("Alpine", "1.2A"),
        ("Alpine", "1-r0-1"),
        ("Alpine", ".1"),
        ("Alpine", "1.2~XYZ"),
        ("Maven", "1.0\u00e9"),
    ],
)
def test_unparsable_versions_name_the_ecosystem_and_the_version(name, version):
    with pytest.raises(UnparsableVersion) as caught:
        ecosystem(name).key(version)
    error = caught.value
    assert (error.ecosystem, error.version) == (name, version)
    assert str(error).startswith(f"vulns: {name} version {version!r} is not valid: ")
    assert error.reason


def test_non_string_is_refused():
    with pytest.raises(UnparsableVersion):
        ecosystem("npm").key(123)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", SUPPORTED)
@pytest.mark.parametrize("filler", ["1", "1.", "a", "-", "1a"])
def test_very_long_inputs_are_refused_quickly(name, filler):
    huge = filler * (100_000 // len(filler))
    start = time.perf_counter()
    with pytest.raises(UnparsableVersion) as caught:
        ecosystem(name).key(huge)
    assert time.perf_counter() - start < 0.05
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("name", SUPPORTED)
def test_near_limit_inputs_parse_or_fail_fast(name):
    # just under the length limit: whatever the verdict, no backtracking blow-up
    for version in ("1." * 511, "1" * 1000 + "!", "1-" * 500 + "x", "1_p" * 300):
        start = time.perf_counter()
        with contextlib.suppress(UnparsableVersion):
            ecosystem(name).key(version)
        assert time.perf_counter() - start < 0.5, (name, version[:20])


def test_keys_are_cached():
    scheme = ecosystem("PyPI")
    assert scheme.key("1.0.post1") is scheme.key("1.0.post1")


# --- PyPI -----------------------------------------------------------------------------------


def test_pypi_pep440_phases():
    ordered(
        "PyPI",
        "1.0.dev0",
        "1.0a1.dev1",
        "1.0a1",
        "1.0b2",
        "1.0rc1",
        "1.0",
        "1.0+local",
        "1.0.post1.dev0",
        "1.0.post1",
        "1.1",
        "1!0.1",
    )


def test_pypi_normalisation():
    same("PyPI", "1.0", "1.0.0")
    same("PyPI", "1.0-1", "1.0.post1")
    same("PyPI", "1.0.alpha", "1.0a0")
    same("PyPI", "1.0C1", "1.0rc1")
    ordered("PyPI", "1.0+local.a", "1.0+local.1")


def test_pypi_legacy_versions_sort_before_pep440_ones():
    ordered("PyPI", "0.1-bulbasaur", "0.1-charmander", "0.0.1")
    ordered("PyPI", "-class.-jw.util.version.version-pre", "0.0")
    ordered("PyPI", "2013-01-21T20:33:09+0100", "2013-01-23T17:11:52+0100", "0.0")


# --- SemVer family --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["npm", "crates.io", "Go", "Hex"])
def test_semver_precedence(name):
    ordered(
        name,
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    )
    ordered(name, "1.2.3-R2", "1.2.3-r100", "1.2.3-r2")  # ASCII order for words
    same(name, "1.2.3+build", "1.2.3+other")  # build metadata ignored
    same(name, "v1.2.3", "1.2.3")
    same(name, "1", "1.0.0")  # Go's shorthand
    ordered(name, "9" * 30, "9" * 31)  # no size limit


def test_go_pseudo_versions_are_prereleases():
    ordered(
        "Go",
        "v0.0.0-20191109021931-daa7c04131f5",
        "v0.0.1",
        "v1.2.4-0.20191109021931-daa7c04131f5",
        "v1.2.4",
    )
    same("Go", "v2.0.0+incompatible", "v2.0.0")


def test_pub_build_metadata_orders():
    ordered(
        "Pub",
        "1.0.0-pre",
        "1.0.0-pre+build",
        "1.0.0",
        "1.0.0+1",
        "1.0.0+2",
        "1.0.0+a",
        "1.0.0+a1",
        "1.0.0+a1.1",
        "1.0.0+b",
    )


# --- Maven ----------------------------------------------------------------------------------


def test_maven_qualifier_order():
    ordered(
        "Maven",
        "1-alpha",
        "1-beta",
        "1-milestone",
        "1-rc",
        "1-snapshot",
        "1",
        "1-sp",
        "1-abc",
        "1-xyz",
        "1-1",
        "1.1",
    )
    same("Maven", "1-cr", "1-rc")
    for alias in ("ga", "final", "release", "GA", "Final", "RELEASE"):
        same("Maven", f"1-{alias}", "1")


def test_maven_short_qualifiers_need_a_digit():
    same("Maven", "1a1", "1-alpha-1")
    same("Maven", "1b2", "1-beta-2")
    same("Maven", "1m3", "1-milestone-3")
    ordered("Maven", "1-beta-1", "1-b")  # a bare "b" is an unknown qualifier, above known ones


def test_maven_separators_and_padding():
    same("Maven", "1", "1.0.0")
    same("Maven", "1", "1-0")
    same("Maven", "1.0", "1.")
    same("Maven", "1-foo", "1.0.0-foo.0.0")
    same("Maven", "1.1", "1.01")
    same("Maven", "1x", "1-x")
    ordered("Maven", "1.0-1", "1.0-2", "1.0.1")
    ordered("Maven", "2.0.1", "2.0.1-xyz", "2.0.1-123")
    ordered("Maven", "1.0-alpha-1-SNAPSHOT", "1.0-alpha-1")
    ordered("Maven", "20190126.230843", "1234567890.12345", "123456789012345.1H.5-beta")


# --- NuGet ----------------------------------------------------------------------------------


def test_nuget_four_parts_case_and_metadata():
    same("NuGet", "1.0", "1.0.0.0")
    same("NuGet", "1.0.01", "1.0.1.0")
    same("NuGet", "1.0.0-BETA", "1.0.0-beta")
    same("NuGet", "1.0.0+AA", "1.0.0+bb")
    ordered(
        "NuGet",
        "1.0.0-alpha",
        "1.0.0-beta.1",
        "1.0.0-beta.2",
        "1.0.0-beta.10",
        "1.0.0-beta.x",
        "1.0.0",
        "1.0.0.1-alpha",
        "1.0.0.1",
        "1.0.1",
    )


# --- RubyGems -------------------------------------------------------------------------------


def test_rubygems_segments_and_prereleases():
    ordered(
        "RubyGems",
        "1.0.a",
        "1.0.a.1",
        "1.0.b1",
        "1.0.pre",
        "1.0.rc1",
        "1.0",
        "1.0.1",
        "1.2",
        "1.10",
    )
    same("RubyGems", "1.0.a2", "1.0.a.2")
    same("RubyGems", "1.0.0", "1")
    same("RubyGems", "1.0.b.0", "1.0.b")
    same("RubyGems", "1.0-1", "1.0.pre.1")
    ordered("RubyGems", "1.a.0.b", "1.a")  # after a zero the padding decides on what follows
    ordered("RubyGems", "1.a", "1.a.0.1")
    ordered("RubyGems", "1.A", "1.a")  # case-sensitive


# --- Packagist ------------------------------------------------------------------------------


def test_packagist_version_compare_forms():
    ordered(
        "Packagist",
        "1.0-foo",
        "1.0-dev",
        "1.0alpha1",
        "1.0a2",
        "1.0beta",
        "1.0RC1",
        "1.0rc2",
        "1.0",
        "1.0.0",
        "1.0.1",
        "1.0pl1",
    )
    same("Packagist", "1.0a1", "1.0alpha1")
    same("Packagist", "1.0-patch1", "1.0pl1")
    same("Packagist", "1.0.0rc2", "1.0.0.rc2")
    same("Packagist", "v1.0.0", "V1.0.0")
    same("Packagist", "1.25.0-beta2.1", "1.25.0-b.2.1")
    ordered("Packagist", "1.0-Alpha", "1.0-dev")  # special forms are case-sensitive
    ordered("Packagist", "dev-foo", "1.26.0")


# --- Debian ---------------------------------------------------------------------------------


def test_debian_epoch_revision_and_tilde():
    ordered(
        "Debian",
        "1.0~rc1",
        "1.0",
        "1.0-1~deb7u1",
        "1.0-1",
        "1.0-1+deb9u1",
        "1.0a",
        "1.0+dfsg",
        "1.0.1",
        "1:0.1",
    )
    same("Debian", "1.0", "0:1.0-0")
    same("Debian", "1.0-00", "1.0")
    ordered("Debian", "1.0~~", "1.0~~a", "1.0~", "1.0")
    ordered("Debian", "0.0.9", "0.0.10")
    ordered("Debian", "2:0.0.44-1", "2:0.0.44-nobin")
    same("Debian", "1:2.0:3-1", "1:2.0:3-1")  # colons in upstream need an epoch


# --- Alpine ---------------------------------------------------------------------------------


def test_alpine_numbers_letters_suffixes_revisions():
    ordered(
        "Alpine",
        "1.2_alpha",
        "1.2_alpha2",
        "1.2_beta",
        "1.2_pre1",
        "1.2_rc1",
        "1.2",
        "1.2_cvs1",
        "1.2_svn1",
        "1.2_git1",
        "1.2_hg1",
        "1.2_p1",
        "1.2a",
        "1.2z",
        "1.2.1",
    )
    same("Alpine", "1-r1", "1-r01")
    same("Alpine", "1-r", "1-r0")
    same("Alpine", "1.2", "1.2-r0")
    same("Alpine", "1.2~abc123", "1.2")  # the hash is ignored
    ordered("Alpine", "1.0.4-r3", "1.0.4-r4", "1.6")
    ordered("Alpine", "1.02", "1.1")  # a leading zero after the first number: string order
    ordered("Alpine", "1.0.0", "006")  # the first number is always numeric


def test_alpine_p_suffix_versions_order_as_apk():
    # apk tokenises a number after the letter (openssh 5.1p1-r0, sudo 1.9.5p2-r0): the letter,
    # then that number, then suffixes and -r; no number < any number (as apk: p < p0 < p1)
    ordered(
        "Alpine",
        "5.1",
        "5.1_p1",
        "5.1p",
        "5.1p0",
        "5.1p1-r0",
        "5.1p1-r1",
        "5.1p2",
        "5.1p10",
        "5.1q",
        "5.2",
    )
    ordered("Alpine", "1.9.5p1-r0", "1.9.5p2-r0", "1.9.6-r0", "1.9.12p1-r0")
    ordered("Alpine", "6.6.2p1_rc1", "6.6.2p1", "6.6.2p1_p1")
    same("Alpine", "1.9.5p2", "1.9.5p2-r0")
    for refused in ("1.0bc", "1.2p1A"):
        with pytest.raises(UnparsableVersion):
            ecosystem("Alpine").key(refused)
