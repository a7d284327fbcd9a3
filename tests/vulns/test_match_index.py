"""The store's match index: matching through it gives exactly the findings of the full records
(hand-made corner cases, random ranges, the shared osv.dev exports); a store written before the
index existed is upgraded when opened; the caches follow other writers."""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clearroom.vulns.match import MatchReport, match_report
from clearroom.vulns.osv import (
    KeyCache,
    evaluate_indexed,
    index_record,
    indexed_fixed,
    parse_advisory,
)
from clearroom.vulns.store import AdvisoryStore, StoreLimits
from clearroom.vulns.versions import ecosystem
from clearroom.vulns.versions.maven import MavenKey

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "osv"


@dataclass(frozen=True)
class Comp:
    ref: str
    name: str
    version: str | None
    purl: str | None


class FullRecords:
    """The store seen through ``lookup`` alone: every record decoded and parsed, the way
    matching worked before the index."""

    def __init__(self, store: AdvisoryStore) -> None:
        self._store = store

    def lookup(self, ecosystem: str, name: str) -> list[Any]:
        return self._store.lookup(ecosystem, name)

    def snapshot(self) -> str:
        return self._store.snapshot()


def both_ways(components: list[Comp], store: AdvisoryStore) -> MatchReport:
    fast = match_report(components, store)
    full = match_report(components, FullRecords(store))
    assert fast == full
    return fast


