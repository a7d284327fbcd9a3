"""Reading a C2SP tlog-tiles log from somewhere else: over HTTP, from a directory, from an
`ObjectStore`.

Why a separate layer: whoever serves a log's objects (the log, a mirror, a CDN) is not trusted,
so every read is bounded before any parsing (python-tuf's fetcher rule): a checkpoint is at most
1 MiB, a tile 8 KiB, an entry bundle 256 · 65,537 bytes, and an HTTP read has a timeout and a
deadline. A `Fetcher` only moves bytes; `TileClient` knows the spec: the caps per kind, the
fall-back from a partial tile (``.p/<W>``) to the full one the log may have replaced it with
(as Tessera's client does), length checks, and counts of what was read. `TileNodeReader` turns
the tiles into the `NodeReader` that proofs are built from.

Example::

    with open_fetcher("https://log.example.org/") as fetcher:
        client = TileClient(fetcher)
        note = client.checkpoint()
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self, TypeVar

from clearroom.blobs.errors import BlobError, ObjectNotFound
from clearroom.blobs.interfaces import ObjectStore
from clearroom.blobs.layout import check_key
from clearroom.tlog.bundles import MAX_ENTRY_SIZE
from clearroom.tlog.errors import (
    FetchError,
    InvalidBundle,
    InvalidInput,
    InvalidTile,
    MissingTile,
    ObjectMissing,
    ResponseTooLarge,
)
from clearroom.tlog.hashing import HASH_SIZE, node_hash
from clearroom.tlog.layout import CHECKPOINT_KEY, TILE_WIDTH, TileRef, node_location, tile_for
from clearroom.tlog.note import MAX_NOTE_SIZE
from clearroom.untrusted import parse_decimal

if TYPE_CHECKING:
    import httpx

__all__ = [
    "MAX_BUNDLE_BYTES",
    "MAX_CHECKPOINT_BYTES",
    "MAX_TILE_BYTES",
    "DirectoryFetcher",
    "FetchLimits",
    "Fetcher",
    "HttpFetcher",
    "LocalFetcher",
    "ObjectStoreFetcher",
    "TileClient",
    "TileNodeReader",
    "bundle_leaf_hashes",
    "fetch_ahead",
    "open_fetcher",
]

_T = TypeVar("_T")
_R = TypeVar("_R")

MAX_CHECKPOINT_BYTES = MAX_NOTE_SIZE
"""A checkpoint is a signed note: 1 MiB at most (`clearroom.tlog.note.MAX_NOTE_SIZE`)."""
MAX_TILE_BYTES = TILE_WIDTH * HASH_SIZE
"""A full tile: 256 hashes of 32 bytes, 8 KiB."""
MAX_BUNDLE_BYTES = TILE_WIDTH * (2 + MAX_ENTRY_SIZE)
"""A full entry bundle: 256 entries of at most 65,535 bytes, each after a 2-byte length."""


class Fetcher(Protocol):
    """Moves the bytes of one object of a log, ``key`` being its path below the log's prefix
    (``checkpoint``, ``tile/0/000``...). Must raise `ObjectMissing` when there is no such object,
    `ResponseTooLarge` without reading further once more than ``max_bytes`` arrived, and
    `FetchError` for anything else that went wrong. Must be safe to call from several threads."""

    def fetch(self, key: str, max_bytes: int) -> bytes: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None: ...


class _Closing:
    """Context-manager plumbing shared by the fetchers."""

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        self.close()


def _check_request(key: str, max_bytes: int) -> str:
    """``key`` if it is a safe relative path and ``max_bytes`` is a cap, else `InvalidInput`."""
    if max_bytes < 0:
        raise InvalidInput(f"tlog: a size cap cannot be negative ({max_bytes})")
    try:
        return check_key(key)
    except BlobError as exc:
        raise InvalidInput(f"tlog: {key!r} is not a path within a log: {exc}") from None


# --- Fetchers -----------------------------------------------------------------------------------


class HttpFetcher(_Closing):
    """A log served over HTTP(S) at ``base_url``. ``timeout`` bounds connecting and each read
    (NOTES: Rekor v2 needs ≥ 20 s); ``deadline`` bounds a whole object, so a server that drips
    bytes cannot hold the monitor forever. Bodies are requested without content encoding, and
    the cap counts the bytes as decoded anyway. Redirects are followed."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        deadline: float = 300.0,
        user_agent: str = "clearroom-tlog-client",
        client: httpx.Client | None = None,
    ) -> None:
        import httpx

        if not base_url.startswith(("http://", "https://")):
            raise InvalidInput(f"tlog: {base_url!r} is not an http:// or https:// URL")
        if timeout <= 0 or deadline <= 0:
            raise InvalidInput("tlog: HTTP timeout and deadline must be positive")
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.deadline = deadline
        self._owned = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
        )
        self._errors: tuple[type[Exception], type[Exception]] = (
            httpx.TimeoutException,
            httpx.HTTPError,
        )

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def fetch(self, key: str, max_bytes: int) -> bytes:
        return self.fetch_url(self.base_url + _check_request(key, max_bytes), max_bytes)

    def fetch_url(self, url: str, max_bytes: int) -> bytes:
        """The body of a GET of ``url`` (any URL, e.g. with a query), under the same cap,
        timeout and deadline: the offline verifier's ``--online`` reads its bundle this way."""
        give_up = time.monotonic() + self.deadline
        timeout_error, http_error = self._errors
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code == 404:
                    raise ObjectMissing(url)
                if response.status_code != 200:
                    raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}")
                declared = parse_decimal(
                    response.headers.get("content-length", ""), canonical=False
                )
                if declared is not None and declared > max_bytes:
                    raise ResponseTooLarge(url, max_bytes, declared)
                chunks: list[bytes] = []  # no over-allocation: memory stays at the cap
                total = 0
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > max_bytes:
                        raise ResponseTooLarge(url, max_bytes)
                    if time.monotonic() > give_up:
                        raise FetchError(url, f"not complete after {self.deadline:g} s; gave up")
                return b"".join(chunks)
        except timeout_error as exc:
            raise FetchError(url, f"timed out after {self.timeout:g} s ({exc})") from exc
        except http_error as exc:
            raise FetchError(url, str(exc) or type(exc).__name__) from exc


