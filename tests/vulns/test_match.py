"""purl mapping and matching components to findings: exact purl matches, alias groups, unknown
verdicts with reasons, and components that cannot be matched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from clearroom.errors import ClearroomError
from clearroom.vulns.match import match, match_report
from clearroom.vulns.purl import InvalidPurl, UnsupportedPurl, from_purl, normalise_name
from clearroom.vulns.store import AdvisoryStore

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "osv"


@dataclass(frozen=True)
class Comp:
    ref: str
    name: str
    version: str | None
    purl: str | None


# -- purl -> OSV ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purl", "ecosystem", "name", "version"),
    [
        ("pkg:pypi/Django_Rest.Framework@3.1", "PyPI", "django-rest-framework", "3.1"),
        ("pkg:npm/lodash@4.17.20", "npm", "lodash", "4.17.20"),
        ("pkg:npm/%40angular/core@11.0.0", "npm", "@angular/core", "11.0.0"),
        ("pkg:golang/github.com/gin-gonic/gin@v1.6.0", "Go", "github.com/gin-gonic/gin", "1.6.0"),
        ("pkg:cargo/tokio@1.0.0", "crates.io", "tokio", "1.0.0"),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "Maven",
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
        ),
        ("pkg:nuget/Newtonsoft.Json@12.0.1", "NuGet", "newtonsoft.json", "12.0.1"),
        ("pkg:gem/rails@6.0.0", "RubyGems", "rails", "6.0.0"),
        ("pkg:composer/Laravel/Framework@8.0.0", "Packagist", "laravel/framework", "8.0.0"),
        (
            "pkg:deb/debian/libssl3@3.0.11-1?distro=debian-12&upstream=openssl",
            "Debian:12",
            "openssl",
            "3.0.11-1",
        ),
        ("pkg:deb/debian/curl@7.88.1-10?distro=bookworm", "Debian:12", "curl", "7.88.1-10"),
        ("pkg:deb/debian/curl@7.88.1-10", "Debian", "curl", "7.88.1-10"),
        ("pkg:apk/alpine/busybox@1.36.1-r2?distro=3.18.4", "Alpine:v3.18", "busybox", "1.36.1-r2"),
        ("pkg:pub/http@0.13.0", "Pub", "http", "0.13.0"),
        ("pkg:hex/Phoenix@1.5.0", "Hex", "phoenix", "1.5.0"),
        ("pkg:pypi/requests", "PyPI", "requests", None),
    ],
)
def test_purl_to_osv(purl, ecosystem, name, version):
    target = from_purl(purl)
    assert (target.ecosystem, target.name, target.version) == (ecosystem, name, version)


@pytest.mark.parametrize(
    "purl",
    [
        "",
        "requests",
        "pkg:",
        "pkg:/x@1",
        "http://example.org/x",
        "pkg:maven/log4j-core@2.0",
        "pkg:pypi/ns/name@1",
        "pkg:" + "a" * 5000,
    ],
)
def test_malformed_purls_are_invalid(purl):
    with pytest.raises(InvalidPurl, match="vulns:") as caught:
        from_purl(purl)
    assert isinstance(caught.value, ClearroomError)


@pytest.mark.parametrize(
    "purl",
    [
        "pkg:generic/openssl@3.0",
        "pkg:rpm/fedora/curl@8.0",
        "pkg:deb/ubuntu/curl@7.0",
        "pkg:apk/wolfi/curl@8",
    ],
)
def test_unsupported_ecosystems(purl):
    with pytest.raises(UnsupportedPurl, match="vulns:"):
        from_purl(purl)


def test_name_normalisation():
    assert normalise_name("PyPI", "Zope.Interface__x") == "zope-interface-x"
    assert normalise_name("Go", "github.com/BurntSushi/toml") == "github.com/BurntSushi/toml"
    assert normalise_name("NuGet", "Newtonsoft.Json") == "newtonsoft.json"


# -- matching ---------------------------------------------------------------------------------


def rec(
    ident, events, *, name="demo-pkg", ecosystem="PyPI", versions=None, rtype="ECOSYSTEM", **extra
):
    entry = {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": rtype, "events": events}],
    }
    if versions is not None:
        entry["versions"] = versions
    data = {"id": ident, "modified": "2024-01-01T00:00:00Z", "affected": [entry], **extra}
    return (ident, json.dumps(data).encode())


@pytest.fixture
def store():
    with AdvisoryStore(":memory:") as s:
        s.import_paths([FIXTURES])
        yield s


def test_aliases_are_one_finding(store):
    findings = match([Comp("c1", "demo", "1.1", "pkg:pypi/demo-pkg@1.1")], store)
    assert len(findings) == 1
    f = findings[0]
    assert (f.component_ref, f.status, f.confidence) == ("c1", "affected", "exact")
    assert f.advisory_id == "GHSA-test-0001"  # the record with a scored severity leads
    assert f.aliases == ("CVE-2099-0001", "PYSEC-TEST-1")
    assert (f.severity.score, f.severity.rating, f.severity.version) == (9.8, "CRITICAL", "3.1")
    assert f.fixed_versions == ("1.2",)
    assert f.summary == "Demo flaw, GitHub's record"


def test_fixed_version_is_not_a_finding(store):
    assert match([Comp("c1", "demo", "1.2", "pkg:pypi/demo-pkg@1.2")], store) == []


def test_withdrawn_advisories_are_ignored(store):
    # GHSA-test-0002 (withdrawn) says every version is affected
    assert match([Comp("c1", "demo", "9.0", "pkg:pypi/demo-pkg@9.0")], store) == []


def test_git_only_without_list_is_unknown_with_the_reason(store):
    store.import_records(
        [rec("OSV-G-1", [{"introduced": "a" * 40}, {"fixed": "b" * 40}], name="gitty", rtype="GIT")]
    )
    (f,) = match([Comp("c", "gitty", "1.0", "pkg:pypi/gitty@1.0")], store)
    assert f.status == "unknown" and "commit graph" in f.reason


def test_invalid_range_is_unknown_not_clean(store):
    (f,) = match([Comp("c", "m", "1.0.0", "pkg:golang/example.com/demo@v1.0.0")], store)
    assert (f.advisory_id, f.status) == ("GO-TEST-3", "unknown")
    assert "no introduced event" in f.reason


def test_unparsable_version_reported_once_not_per_advisory(store):
    store.import_records(
        rec(f"GHSA-many-{i}", [{"introduced": "0"}, {"fixed": f"{i + 1}.0"}], name="many")
        for i in range(5)
    )
    store.import_records(
        [rec("GHSA-listed", [{"introduced": "9.0"}], name="many", versions=["!!weird!!"])]
    )
    weird = Comp("c", "many", "!!weird!!", "pkg:pypi/many@!!weird!!")
    fine = Comp("d", "many", "0.5", "pkg:pypi/many@0.5")
    report = match_report([weird, fine], store)
    (skipped,) = report.not_matchable
    assert skipped.component_ref == "c"
    assert skipped.reason.startswith("unparsable version: '!!weird!!' is not a PyPI version")
    assert "5 advisories of many could not be evaluated" in skipped.reason
    assert report.not_matchable_reasons == {"unparsable version": 1}
    # the verbatim listing needs no ordering, so that finding stands; no "unknown" ones
    assert {
        (f.component_ref, f.advisory_id, f.status)
        for f in report.findings
        if f.component_ref == "c"
    } == {("c", "GHSA-listed", "affected")}
    assert len([f for f in report.findings if f.component_ref == "d"]) == 5
    assert (report.components, report.matched) == (2, 1)


def test_a_decided_no_outranks_an_undecidable_duplicate(store):
    store.import_records(
        [
            rec("GHSA-x", [{"introduced": "0"}, {"fixed": "1.0"}], name="dup", aliases=["CVE-9"]),
            rec("PYSEC-x", [{"introduced": "a" * 40}], name="dup", rtype="GIT", aliases=["CVE-9"]),
        ]
    )
    assert match([Comp("c", "dup", "2.0", "pkg:pypi/dup@2.0")], store) == []
    (f,) = match([Comp("c", "dup", "0.5", "pkg:pypi/dup@0.5")], store)
    assert f.status == "affected" and f.aliases == ("CVE-9", "PYSEC-x")


def test_not_matchable_components_are_counted_with_reasons(store):
    comps = [
        Comp("a", "no-purl", "1.0", None),
        Comp("b", "bad", "1.0", "pkg:maven/noGroup@1"),
        Comp("c", "rpm", "1.0", "pkg:rpm/fedora/curl@8"),
        Comp("d", "noversion", None, "pkg:pypi/demo-pkg"),
        Comp("e", "demo", "1.0", "pkg:pypi/demo-pkg@1.0"),
    ]
    report = match_report(comps, store)
    assert (report.components, report.matched, len(report.findings)) == (5, 1, 1)
    assert [n.component_ref for n in report.not_matchable] == ["a", "b", "c", "d"]
    assert report.not_matchable_reasons == {
        "no purl": 1,
        "invalid purl": 1,
        "unsupported ecosystem": 1,
        "no version": 1,
    }
    assert report.snapshot == store.snapshot()


def test_release_suffix_must_agree_when_both_have_one(store):
    store.import_records(
        [
            rec(
                "DSA-11",
                [{"introduced": "0"}, {"fixed": "2.0-1"}],
                name="curl",
                ecosystem="Debian:11",
            ),
            rec(
                "DSA-12",
                [{"introduced": "0"}, {"fixed": "2.0-1"}],
                name="curl",
                ecosystem="Debian:12",
            ),
        ]
    )
    on12 = match([Comp("c", "curl", "1.0-1", "pkg:deb/debian/curl@1.0-1?distro=debian-12")], store)
    assert [f.advisory_id for f in on12] == ["DSA-12"]
    anywhere = match([Comp("c", "curl", "1.0-1", "pkg:deb/debian/curl@1.0-1")], store)
    assert sorted(f.advisory_id for f in anywhere) == ["DSA-11", "DSA-12"]


def test_the_sbom_models_component_fits():
    model = pytest.importorskip("clearroom.sbom.model")
    comp = model.Component(ref="r", name="demo", version="1.0", purl="pkg:pypi/demo-pkg@1.0")
    with AdvisoryStore() as s:
        s.import_paths([FIXTURES])
        assert [f.component_ref for f in match([comp], s)] == ["r"]


def test_alpine_p_suffix_fixed_event_decides_every_sudo_component(store):
    # one "fixed: 1.9.5p2-r0" used to be refused, leaving every sudo component "unknown"
    store.import_records(
        [
            rec(
                "ALPINE-CVE-2021-3156",
                [{"introduced": "0"}, {"fixed": "1.9.5p2-r0"}],
                name="sudo",
                ecosystem="Alpine:v3.13",
            )
        ]
    )

    def sudo(version):
        purl = f"pkg:apk/alpine/sudo@{version}?distro=3.13.0"
        return match([Comp(version, "sudo", version, purl)], store)

    (old,) = sudo("1.9.5p1-r0")
    assert (old.status, old.fixed_versions) == ("affected", ("1.9.5p2-r0",))
    assert sudo("1.9.5p2-r0") == [] and sudo("1.9.5p2-r1") == [] and sudo("1.9.6-r0") == []


def test_golang_stdlib_go_prefix_is_normalised(store):
    store.import_records(
        [
            rec(
                "GO-2023-1621",
                [{"introduced": "0"}, {"fixed": "1.20.2"}],
                name="stdlib",
                ecosystem="Go",
                rtype="SEMVER",
            )
        ]
    )
    for purl in ("pkg:golang/stdlib@go1.20.1", "pkg:golang/stdlib@v1.20.1"):
        (found,) = match([Comp("go", "stdlib", "go1.20.1", purl)], store)
        assert (found.status, found.component_version) == ("affected", "1.20.1")
    assert match([Comp("go", "stdlib", "go1.20.2", "pkg:golang/stdlib@go1.20.2")], store) == []
    assert from_purl("pkg:golang/stdlib@go1.21").version == "1.21.0"
    assert from_purl("pkg:golang/stdlib@go1.21rc2").version == "1.21.0-rc.2"
    assert from_purl("pkg:golang/toolchain@go1.22.1").version == "1.22.1"
    # only the toolchain's own packages: a module's "go..." version is left alone
    assert from_purl("pkg:golang/example.com/go@go1.2").version == "go1.2"
