"""Backend-independent machinery: writer lifecycle, on-the-fly hashing, verifying readers."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

from clearroom.blobs.errors import BlobCorrupted, BlobError, BlobTooLarge, DigestMismatch
from clearroom.blobs.interfaces import BlobReader, BlobSource, BlobWriter, BytesLike, Readable
from clearroom.blobs.layout import DEFAULT_CHUNK_SIZE, blob_key, check_digest
from clearroom.blobs.models import BlobInfo


def byte_view(data: BytesLike) -> memoryview:
    """A flat byte view of ``data``, without copying (multi-byte items are recast to bytes)."""
    view = memoryview(data)
    if view.itemsize != 1 or view.ndim != 1:
        view = view.cast("B")
    return view


def immutable(view: memoryview) -> memoryview | bytes:
    """``view`` if it is backed by ``bytes``, else a private copy, safe to keep after returning."""
    kept = immutable_or_none(view)
    return view.tobytes() if kept is None else kept


def immutable_or_none(view: memoryview) -> memoryview | None:
    """``view`` if it is backed by ``bytes`` (safe to keep), else None."""
    return view if view.readonly and type(view.obj) is bytes else None


def check_chunk_size(chunk_size: int) -> int:
    if chunk_size <= 0:
        raise ValueError(f"blobs: chunk_size must be positive, not {chunk_size}")
    return chunk_size


class Transaction(ABC):
    """A staged write: usable until committed or aborted; leaving ``with`` uncommitted aborts it."""

    def __init__(self) -> None:
        self._done = False
        self._size = 0

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._size

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()

    def abort(self) -> None:
        """Drop everything written so far; a no-op once committed or aborted."""
        if not self._done:
            self._done = True
            self._discard()

    def _check_open(self) -> None:
        if self._done:
            raise BlobError("blobs: this writer was already committed or aborted; open a new one")

    @abstractmethod
    def _discard(self) -> None:
        """Remove staging data."""


class HashingBlobWriter(Transaction):
    """Hashes, counts and limits bytes as they arrive; backends stage and publish them.

    Every byte is staged and published even when the blob is already stored: an upload of
    content someone else holds costs the same work as a new one, so its timing cannot tell an
    uploader that another organisation already holds the same (perhaps confidential) bytes.
    """

    def __init__(self, *, max_bytes: int | None, expected_sha256: str | None) -> None:
        super().__init__()
        if max_bytes is not None and max_bytes < 0:
            raise ValueError(f"blobs: max_bytes must be >= 0, not {max_bytes}")
        self._max = max_bytes
        self._expected = None if expected_sha256 is None else check_digest(expected_sha256)
        self._hasher = hashlib.sha256()

    def write(self, data: BytesLike, /) -> int:
        """Hash and stage one chunk; raises `BlobTooLarge` (and aborts) past ``max_bytes``."""
        self._check_open()
        view = byte_view(data)
        size = self._size + view.nbytes
        if self._max is not None and size > self._max:
            self.abort()
            raise BlobTooLarge(self._max)
        try:  # staging first: a background writer or uploader works while we hash
            self._sink(view)
        except BaseException:
            self.abort()
            raise
        self._hasher.update(view)
        self._written(view)
        self._size = size
        return view.nbytes

    def commit(self) -> BlobInfo:
        """Publish under ``ab/cd/<sha256>``; ``created`` is False if the content was present."""
        self._check_open()
        digest = self._hasher.hexdigest()
        if self._expected is not None and digest != self._expected:
            self.abort()
            raise DigestMismatch(self._expected, digest, self._size)
        try:
            created = self._publish(digest)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return BlobInfo(digest, self._size, created)

    @abstractmethod
    def _sink(self, view: memoryview) -> None:
        """Stage one chunk (the caller may reuse its buffer after this returns)."""

    def _written(self, view: memoryview) -> None:
        """Called after hashing ``view``; a backend that lent it to a thread waits for it here."""

    @abstractmethod
    def _publish(self, digest: str) -> bool:
        """Make the staged bytes the blob ``digest``; False if it already existed. A duplicate
        costs what a new blob costs (sealed, copied), then the copy is dropped."""


class ChunkStream:
    """Chunks from a backend iterator, with the object's size and a close hook."""

    def __init__(
        self, size: int, chunks: Iterator[bytes], close: Callable[[], None] | None = None
    ) -> None:
        self._size = size
        self._chunks = chunks
        self._close = close
        self._closed = False

    @property
    def size(self) -> int:
        return self._size

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise

    def read_all(self) -> bytes:
        """The remaining bytes in one buffer (for small objects)."""
        return b"".join(self)

    def close(self) -> None:
        """Release the stream; later ``next()`` calls stop (a blob closed early is not verified)."""
        self._closed = True
        self._chunks = iter(())
        close, self._close = self._close, None
        if close is not None:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class VerifyingReader(ChunkStream):
    """Re-hashes a blob as it streams; at the end raises `BlobCorrupted` instead of stopping."""

    def __init__(
        self,
        sha256: str,
        size: int,
        chunks: Iterator[bytes],
        close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(size, chunks, close)
        self._sha256 = sha256
        self._hasher = hashlib.sha256()
        self._seen = 0
        self._failure: BlobCorrupted | None = None

    @property
    def sha256(self) -> str:
        return self._sha256

    def __next__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            if not self._closed:  # the end of the stored bytes, not an early close
                self.close()
                self._verdict()
            if self._failure is not None:
                raise self._failure from None
            raise
        self._hasher.update(chunk)
        self._seen += len(chunk)
        return chunk

    def _verdict(self) -> None:
        actual = self._hasher.hexdigest()
        if actual != self._sha256:
            self._failure = BlobCorrupted(self._sha256, actual, self._seen)


def iter_source(source: BlobSource | BytesLike, chunk_size: int) -> Iterator[BytesLike]:
    """Chunks of a ``put_stream`` source: a buffer, a binary file or an iterable of buffers."""
    if isinstance(source, bytes | bytearray | memoryview):
        yield source
    elif isinstance(source, Readable):
        read = source.read
        while chunk := read(chunk_size):
            yield chunk
    else:
        yield from source


class BlobStoreBase(ABC):
    """Conveniences shared by every `BlobStore`, built on the backend's writer and reader."""

    @abstractmethod
    def open_writer(
        self, *, max_bytes: int | None = None, expected_sha256: str | None = None
    ) -> BlobWriter: ...

    @abstractmethod
    def open_reader(self, sha256: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> BlobReader: ...

    def put_stream(
        self,
        source: BlobSource,
        *,
        max_bytes: int | None = None,
        expected_sha256: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> BlobInfo:
        """Store everything ``source`` yields (file objects are read ``chunk_size`` at a time)."""
        check_chunk_size(chunk_size)
        with self.open_writer(max_bytes=max_bytes, expected_sha256=expected_sha256) as writer:
            for chunk in iter_source(source, chunk_size):
                writer.write(chunk)
            return writer.commit()

    def put_bytes(self, data: BytesLike, *, expected_sha256: str | None = None) -> BlobInfo:
        """Store one in-memory buffer."""
        return self.put_stream((data,), expected_sha256=expected_sha256)

    def read_bytes(self, sha256: str) -> bytes:
        """The whole blob, verified (for small blobs; stream big ones with `open_reader`)."""
        with self.open_reader(sha256) as reader:
            return reader.read_all()

    def verify(self, sha256: str) -> BlobInfo:
        """Re-hash the stored bytes; raises `BlobCorrupted` if they no longer match their name."""
        with self.open_reader(sha256) as reader:
            for _ in reader:
                pass
            return BlobInfo(sha256, reader.size)

    def path_for(self, sha256: str) -> str:
        """The blob's relative location, ``ab/cd/<sha256>``."""
        return blob_key(sha256)

    def local_path(self, sha256: str) -> Path | None:
        """A filesystem path to serve the blob from (sendfile), or None if the backend has none."""
        check_digest(sha256)
        return None