class DirectoryFetcher(_Closing):
    """A log as files below ``root`` (a copy, a mount, a test fixture)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InvalidInput(f"tlog: {self.root} is not a directory holding a log")

    def fetch(self, key: str, max_bytes: int) -> bytes:
        path = self.root / _check_request(key, max_bytes)
        try:
            with path.open("rb") as file:
                data = file.read(max_bytes + 1)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectMissing(str(path)) from None
        except OSError as exc:
            raise FetchError(str(path), exc.strerror or str(exc)) from exc
        if len(data) > max_bytes:
            raise ResponseTooLarge(str(path), max_bytes, path.stat().st_size)
        return data


LocalFetcher = DirectoryFetcher
"""Another name for `DirectoryFetcher` (``bench/tlog.py`` asks for it by this one)."""


class ObjectStoreFetcher(_Closing):
    """A log read straight from its `ObjectStore` (local or S3), as the log's own tools see it."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    def fetch(self, key: str, max_bytes: int) -> bytes:
        _check_request(key, max_bytes)
        try:
            with self.objects.open_read(key) as reader:
                if reader.size > max_bytes:
                    raise ResponseTooLarge(key, max_bytes, reader.size)
                return reader.read_all()
        except ObjectNotFound:
            raise ObjectMissing(key) from None
        except BlobError as exc:
            raise FetchError(key, str(exc)) from exc


