"""Real SBOMs scan without error against real advisory data (the issue's conformance check)."""

from __future__ import annotations

import pytest

from clearroom.sbom.load import load_sbom
from clearroom.vulns.scan import scan
from clearroom.vulns.store import AdvisoryStore

pytestmark = pytest.mark.conformance


@pytest.fixture(scope="module")
def store(shared_data):
    with AdvisoryStore(":memory:") as s:
        report = s.import_paths([shared_data / "osv" / "PyPI.zip", shared_data / "osv" / "Go.zip"])
        assert not report.rejected
        yield s


@pytest.mark.parametrize("project", ["juice-shop", "dropwizard-1.3.15"])
def test_real_sboms_scan_without_error(shared_data, store, project):
    files = sorted((shared_data / "sbom" / "cyclonedx" / "SBOM" / project).rglob("bom.*"))
    assert files
    for path in files:
        sbom = load_sbom(path)
        result = scan(sbom, store)
        assert result.report.components == len(sbom.components) > 100
        matchable = result.report.matched + len(result.report.not_matchable)
        assert matchable == len(sbom.components)
        assert result.to_dict()["advisory_snapshot"] == store.snapshot()


def _components(*purls):
    from clearroom.sbom.model import Component

    return [
        Component(ref=p, name=p.split("/")[-1].split("@")[0], version=None, purl=p) for p in purls
    ]


def test_golang_stdlib_go_prefix_is_normalised_against_the_go_database(store):
    from clearroom.vulns.match import match_report

    def ids(purl):
        report = match_report(_components(purl), store)
        assert report.not_matchable == ()
        assert all(f.status == "affected" for f in report.findings)
        return sorted(f.advisory_id for f in report.findings)

    with_go, with_v = ids("pkg:golang/stdlib@go1.20.1"), ids("pkg:golang/stdlib@v1.20.1")
    assert with_go == with_v and len(with_go) > 50


def test_unparsable_django_version_reported_once_against_pypi(store):
    from clearroom.vulns.match import match_report

    report = match_report(_components("pkg:pypi/django@not-a-version!"), store)
    (skipped,) = report.not_matchable
    assert skipped.reason.startswith("unparsable version:")
    assert [f for f in report.findings if f.status == "unknown"] == []
    assert report.matched == 0
