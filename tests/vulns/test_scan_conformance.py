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