def open_fetcher(location: str, *, timeout: float = 30.0) -> Fetcher:
    """An `HttpFetcher` for an ``http(s)://`` URL, else a `DirectoryFetcher` for a path."""
    if location.startswith(("http://", "https://")):
        return HttpFetcher(location, timeout=timeout)
    if "://" in location:
        raise InvalidInput(f"tlog: cannot read a log from {location!r}; use http(s):// or a path")
    return DirectoryFetcher(Path(location).expanduser())


# --- The spec on top of a fetcher ---------------------------------------------------------------


@dataclass(frozen=True)
class FetchLimits:
    """Byte caps per kind of object; lower them to be stricter, never raise them past the spec."""

    checkpoint_bytes: int = MAX_CHECKPOINT_BYTES
    tile_bytes: int = MAX_TILE_BYTES
    bundle_bytes: int = MAX_BUNDLE_BYTES

    def __post_init__(self) -> None:
        for name, value, spec in (
            ("checkpoint_bytes", self.checkpoint_bytes, MAX_CHECKPOINT_BYTES),
            ("tile_bytes", self.tile_bytes, MAX_TILE_BYTES),
            ("bundle_bytes", self.bundle_bytes, MAX_BUNDLE_BYTES),
        ):
            if not 0 < value <= spec:
                raise InvalidInput(f"tlog: FetchLimits.{name} must be 1..{spec}, not {value}")


@dataclass
class FetchStats:
    """What a `TileClient` read: objects by kind and bytes in total."""

    checkpoints: int = 0
    tiles: int = 0
    bundles: int = 0
    bytes_read: int = 0


@dataclass
class TileClient:
    """Checkpoint, tiles and entry bundles of one log through a `Fetcher`, bounded and counted.

    Tiles and bundles are asked for at the width the tree needs; a partial one that is gone is
    read from the full one's prefix (logs may delete partials once the full object exists)."""

    fetcher: Fetcher
    limits: FetchLimits = field(default_factory=FetchLimits)
    stats: FetchStats = field(default_factory=FetchStats)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _count(self, size: int, *, checkpoints: int = 0, tiles: int = 0, bundles: int = 0) -> None:
        with self._lock:  # fetches may run on several threads (`fetch_ahead`)
            self.stats.checkpoints += checkpoints
            self.stats.tiles += tiles
            self.stats.bundles += bundles
            self.stats.bytes_read += size

    def checkpoint(self) -> bytes:
        data = self.fetcher.fetch(CHECKPOINT_KEY, self.limits.checkpoint_bytes)
        self._count(len(data), checkpoints=1)
        return data

    def _partial_or_full(self, ref: TileRef, cap: int) -> tuple[bytes, TileRef]:
        try:
            return self.fetcher.fetch(ref.key, cap), ref
        except ObjectMissing:
            if not ref.is_partial:
                raise MissingTile(ref.key) from None
        try:
            return self.fetcher.fetch(ref.full.key, cap), ref.full
        except ObjectMissing:
            raise MissingTile(ref.key) from None

    def tile(self, ref: TileRef) -> bytes:
        """The ``ref.width`` hashes of a hash tile, concatenated; wrong lengths: `InvalidTile`."""
        if ref.level is None:
            raise InvalidInput(f"tlog: {ref.key} is an entry bundle, not a hash tile")
        data, got = self._partial_or_full(ref, self.limits.tile_bytes)
        self._count(len(data), tiles=1)
        if len(data) != got.width * HASH_SIZE:
            whole = "" if len(data) % HASH_SIZE == 0 else " (not a whole number of hashes)"
            raise InvalidTile(
                got.key, f"{len(data)} bytes where {got.width * HASH_SIZE} are expected{whole}"
            )
        return data if got is ref else data[: ref.width * HASH_SIZE]

    def leaf_hashes(self, ref: TileRef) -> tuple[bytes, str]:
        """The leaf hashes of a bundle's ``ref.width`` entries, concatenated (as a level-0 tile
        holds them), and the key of the object they were read from."""
        data, got = self.bundle(ref)
        return bundle_leaf_hashes(data, got.width, got.key)[: ref.width * HASH_SIZE], got.key

    def bundle(self, ref: TileRef) -> tuple[bytes, TileRef]:
        """The raw bytes of an entry bundle and which object they came from: ``ref`` itself, or
        the full bundle (whose first ``ref.width`` entries are the ones asked for)."""
        if ref.level is not None:
            raise InvalidInput(f"tlog: {ref.key} is a hash tile, not an entry bundle")
        data, got = self._partial_or_full(ref, self.limits.bundle_bytes)
        self._count(len(data), bundles=1)
        return data, got


