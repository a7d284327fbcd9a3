"""The advisory store: imports (files, directories, zips), incremental updates, withdrawn
records, the snapshot digest, lookups and the refusal of hostile archives."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from clearroom.vulns.store import AdvisoryStore, StoreError, StoreLimits, sync_online

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "osv"
GOOD = [
    "PYSEC-TEST-1.json",
    "GHSA-test-0001.json",
    "withdrawn-GHSA-test-0002.json",
    "no-introduced-GO-TEST-3.json",
]


def record(ident, modified="2024-01-01T00:00:00Z", name="pkg", ecosystem="PyPI", **extra):
    return {
        "id": ident,
        "modified": modified,
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            }
        ],
        **extra,
    }


def raw(data):
    return json.dumps(data).encode()


@pytest.fixture
def store():
    with AdvisoryStore(":memory:") as s:
        yield s


def test_import_a_directory_counts_and_rejects(store, tmp_path):
    report = store.import_paths([FIXTURES])
    assert (report.added, report.updated, report.unchanged, report.withdrawn) == (4, 0, 0, 1)
    reasons = {Path(r.source).name: r.reason for r in report.rejected}
    assert set(reasons) == {"truncated-json.json", "no-id.json"}
    assert reasons["truncated-json.json"].startswith("invalid JSON")
    assert "id" in reasons["no-id.json"]
    assert report.snapshot.startswith("sha256:") and report.snapshot == store.snapshot()
    assert len(store) == 4


def test_import_single_files_and_missing_paths(store, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    report = store.import_paths(
        [FIXTURES / GOOD[0], tmp_path / "absent.json", tmp_path / "notes.txt"]
    )
    assert report.added == 1
    assert [r.reason for r in report.rejected] == [
        "no such file or directory",
        "not a .json file, .zip or directory",
    ]


def test_lookup_normalises_the_name_and_hides_withdrawn(store):
    store.import_paths([FIXTURES])
    ids = [a.id for a in store.lookup("PyPI", "DEMO.pkg")]
    assert ids == ["GHSA-test-0001", "PYSEC-TEST-1"]
    with_withdrawn = [a.id for a in store.lookup("PyPI", "demo_pkg", include_withdrawn=True)]
    assert with_withdrawn == ["GHSA-test-0001", "GHSA-test-0002", "PYSEC-TEST-1"]
    assert store.get("GHSA-test-0002").is_withdrawn
    assert store.lookup("PyPI", "other") == []
    assert store.lookup("npm", "demo-pkg") == []


def test_lookup_ignores_the_release_suffix(store):
    store.import_records([("x", raw(record("DSA-1", name="openssl", ecosystem="Debian:12")))])
    assert [a.id for a in store.lookup("Debian:11", "openssl")] == ["DSA-1"]
    assert [a.id for a in store.lookup("Debian", "openssl")] == ["DSA-1"]


def test_older_or_equal_modified_is_ignored_newer_replaces(store):
    store.import_records([("a", raw(record("X-1", "2024-05-01T00:00:00Z", summary="v2")))])
    first = store.snapshot()
    older = store.import_records([("b", raw(record("X-1", "2024-04-01T00:00:00Z", summary="v1")))])
    assert (older.added, older.updated, older.unchanged) == (0, 0, 1)
    assert store.get("X-1").summary == "v2" and older.snapshot == first
    # same instant in another notation and different content: kept, and reported
    same = store.import_records(
        [("c", raw(record("X-1", "2024-05-01T02:00:00+02:00", summary="v2b")))]
    )
    assert same.unchanged == 1 and same.conflicts == ("X-1",)
    newer = store.import_records(
        [("d", raw(record("X-1", "2024-05-01T00:00:00.000001Z", summary="v3", name="moved")))]
    )
    assert (newer.added, newer.updated) == (0, 1)
    assert store.get("X-1").summary == "v3" and newer.snapshot != first
    assert store.lookup("PyPI", "pkg") == []  # the index follows the new record
    assert [a.id for a in store.lookup("PyPI", "moved")] == ["X-1"]


def test_within_one_import_the_newest_copy_wins(store):
    report = store.import_records(
        [
            ("a", raw(record("X-1", "2024-05-01T00:00:00Z", summary="new"))),
            ("b", raw(record("X-1", "2024-01-01T00:00:00Z", summary="old"))),
        ]
    )
    assert report.added == 1 and store.get("X-1").summary == "new"


def test_newer_withdrawal_replaces_and_is_counted(store):
    store.import_records([("a", raw(record("X-1")))])
    report = store.import_records(
        [("b", raw(record("X-1", "2025-01-01T00:00:00Z", withdrawn="2025-01-01T00:00:00Z")))]
    )
    assert (report.updated, report.withdrawn) == (1, 1)
    assert store.lookup("PyPI", "pkg") == []
    assert store.get("X-1").is_withdrawn


def test_snapshot_is_independent_of_import_order_and_formatting():
    a = record("A-1", aliases=["CVE-1"])
    b = record("B-1", "2024-02-02T00:00:00Z")
    with AdvisoryStore() as one, AdvisoryStore() as two:
        one.import_records([("1", raw(a)), ("2", raw(b))])
        two.import_records([("2", json.dumps(b, indent=4).encode())])
        two.import_records([("1", json.dumps(a, sort_keys=True).encode())])
        assert one.snapshot() == two.snapshot()


def test_snapshot_of_an_empty_store_is_stable():
    with AdvisoryStore() as one, AdvisoryStore() as two:
        assert one.snapshot() == two.snapshot()
        assert one.import_records([]).snapshot == one.snapshot()


def test_malformed_records_are_rejected_with_reasons(store):
    report = store.import_records(
        [
            ("list", b"[]"),
            ("id", raw({"id": "../../etc", "modified": "2024-01-01T00:00:00Z"})),
            ("modified", raw({"id": "X-1", "modified": "yesterday"})),
            ("affected", raw({"id": "X-2", "modified": "2024-01-01T00:00:00Z", "affected": {}})),
            ("deep", b"[" * 100_000),
        ]
    )
    reasons = {r.source: r.reason for r in report.rejected}
    assert reasons["list"] == "not a JSON object"
    assert "malformed id" in reasons["id"]
    assert "modified" in reasons["modified"]
    assert "affected is not a list" in reasons["affected"]
    assert reasons["deep"].startswith("invalid JSON")
    assert len(store) == 0


def test_aliases_join_into_groups(store):
    store.import_paths([FIXTURES])
    store.import_records([("x", raw(record("OSV-9", aliases=["GHSA-test-0001"])))])
    assert store.alias_group("PYSEC-TEST-1") == {
        "PYSEC-TEST-1",
        "GHSA-test-0001",
        "CVE-2099-0001",
        "OSV-9",
    }
    assert store.alias_group("nothing") == {"nothing"}


def test_the_cache_is_invalidated_by_an_import(store):
    store.import_records([("a", raw(record("X-1", summary="old")))])
    assert store.lookup("PyPI", "pkg")[0].summary == "old"
    store.import_records([("b", raw(record("X-1", "2025-01-01T00:00:00Z", summary="new")))])
    assert store.lookup("PyPI", "pkg")[0].summary == "new"


def test_a_file_store_persists(tmp_path):
    path = tmp_path / "advisories.sqlite3"
    with AdvisoryStore(path) as s:
        snapshot = s.import_paths([FIXTURES]).snapshot
    with AdvisoryStore(path) as s:
        assert s.snapshot() == snapshot
        assert [a.id for a in s.lookup("PyPI", "demo-pkg")] == ["GHSA-test-0001", "PYSEC-TEST-1"]
        assert s.import_paths([FIXTURES]).unchanged == 4


def test_a_corrupt_database_is_a_clear_error(tmp_path):
    path = tmp_path / "not-a-db.sqlite3"
    path.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(StoreError, match="vulns: cannot open advisory store"):
        AdvisoryStore(path)


# -- zips ------------------------------------------------------------------------------------


def make_zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def test_zip_import(store, tmp_path):
    entries = [(name, (FIXTURES / name).read_bytes()) for name in GOOD]
    report = store.import_paths([make_zip(tmp_path / "all.zip", entries)])
    assert (report.added, report.rejected) == (4, ())


def test_zip_slip_entries_are_refused_never_extracted(store, tmp_path):
    evil = raw(record("EVIL-1"))
    archive = make_zip(
        tmp_path / "all.zip",
        [
            ("../evil.json", evil),
            ("ok/../../evil2.json", evil),
            ("/etc/evil3.json", evil),
            ("C:/evil4.json", evil),
            ("dir\\..\\evil5.json", evil),
            ("README.txt", b"hello"),
            ("GOOD-1.json", raw(record("GOOD-1"))),
        ],
    )
    workdir = tmp_path / "work"
    workdir.mkdir()
    report = store.import_paths([archive])
    assert report.added == 1 and store.get("EVIL-1") is None
    reasons = {r.source.split("!", 1)[1]: r.reason for r in report.rejected}
    assert "'..'" in reasons["../evil.json"] and "'..'" in reasons["ok/../../evil2.json"]
    assert "absolute" in reasons["/etc/evil3.json"] and "absolute" in reasons["C:/evil4.json"]
    assert "absolute" in reasons["dir\\..\\evil5.json"]
    assert reasons["README.txt"] == "not a .json entry"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.zip", "work"]


def test_zip_entries_over_the_size_limit_are_refused(tmp_path):
    big = raw(record("BIG-1", details="x" * 5000))
    archive = make_zip(
        tmp_path / "all.zip", [("BIG-1.json", big), ("SMALL-1.json", raw(record("SMALL-1")))]
    )
    with AdvisoryStore(limits=StoreLimits(max_record_bytes=2000)) as s:
        report = s.import_paths([archive])
        assert report.added == 1
        assert "larger than 2000" in report.rejected[0].reason


def test_zip_total_size_limit_stops_the_archive(tmp_path):
    entries = [(f"R-{i}.json", raw(record(f"R-{i}"))) for i in range(5)]
    archive = make_zip(tmp_path / "all.zip", entries)
    one = len(entries[0][1])
    with AdvisoryStore(limits=StoreLimits(max_zip_total_bytes=one * 2)) as s:
        report = s.import_paths([archive])
        assert report.added == 2
        assert report.rejected[-1].reason == "archive exceeds max_zip_total_bytes"


def test_a_broken_zip_is_rejected(store, tmp_path):
    bad = tmp_path / "all.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    report = store.import_paths([bad])
    assert report.rejected[0].reason.startswith("not a readable zip")


def test_a_directory_link_is_not_followed(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(FIXTURES / GOOD[0], outside / GOOD[0])
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    assert store.import_paths([root]).added == 0


# -- limits and sync -------------------------------------------------------------------------


def test_limits_are_validated():
    with pytest.raises(StoreError, match="max_record_bytes"):
        StoreLimits(max_record_bytes=0)
    with pytest.raises(StoreError, match="cached_packages"):
        StoreLimits(cached_packages=-1)


def test_sync_refuses_a_bad_ecosystem_name(tmp_path):
    with pytest.raises(StoreError, match="not an OSV ecosystem"):
        sync_online(["../PyPI"], tmp_path)


def test_sync_offline_is_a_clear_error(tmp_path):
    # port 9 (discard) on loopback: refused at once, like a machine with no route out
    with pytest.raises(StoreError, match="offline"):
        sync_online(["PyPI"], tmp_path, base_url="http://127.0.0.1:9")
    assert list(tmp_path.iterdir()) == []


def test_an_import_names_the_packages_whose_verdicts_may_have_changed(tmp_path):
    def record(modified, *names):
        return json.dumps(
            {
                "id": "OSV-CHANGE-1",
                "modified": modified,
                "affected": [
                    {"package": {"ecosystem": "PyPI", "name": n}, "versions": ["1.0"]}
                    for n in names
                ],
            }
        ).encode()

    with AdvisoryStore(tmp_path / "s.sqlite3") as store:
        first = store.import_records([("a", record("2026-01-01T00:00:00Z", "Alpha", "beta"))])
        assert first.changed_packages == {("PyPI", "alpha"), ("PyPI", "beta")}
        again = store.import_records([("a", record("2026-01-01T00:00:00Z", "Alpha", "beta"))])
        assert again.changed_packages == frozenset()
        moved = store.import_records([("a", record("2026-02-01T00:00:00Z", "gamma"))])
        assert moved.changed_packages == {("PyPI", "alpha"), ("PyPI", "beta"), ("PyPI", "gamma")}
