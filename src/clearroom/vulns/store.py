"""The advisory store: OSV records in one SQLite file, indexed by (ecosystem, normalised name).

    >>> store = AdvisoryStore(":memory:")
    >>> report = store.import_paths(["PyPI.zip", "advisories/"])      # doctest: +SKIP
    >>> report.added, report.snapshot                                 # doctest: +SKIP
    (2661, 'sha256:...')
    >>> [a.id for a in store.lookup("PyPI", "Django")]                # doctest: +SKIP

Imports are incremental: a record replaces the stored one only when its ``modified`` is newer.
Withdrawn records are kept and marked (``lookup`` leaves them out unless asked). Records are
stored as canonical compact JSON, zlib-compressed; the **snapshot digest** is SHA-256 over the
sorted ``(id, modified, sha256 of the canonical JSON)`` lines of every stored record, so a
verdict can name exactly the advisory data it was computed from.

Zip archives (osv.dev's per-ecosystem ``all.zip``) are read entry by entry in memory, never
extracted; entries with ``..``, absolute or backslash paths, encryption, or over the size limit
are refused and reported.

Beside each record the store keeps its **match index** (``osv.index_record``): per package the
record names, the compact form of what evaluation reads, so matching a large SBOM reads a few
hundred bytes per advisory instead of decoding and parsing every record. It is written in the
same transaction as the record. ``meta.match_index`` names the index layout and the snapshot it
was built for; a store written before the index existed (or by a version that did not keep it)
is brought up to date when opened, once, with a log line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from clearroom.errors import ClearroomError
from clearroom.vulns.osv import (
    INDEX_FORMAT,
    Advisory,
    IndexedPackage,
    InvalidAdvisory,
    index_record,
    parse_advisory,
)
from clearroom.vulns.purl import base_ecosystem, normalise_name

__all__ = [
    "OSV_BUCKET",
    "AdvisoryStore",
    "ImportReport",
    "Rejection",
    "StoreError",
    "StoreLimits",
    "sync_online",
]

OSV_BUCKET: Final = "https://osv-vulnerabilities.storage.googleapis.com"
SCHEMA_VERSION: Final = 1
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,199}")
_FRACTION: Final = re.compile(r"\.(\d+)")
_ECOSYSTEM: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9.: _-]{0,99}")
_BATCH: Final = 1000
_log = logging.getLogger(__name__)


class StoreError(ClearroomError):
    """The store cannot do what was asked (bad limits, unreadable database, offline sync)."""


@dataclass(frozen=True)
class StoreLimits:
    """Every bound the store applies, by name."""

    max_record_bytes: int = 8 * 1024 * 1024
    max_zip_entries: int = 2_000_000
    max_zip_total_bytes: int = 16 * 1024**3
    max_download_bytes: int = 4 * 1024**3
    download_timeout_seconds: float = 60.0
    cached_packages: int = 4096

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        for name in ("max_record_bytes", "max_zip_entries", "max_zip_total_bytes"):
            if getattr(self, name) < 1:
                raise StoreError(f"vulns: store limit {name} must be positive")
        if self.max_download_bytes < 1 or self.download_timeout_seconds <= 0:
            raise StoreError("vulns: download limits must be positive")
        if self.cached_packages < 0:
            raise StoreError("vulns: cached_packages must not be negative")


@dataclass(frozen=True, slots=True)
class Rejection:
    source: str
    reason: str


@dataclass(frozen=True)
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: tuple[Rejection, ...] = ()
    snapshot: str = ""
    seconds: float = 0.0
    # same modified, different content: the stored record was kept (see the module docstring)
    conflicts: tuple[str, ...] = field(default=(), repr=False)
    changed_packages: frozenset[tuple[str, str]] = field(default=frozenset(), repr=False)
    """(ecosystem, normalised name) of every package an added or updated advisory names, or
    named before the update: the only packages whose verdicts can have changed."""

    @property
    def seen(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.rejected)


def _normalise_time(value: Any) -> str | None:
    """RFC 3339 -> a fixed-width UTC string that sorts by time, or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.strip(), count=1)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        m = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond:06d}Z"
    )