def rec(ident: str, *affected: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": ident, "modified": "2024-01-01T00:00:00Z", "affected": list(affected), **extra}


def entry(
    name: str, *ranges: dict[str, Any], ecosystem: str = "PyPI", **extra: Any
) -> dict[str, Any]:
    return {"package": {"ecosystem": ecosystem, "name": name}, "ranges": list(ranges), **extra}


def rng(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> dict[str, Any]:
    return {"type": kind, "events": [{k: v} for k, v in events]}


VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
CORNERS = [
    # listed "1.0" is the component's "1.0.0" by PEP 440
    rec("C-LIST", entry("listed", versions=["1.0", "2.0rc1"])),
    # fixed before introduced in the record, last_affected, limits, equal versions
    rec("C-ORDER", entry("order", rng(("fixed", "2.0"), ("introduced", "1.0")))),
    rec("C-LAST", entry("order", rng(("introduced", "0"), ("last_affected", "1.5")))),
    rec("C-LIMIT", entry("order", rng(("introduced", "1.2"), ("limit", "1.4"), ("limit", "*")))),
    rec("C-SAME", entry("order", rng(("introduced", "1.1"), ("fixed", "1.1")))),
    rec("C-THREE", entry("order", rng(("introduced", "0"), ("fixed", "1"), ("introduced", "3")))),
    # two entries for one package, one affected; a case-variant ecosystem; a second package
    rec(
        "C-TWO",
        entry("two", rng(("introduced", "5.0"))),
        entry("two", rng(("introduced", "0"), ("fixed", "1.0")), ecosystem="pypi"),
        entry("other", rng(("introduced", "0"))),
        severity=[{"type": "CVSS_V3", "score": VECTOR}],
    ),
    # GIT with and without a list; an invalid range beside a valid one; a bad event version
    rec("C-GIT", entry("git", rng(("introduced", "a" * 40), kind="GIT"), versions=["1.0"])),
    rec("C-GIT2", entry("git", rng(("introduced", "b" * 40), kind="GIT"))),
    rec(
        "C-INVALID",
        entry("bad", rng(("introduced", "0"), ("fixed", "2.0")), rng(("fixed", "1.0"))),
    ),
    rec("C-UNPARSABLE", entry("bad", rng(("introduced", "!!x!!"), ("fixed", "3.0")))),
    rec("C-NOORDER", entry("thing", rng(("introduced", "0")), ecosystem="NoSuchEcosystem")),
    # releases, alias groups (a decided no outranks an undecidable duplicate), withdrawn
    rec("D-11", entry("curl", rng(("introduced", "0"), ("fixed", "2.0-1")), ecosystem="Debian:11")),
    rec("D-ANY", entry("curl", rng(("introduced", "0"), ("fixed", "1.5-1")), ecosystem="Debian")),
    rec("A-NO", entry("dup", rng(("introduced", "0"), ("fixed", "1.0"))), aliases=["CVE-1"]),
    rec("A-GIT", entry("dup", rng(("introduced", "c" * 40), kind="GIT")), aliases=["CVE-1"]),
    rec(
        "A-YES",
        entry(
            "dup",
            rng(("introduced", "0"), ("fixed", "3.0")),
            severity=[{"type": "CVSS_V3", "score": VECTOR}],
        ),
        aliases=["CVE-1"],
        related=["R-1"],
        summary="the one that says yes",
        database_specific={"severity": "HIGH"},
    ),
    rec("W-1", entry("dup", rng(("introduced", "0"))), withdrawn="2024-02-01T00:00:00Z"),
    rec("DB-ONLY", entry("rated", rng(("introduced", "0"))), database_specific={"severity": "low"}),
    # other orderings: Maven qualifiers, npm pre-releases, Go
    rec(
        "M-1",
        entry(
            "org.x:y",
            rng(("introduced", "1.0-alpha"), ("fixed", "1.0.1")),
            rng(("introduced", "2.0"), ("fixed", "2.0-sp1")),
            ecosystem="Maven",
        ),
    ),
    rec(
        "N-1",
        entry(
            "pre",
            rng(("introduced", "1.0.0-beta.2"), ("fixed", "1.0.0"), kind="SEMVER"),
            ecosystem="npm",
        ),
    ),
    rec(
        "G-1", entry("example.com/m", rng(("introduced", "0"), ("fixed", "1.2.3")), ecosystem="Go")
    ),
]
VERSIONS = [
    "0.1",
    "1.0",
    "1.0.0",
    "1.1",
    "1.3",
    "1.5",
    "1.9",
    "2.0",
    "2.0rc1",
    "4",
    "6.0",
    "!!weird",
]
COMPONENTS = (
    [
        Comp(f"{name}@{v}", name, v, f"pkg:pypi/{name}@{v}")
        for name in ("listed", "order", "two", "other", "git", "bad", "dup", "rated")
        for v in VERSIONS
    ]
    + [
        Comp(f"curl@{v}{d}", "curl", v, f"pkg:deb/debian/curl@{v}{d}")
        for v in ("1.0-1", "1.6-1", "2.0-1")
        for d in ("", "?distro=debian-11", "?distro=debian-12")
    ]
    + [
        Comp(f"y@{v}", "y", v, f"pkg:maven/org.x/y@{v}")
        for v in ("0.9", "1.0-alpha", "1.0", "1.0.1", "2.0", "2.0-sp1", "2.0.0.0", "2-rc1")
    ]
    + [
        Comp(f"pre@{v}", "pre", v, f"pkg:npm/pre@{v}")
        for v in ("1.0.0-beta.1", "1.0.0-beta.2", "1.0.0-rc.1", "1.0.0", "1.0", "x")
    ]
    + [Comp(f"m@{v}", "m", v, f"pkg:golang/example.com/m@v{v}") for v in ("1.2.2", "1.2.3")]
)


@pytest.fixture
def corners(tmp_path: Path) -> Iterator[AdvisoryStore]:
    with AdvisoryStore(tmp_path / "advisories.sqlite") as store:
        store.import_paths([FIXTURES])
        store.import_records((r["id"], json.dumps(r).encode()) for r in CORNERS)
        yield store


def test_the_index_gives_the_full_records_findings(corners: AdvisoryStore) -> None:
    report = both_ways(COMPONENTS, corners)
    statuses = {f.status for f in report.findings}
    assert statuses == {"affected", "unknown"}  # the corners reach both kinds
    assert len(report.findings) > 40


def test_cached_and_uncached_stores_agree(tmp_path: Path, corners: AdvisoryStore) -> None:
    first = match_report(COMPONENTS, corners)
    assert match_report(COMPONENTS, corners) == first  # from the package cache
    with AdvisoryStore(tmp_path / "advisories.sqlite", StoreLimits(cached_packages=0)) as uncached:
        assert match_report(COMPONENTS, uncached) == first


def test_a_store_from_before_the_index_is_upgraded_on_open(
    tmp_path: Path, corners: AdvisoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    before = match_report(COMPONENTS, corners)
    corners.close()
    path = tmp_path / "advisories.sqlite"
    db = sqlite3.connect(path)
    db.execute("DROP TABLE match_index")
    db.execute("DELETE FROM meta WHERE key = 'match_index'")
    db.commit()
    db.close()
    caplog.set_level(logging.INFO, logger="clearroom.vulns.store")
    with AdvisoryStore(path) as store:
        assert "building the match index" in caplog.text
        assert store.indexed([("PyPI", "dup")]) is not None
        assert match_report(COMPONENTS, store) == before
    caplog.clear()
    with AdvisoryStore(path) as store:  # once: the next open finds it up to date
        assert match_report(COMPONENTS, store) == before
    assert "building the match index" not in caplog.text


def test_records_written_without_the_index_are_caught_up(
    tmp_path: Path, corners: AdvisoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "advisories.sqlite"
    later = rec("LATE-1", entry("late", rng(("introduced", "0"))))
    late = [Comp("late", "late", "1.0", "pkg:pypi/late@1.0")]
    assert match_report(late, corners).findings == ()
    with AdvisoryStore(path) as old:  # a version that does not keep the index, in another process
        old._index_ready = False
        old.import_records([("late", json.dumps(later).encode())])
    with caplog.at_level(logging.WARNING, logger="clearroom.vulns.store"):
        # the open store notices the other writer and stops trusting its index...
        assert [f.advisory_id for f in match_report(late, corners).findings] == ["LATE-1"]
        assert corners.indexed([("PyPI", "late")]) is None
    assert "changed by a version without the match index" in caplog.text
    with AdvisoryStore(path) as reopened:  # ...and the next open rebuilds it
        assert reopened.indexed([("PyPI", "late")]) is not None
        assert both_ways(late, reopened).findings[0].advisory_id == "LATE-1"


def test_another_writers_import_reaches_a_warm_cache(
    tmp_path: Path, corners: AdvisoryStore
) -> None:
    comps = [Comp("t", "two", "6.0", "pkg:pypi/two@6.0")]
    assert [f.advisory_id for f in match_report(comps, corners).findings] == ["C-TWO"]
    newer = rec("C-TWO", entry("two", rng(("introduced", "0"), ("fixed", "1.0"))))
    newer["modified"] = "2024-06-01T00:00:00Z"
    with AdvisoryStore(tmp_path / "advisories.sqlite") as other:
        other.import_records([("newer", json.dumps(newer).encode())])
    assert match_report(comps, corners).findings == ()


# -- evaluate_indexed against Affected.evaluate, on random ranges ------------------------------

POOLS = {
    "PyPI": ["0", "0.9", "1.0", "1.0.0", "1.0.post1", "1.1a1", "1.1", "1.2", "2.0", "2!1.0", "x y"],
    "npm": ["0", "0.9.0", "1.0.0-alpha", "1.0.0", "1.0", "1.1.0", "1.2.0+b", "2.0.0", "01.2.3"],
    "Maven": ["0", "1", "1.0", "1.0-alpha", "1.0-sp1", "1.0.1", "1.1", "2.0-rc1", "2", "1-ga-1"],
}


@pytest.mark.parametrize("eco", sorted(POOLS))
def test_evaluate_indexed_is_affected_evaluate(eco: str) -> None:
    pool = POOLS[eco]
    rand = random.Random(eco)
    answered = 0
    for n in range(400):
        ranges = []
        for _ in range(rand.choice((1, 1, 2))):
            events = [("introduced", rand.choice(pool))]
            for _ in range(rand.choice((0, 1, 1, 1, 2, 3))):
                kind = rand.choice(("introduced", "fixed", "fixed", "last_affected", "limit"))
                events.append((kind, rand.choice([*pool, "*"] if kind == "limit" else pool)))
            if rand.random() < 0.2:
                rand.shuffle(events)
            kind = (
                rand.choice(("ECOSYSTEM", "SEMVER", "GIT")) if rand.random() < 0.1 else "ECOSYSTEM"
            )
            ranges.append(rng(*events, kind=kind))
        raw = entry("p", *ranges, ecosystem=eco)
        if rand.random() < 0.3:
            raw["versions"] = rand.sample(pool, 3)
        data = rec(f"R-{n}", raw)
        affected = parse_advisory(data).affected[0]
        rows, _ = index_record(data)
        (compact,) = json.loads(next(iter(rows.values())))[1]
        keys = KeyCache()
        for version in pool:
            fast = evaluate_indexed(compact, version, keys)
            if fast is None:
                continue
            answered += 1
            assert fast == affected.evaluate(version), (data, version)
            if fast.affected is not False:
                assert indexed_fixed(compact, keys) == affected.fixed_versions()
    assert answered > 2000  # the fast path answers most; the rest go to the full record


def test_plain_maven_numbers_compare_as_the_token_rules_do() -> None:
    maven = ecosystem("Maven")
    rand = random.Random(7)
    versions = [
        ".".join(str(rand.choice((0, 0, 1, 2, 10))) for _ in range(rand.randint(1, 4)))
        for _ in range(300)
    ]
    for a, b in zip(versions, reversed(versions), strict=True):
        ka, kb = maven.key(a), maven.key(b)
        assert ka.numbers is not None and kb.numbers is not None
        slow_a, slow_b = MavenKey(ka.tokens), MavenKey(kb.tokens)
        slow_a.numbers = slow_b.numbers = None
        assert ka._cmp(kb) == slow_a._cmp(slow_b), (a, b)
    assert maven.key("1.0-alpha").numbers is None


# -- the shared osv.dev exports ----------------------------------------------------------------


@pytest.mark.conformance
def test_the_index_agrees_on_the_osv_exports(shared_data: Path) -> None:
    comps: dict[str, Comp] = {}
    purl_type = {"PyPI": "pypi", "Go": "golang"}
    for archive in ("PyPI.zip", "Go.zip"):
        with zipfile.ZipFile(shared_data / "osv" / archive) as z:
            for name in sorted(z.namelist())[::2]:
                data = json.loads(z.read(name))
                for affected in data.get("affected", [])[:2]:
                    pkg = affected.get("package", {})
                    if pkg.get("ecosystem") not in purl_type:
                        continue
                    versions = [
                        v
                        for r in affected.get("ranges", [])
                        for e in r.get("events", [])
                        for v in e.values()
                        if r.get("type") != "GIT" and v != "0"
                    ][:3] + affected.get("versions", [])[:1]
                    for v in versions:
                        prefix = "v" if pkg["ecosystem"] == "Go" else ""
                        purl = f"pkg:{purl_type[pkg['ecosystem']]}/{pkg['name']}@{prefix}{v}"
                        comps.setdefault(purl, Comp(purl, pkg["name"], v, purl))
    with AdvisoryStore() as store:
        store.import_paths([shared_data / "osv" / "PyPI.zip", shared_data / "osv" / "Go.zip"])
        report = both_ways(list(comps.values()), store)
    print(f"\nindex agreement: {len(comps)} components, {len(report.findings)} findings")
    assert len(comps) > 3000 and len(report.findings) > 20000