class TileNodeReader:
    """`clearroom.tlog.hashing.NodeReader` over the tiles a `TileClient` fetches, for a tree
    of ``size`` leaves; keeps the ``cache_tiles`` most recently used tiles."""

    def __init__(self, client: TileClient, size: int, *, cache_tiles: int = 64) -> None:
        if size < 0 or cache_tiles < 1:
            raise InvalidInput("tlog: TileNodeReader needs size >= 0 and cache_tiles >= 1")
        self._client = client
        self._size = size
        self._cache_tiles = cache_tiles
        self._cache: OrderedDict[tuple[int, int], bytes] = OrderedDict()

    def _tile(self, level: int, index: int) -> bytes:
        key = (level, index)
        data = self._cache.get(key)
        if data is None:
            data = self._client.tile(tile_for(self._size, level, index))
            self._cache[key] = data
            if len(self._cache) > self._cache_tiles:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return data

    def node(self, level: int, index: int) -> bytes:
        if level < 0 or index < 0 or level >= 64 or (index + 1) << level > self._size:
            raise InvalidInput(
                f"tlog: node ({level}, {index}) is not in a tree of size {self._size}"
            )
        where = node_location(level, index)
        data = self._tile(where.tile_level, where.tile_index)
        start = where.offset * HASH_SIZE
        hashes = [
            data[i : i + HASH_SIZE]
            for i in range(start, start + where.count * HASH_SIZE, HASH_SIZE)
        ]
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]


# --- Bulk reading: the monitor's hot path -------------------------------------------------------


def bundle_leaf_hashes(data: bytes, count: int, key: str) -> bytes:
    """Decode a bundle of exactly ``count`` entries and return their leaf hashes, concatenated,
    as strictly as `clearroom.tlog.bundles.decode_bundle`. Speed: once an entry's length is
    read, the low byte of its prefix is overwritten with the leaf prefix 0x00, so the hash input
    ``0x00 ‖ entry`` is one zero-copy slice of the bundle."""
    sha256 = hashlib.sha256
    buffer = bytearray(data)
    view = memoryview(buffer)
    out: list[bytes] = []
    append = out.append
    position, end = 0, len(buffer)
    for i in range(count):
        if position + 2 > end:
            raise InvalidBundle(key, f"truncated: no length prefix for entry {i} of {count}")
        start = position + 1
        position = start + 1 + ((buffer[position] << 8) | buffer[start])
        if position > end:
            raise InvalidBundle(key, f"entry {i} is truncated ({end - start - 1} bytes left)")
        buffer[start] = 0
        append(sha256(view[start:position]).digest())
    if position != end:
        raise InvalidBundle(key, f"{end - position} trailing bytes after {count} entries")
    return b"".join(out)


def fetch_ahead(items: Iterable[_T], work: Callable[[_T], _R], workers: int) -> Iterator[_R]:
    """``map(work, items)`` with up to ``workers`` calls running ahead on threads, results in
    order (errors too: the first failing item's error is raised when its turn comes)."""
    if workers <= 1:
        yield from map(work, items)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="tlog-fetch") as pool:
        window: deque[Future[_R]] = deque()
        for item in items:
            window.append(pool.submit(work, item))
            if len(window) >= 2 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