@dataclass(slots=True)
class _Prepared:
    id: str
    modified: str
    modified_key: str
    withdrawn: bool
    digest: bytes
    blob: bytes
    """canonical JSON; compressed only when it is written"""
    aliases: set[str]
    index: dict[tuple[str, str], str]
    """the match index: compact JSON per (ecosystem, normalised name) the record names"""
    head: str

    @property
    def packages(self) -> Iterable[tuple[str, str]]:
        return self.index.keys()


def _prepare(data: Any) -> _Prepared | str:
    """A decoded record ready to store, or the reason it is refused."""
    if not isinstance(data, dict):
        return "not a JSON object"
    ident = data.get("id")
    if not isinstance(ident, str) or not _ID.fullmatch(ident):
        return f"missing or malformed id {str(ident)[:80]!r}"
    modified = data.get("modified")
    modified_key = _normalise_time(modified)
    if modified_key is None:
        return f"{ident}: missing or malformed modified {str(modified)[:40]!r}"
    affected = data.get("affected", [])
    if not isinstance(affected, list):
        return f"{ident}: affected is not a list"
    index, head = index_record(data)
    raw_aliases = data.get("aliases")
    aliases = (
        {a for a in raw_aliases if isinstance(a, str) and a != ident}
        if isinstance(raw_aliases, list)
        else set()
    )
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    encoded = canonical.encode()
    return _Prepared(
        id=ident,
        modified=str(modified),
        modified_key=modified_key,
        withdrawn=isinstance(data.get("withdrawn"), str),
        digest=hashlib.sha256(encoded).digest(),
        blob=encoded,
        aliases=aliases,
        index=index,
        head=head,
    )


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    modified_key TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    digest BLOB NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS packages (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packages_by_id ON packages (id);
CREATE TABLE IF NOT EXISTS aliases (
    id TEXT NOT NULL,
    alias TEXT NOT NULL,
    PRIMARY KEY (id, alias)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_by_alias ON aliases (alias);
CREATE TABLE IF NOT EXISTS match_index (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    entries TEXT NOT NULL,
    head TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


class AdvisoryStore:
    """OSV advisories in SQLite (WAL), at ``path`` or ``":memory:"``. Thread-safe."""

    def __init__(
        self, path: str | os.PathLike[str] = ":memory:", limits: StoreLimits | None = None
    ):
        self.limits = limits or StoreLimits()
        self._path = str(path)
        self._lock = threading.RLock()
        self._cache: OrderedDict[tuple[str, str], tuple[Advisory, ...]] = OrderedDict()
        self._indexed: OrderedDict[tuple[str, str], IndexedPackage] = OrderedDict()
        self._indexed_size = self.limits.cached_packages
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            if str(path) != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise StoreError(f"vulns: advisory store {path} has schema {version}")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
            self._index_ready = self._ensure_index()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"vulns: cannot open advisory store {path}: {exc}") from None

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AdvisoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- import ------------------------------------------------------------------------------

    def import_paths(self, paths: Iterable[str | os.PathLike[str]]) -> ImportReport:
        """Import OSV ``.json`` files, directories of them, and ``all.zip`` archives."""
        rejected: list[Rejection] = []
        return self._import(self._read_paths(paths, rejected), rejected)

    def import_records(self, records: Iterable[tuple[str, bytes]]) -> ImportReport:
        """Import ``(source, raw JSON bytes)`` pairs (what ``import_paths`` reads)."""
        return self._import(iter(records), [])

    def _read_paths(
        self, paths: Iterable[str | os.PathLike[str]], rejected: list[Rejection]
    ) -> Iterator[tuple[str, bytes]]:
        for item in paths:
            path = Path(item)
            if path.is_dir():
                for root, dirs, files in os.walk(path):  # does not follow directory links
                    dirs.sort()
                    for name in sorted(files):
                        if name.endswith(".json"):
                            yield from self._read_file(Path(root) / name, rejected)
            elif path.suffix == ".zip" and path.is_file():
                yield from self._read_zip(path, rejected)
            elif path.suffix == ".json" and path.is_file():
                yield from self._read_file(path, rejected)
            elif not path.exists():
                rejected.append(Rejection(str(path), "no such file or directory"))
            else:
                rejected.append(Rejection(str(path), "not a .json file, .zip or directory"))

    def _read_file(self, path: Path, rejected: list[Rejection]) -> Iterator[tuple[str, bytes]]:
        limit = self.limits.max_record_bytes
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            rejected.append(Rejection(str(path), f"unreadable: {exc.strerror or exc}"))
            return
        if len(data) > limit:
            rejected.append(Rejection(str(path), f"larger than {limit} bytes"))
            return
        yield str(path), data

    def _read_zip(self, path: Path, rejected: list[Rejection]) -> Iterator[tuple[str, bytes]]:
        limits = self.limits
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            rejected.append(Rejection(str(path), f"not a readable zip: {exc}"))
            return
        with archive:
            infos = archive.infolist()
            if len(infos) > limits.max_zip_entries:
                rejected.append(Rejection(str(path), f"more than {limits.max_zip_entries} entries"))
                return
            total = 0
            for info in infos:
                source = f"{path}!{info.filename}"
                if info.is_dir():
                    continue
                reason = _unsafe_entry(info, limits.max_record_bytes)
                if reason:
                    rejected.append(Rejection(source, reason))
                    continue
                total += info.file_size
                if total > limits.max_zip_total_bytes:
                    rejected.append(Rejection(source, "archive exceeds max_zip_total_bytes"))
                    return
                try:
                    with archive.open(info) as member:
                        data = member.read(limits.max_record_bytes + 1)
                except (zipfile.BadZipFile, OSError, ValueError, zlib.error) as exc:
                    rejected.append(Rejection(source, f"unreadable entry: {exc}"))
                    continue
                if len(data) > limits.max_record_bytes:  # the header lied about its size
                    rejected.append(Rejection(source, "entry larger than its header says"))
                    continue
                yield source, data

    def _import(
        self, records: Iterator[tuple[str, bytes]], rejected: list[Rejection]
    ) -> ImportReport:
        started = time.perf_counter()
        counts = {"added": 0, "updated": 0, "unchanged": 0, "withdrawn": 0}
        conflicts: list[str] = []
        touched: set[tuple[str, str]] = set()
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            # zlib lets go of the GIL while it compresses: one batch is compressed on the side
            # while the next is parsed, and written once both are done
            pool = ThreadPoolExecutor(1, thread_name_prefix="clearroom-advisory-compress")
            try:
                batch: dict[str, _Prepared] = {}
                queued: list[tuple[dict[str, _Prepared], Future[dict[str, bytes]]]] = []
                for source, raw in records:
                    try:
                        prepared = _prepare(json.loads(raw))
                    except (ValueError, RecursionError) as exc:
                        rejected.append(Rejection(source, f"invalid JSON: {str(exc)[:120]}"))
                        continue
                    if isinstance(prepared, str):
                        rejected.append(Rejection(source, prepared))
                        continue
                    held = batch.get(prepared.id)
                    if held is None or held.modified_key < prepared.modified_key:
                        batch[prepared.id] = prepared
                    if len(batch) >= _BATCH:
                        queued.append((batch, pool.submit(_compress, batch)))
                        batch = {}
                        if len(queued) > 1:
                            self._write(*queued.pop(0), counts, conflicts, touched)
                if batch:
                    queued.append((batch, pool.submit(_compress, batch)))
                for pending in queued:
                    self._write(*pending, counts, conflicts, touched)
                changed = counts["added"] + counts["updated"]
                if changed or self._meta("snapshot") is None:
                    self._set_meta("snapshot", self._compute_snapshot())
                    if self._index_ready:
                        self._set_meta("match_index", self._index_stamp())
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            finally:
                pool.shutdown(cancel_futures=True)
            if changed:
                self._cache.clear()
                self._indexed.clear()
            snapshot = self._meta("snapshot") or ""
        return ImportReport(
            added=counts["added"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            withdrawn=counts["withdrawn"],
            rejected=tuple(rejected),
            snapshot=snapshot,
            seconds=time.perf_counter() - started,
            conflicts=tuple(conflicts),
            changed_packages=frozenset(touched),
        )

    def _write(
        self,
        batch: dict[str, _Prepared],
        compressed: Future[dict[str, bytes]],
        counts: dict[str, int],
        conflicts: list[str],
        touched: set[tuple[str, str]],
    ) -> None:
        db = self._db
        ids = list(batch)
        stored: dict[str, tuple[str, bytes]] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            stored.update(
                (row[0], (row[1], row[2]))
                for row in db.execute(
                    f"SELECT id, modified_key, digest FROM advisories WHERE id IN ({marks})",  # noqa: S608
                    part,
                )
            )
        writes: list[_Prepared] = []
        for ident, record in batch.items():
            old = stored.get(ident)
            if old is None:
                counts["added"] += 1
            elif old[0] < record.modified_key:
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
                if old[0] == record.modified_key and old[1] != record.digest:
                    conflicts.append(ident)
                continue
            counts["withdrawn"] += record.withdrawn
            writes.append(record)
        if not writes:
            return
        blobs = compressed.result()
        touched.update(p for r in writes for p in r.packages)
        replaced = [(r.id,) for r in writes if r.id in stored]
        unindexed: list[tuple[str, str, str]] = []
        for (ident,) in replaced:
            named = db.execute("SELECT ecosystem, name FROM packages WHERE id = ?", (ident,))
            for eco, name in named:
                touched.add((eco, name))
                unindexed.append((eco, name, ident))
        if replaced:
            db.executemany("DELETE FROM packages WHERE id = ?", replaced)
            db.executemany("DELETE FROM aliases WHERE id = ?", replaced)
            if self._index_ready:
                db.executemany(
                    "DELETE FROM match_index WHERE ecosystem = ? AND name = ? AND id = ?",
                    unindexed,
                )
        db.executemany(
            "INSERT OR REPLACE INTO advisories VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    r.id,
                    r.modified,
                    r.modified_key,
                    int(r.withdrawn),
                    r.digest,
                    blobs[r.id],
                )
                for r in writes
            ],
        )
        db.executemany(
            "INSERT OR IGNORE INTO packages VALUES (?, ?, ?)",
            [(eco, name, r.id) for r in writes for eco, name in r.packages],
        )
        db.executemany(
            "INSERT OR IGNORE INTO aliases VALUES (?, ?)",
            [(r.id, alias) for r in writes for alias in r.aliases],
        )
        if self._index_ready:
            db.executemany(
                "INSERT OR REPLACE INTO match_index VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (eco, name, r.id, int(r.withdrawn), entries, r.head)
                    for r in writes
                    for (eco, name), entries in r.index.items()
                ],
            )

    # -- the match index ---------------------------------------------------------------------

    def _index_stamp(self) -> str:
        """What ``meta.match_index`` says when the index matches the records: its layout and
        the snapshot it was built for (an older version importing changes the snapshot and
        leaves the index behind, so the stamp no longer matches)."""
        return f"{INDEX_FORMAT} {self._meta('snapshot') or ''}"

    def _ensure_index(self) -> bool:
        """Bring the match index up to date if it is not (a store from before it existed, or
        written since by a version that does not keep it). False when it cannot be written
        (a read-only file, another process holding the write lock): matching then decodes the
        full records, as before the index existed."""
        if self._meta("match_index") == self._index_stamp():
            return True
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            _log.warning(
                "vulns: the match index of %s is out of date and cannot be rebuilt now (%s); "
                "matching reads the full records until it is",
                self._path,
                exc,
            )
            return False
        try:
            if self._meta("match_index") != self._index_stamp():  # not done meanwhile
                self._rebuild_index()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return True

    def _rebuild_index(self) -> None:
        db = self._db
        started = time.perf_counter()
        count = int(db.execute("SELECT count(*) FROM advisories").fetchone()[0])
        if count:
            _log.info(
                "vulns: building the match index of advisory store %s (%d advisories; once "
                "after an upgrade)",
                self._path,
                count,
            )
        db.execute("DELETE FROM match_index")
        last = ""
        while True:
            rows = db.execute(
                "SELECT id, withdrawn, data FROM advisories WHERE id > ? ORDER BY id LIMIT ?",
                (last, _BATCH),
            ).fetchall()
            if not rows:
                break
            last = rows[-1][0]
            writes: list[tuple[str, str, str, int, str, str]] = []
            for ident, withdrawn, blob in rows:
                try:
                    data = json.loads(zlib.decompress(blob))
                except (ValueError, zlib.error):
                    continue  # unreadable: lookup skips it too
                if not isinstance(data, dict):
                    continue
                index, head = index_record(data)
                writes += [(e, n, ident, withdrawn, row, head) for (e, n), row in index.items()]
            db.executemany("INSERT OR REPLACE INTO match_index VALUES (?, ?, ?, ?, ?, ?)", writes)
        self._set_meta("match_index", self._index_stamp())
        if count:
            _log.info(
                "vulns: match index of %s built in %.1f s",
                self._path,
                time.perf_counter() - started,
            )

    # -- snapshot ----------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _compute_snapshot(self) -> str:
        digest = hashlib.sha256()
        rows = self._db.execute("SELECT id, modified, digest FROM advisories ORDER BY id")
        for ident, modified, content in rows:
            digest.update(f"{ident}\t{modified}\t{bytes(content).hex()}\n".encode())
        return "sha256:" + digest.hexdigest()

    def snapshot(self) -> str:
        """The digest naming exactly the advisory data this store holds."""
        with self._lock:
            value = self._meta("snapshot")
            if value is None:
                value = self._compute_snapshot()
        return value

    # -- queries -----------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM advisories").fetchone()[0])

    def get(self, ident: str) -> Advisory | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM advisories WHERE id = ?", (ident,)).fetchone()
        return _decode(row[0]) if row else None

    def _check_other_writers(self) -> None:
        """Drop the caches when another connection (another process importing) has committed
        since we last looked, and stop using an index it left behind."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self._cache.clear()
            self._indexed.clear()
            if self._index_ready and self._meta("match_index") != self._index_stamp():
                _log.warning(
                    "vulns: advisory store %s was changed by a version without the match index; "
                    "matching reads the full records until it is reopened",
                    self._path,
                )
                self._index_ready = False

    def indexed(
        self, packages: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], IndexedPackage] | None:
        """For each ``(ecosystem, name)`` asked: the advisories naming the package that are not
        withdrawn, in the match index's compact form, by id - what :func:`match.match_report`
        evaluates. None when this store has no usable index (use :meth:`lookup`).

        The package cache grows to hold every package of the largest call, so a repeated scan
        of the same SBOM reads nothing (``cached_packages=0`` still turns caching off)."""
        asked = list(dict.fromkeys(packages))
        with self._lock:
            self._check_other_writers()
            if not self._index_ready:
                return None
            cache = self._indexed
            if self.limits.cached_packages:
                self._indexed_size = max(self._indexed_size, len(asked))
            found: dict[tuple[str, str], IndexedPackage] = {}
            for ecosystem, name in asked:
                key = (base_ecosystem(ecosystem), normalise_name(ecosystem, name))
                hit = cache.get(key)
                if hit is not None:
                    cache.move_to_end(key)
                else:
                    hit = self._read_indexed(key)
                    if self.limits.cached_packages:
                        cache[key] = hit
                        while len(cache) > self._indexed_size:
                            cache.popitem(last=False)
                found[(ecosystem, name)] = hit
        return found

    def _read_indexed(self, key: tuple[str, str]) -> IndexedPackage:
        rows = self._db.execute(
            "SELECT id, entries, head FROM match_index"
            " WHERE ecosystem = ? AND name = ? AND withdrawn = 0 ORDER BY id",
            key,
        ).fetchall()
        return IndexedPackage(
            tuple([row[0] for row in rows]),
            "[" + ",".join([row[1] for row in rows]) + "]",  # decoded in one go when matched
            tuple([row[2] for row in rows]),
        )

    def lookup(
        self, ecosystem: str, name: str, *, include_withdrawn: bool = False
    ) -> list[Advisory]:
        """The advisories naming this package (any release suffix of the ecosystem), by id."""
        key = (base_ecosystem(ecosystem), normalise_name(ecosystem, name))
        with self._lock:
            self._check_other_writers()
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
            else:
                rows = self._db.execute(
                    "SELECT a.data FROM packages p JOIN advisories a ON a.id = p.id"
                    " WHERE p.ecosystem = ? AND p.name = ? ORDER BY a.id",
                    key,
                ).fetchall()
                found = tuple(adv for adv in (_decode(r[0]) for r in rows) if adv is not None)
                if self.limits.cached_packages:
                    self._cache[key] = found
                    while len(self._cache) > self.limits.cached_packages:
                        self._cache.popitem(last=False)
        if include_withdrawn:
            return list(found)
        return [adv for adv in found if not adv.is_withdrawn]

    def alias_group(self, ident: str) -> frozenset[str]:
        """Every id joined to ``ident`` through aliases, transitively (including itself)."""
        group = {ident}
        frontier = {ident}
        with self._lock:
            while frontier and len(group) < 10_000:
                marks = ",".join("?" * len(frontier))
                args = list(frontier) * 2
                rows = self._db.execute(
                    f"SELECT id, alias FROM aliases WHERE id IN ({marks}) OR alias IN ({marks})",  # noqa: S608
                    args,
                ).fetchall()
                found = {x for row in rows for x in row}
                frontier = found - group
                group |= found
        return frozenset(group)


def _compress(batch: dict[str, _Prepared]) -> dict[str, bytes]:
    return {ident: zlib.compress(record.blob, 1) for ident, record in batch.items()}


def _decode(blob: bytes) -> Advisory | None:
    try:
        return parse_advisory(json.loads(zlib.decompress(blob)))
    except (InvalidAdvisory, ValueError, zlib.error):
        return None


def _unsafe_entry(info: zipfile.ZipInfo, max_bytes: int) -> str | None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if "\\" in name or name.startswith("/") or re.match(r"[A-Za-z]:", name) or "\x00" in name:
        return "absolute or non-portable path refused"
    if ".." in parts:
        return "path with '..' refused"
    if info.flag_bits & 0x1:
        return "encrypted entry refused"
    if not name.endswith(".json"):
        return "not a .json entry"
    if info.file_size > max_bytes:
        return f"entry larger than {max_bytes} bytes"
    return None


def sync_online(
    ecosystems: Iterable[str],
    dest: str | os.PathLike[str],
    *,
    limits: StoreLimits | None = None,
    base_url: str = OSV_BUCKET,
) -> list[Path]:
    """Download osv.dev's ``<Ecosystem>/all.zip`` for each ecosystem into ``dest`` (streamed,
    size-bounded, written to a temporary file and renamed); returns the archive paths, ready
    for :meth:`AdvisoryStore.import_paths`."""
    import httpx

    limits = limits or StoreLimits()
    target = Path(dest)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with httpx.Client(timeout=limits.download_timeout_seconds, follow_redirects=False) as client:
        for eco in ecosystems:
            if not _ECOSYSTEM.fullmatch(eco):
                raise StoreError(f"vulns: {eco!r} is not an OSV ecosystem name")
            url = f"{base_url}/{quote(eco)}/all.zip"
            final = target / (re.sub(r"[^A-Za-z0-9.-]", "_", eco) + ".zip")
            partial = final.with_suffix(".zip.partial")
            try:
                with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise StoreError(f"vulns: {url} answered HTTP {response.status_code}")
                    size = 0
                    with partial.open("wb") as out:
                        for chunk in response.iter_bytes(1 << 20):
                            size += len(chunk)
                            if size > limits.max_download_bytes:
                                raise StoreError(
                                    f"vulns: {url} is larger than {limits.max_download_bytes} bytes"
                                )
                            out.write(chunk)
            except httpx.TransportError as exc:
                partial.unlink(missing_ok=True)
                raise StoreError(
                    f"vulns: cannot download {url} ({type(exc).__name__}: {exc}); offline? "
                    "copy the all.zip files over and use import_paths instead"
                ) from None
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            partial.replace(final)
            written.append(final)
    return written
