"""Blobs and objects in a local directory: the embedded default, zero set-up, sendfile-ready."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

from clearroom.blobs._base import (
    BlobStoreBase,
    ChunkStream,
    HashingBlobWriter,
    Transaction,
    VerifyingReader,
    byte_view,
    check_chunk_size,
)
from clearroom.blobs._staging import StagedFile, make_dirs
from clearroom.blobs.errors import BlobNotFound, InvalidKey, ObjectExists, ObjectNotFound
from clearroom.blobs.interfaces import (
    BlobReader,
    BlobWriter,
    BytesLike,
    ChunkReader,
    ObjectWriter,
)
from clearroom.blobs.layout import (
    DEFAULT_CHUNK_SIZE,
    STAGING_DIR,
    blob_key,
    check_key,
    check_prefix,
)
from clearroom.blobs.models import BlobInfo

BLOB_MODE = 0o444
OBJECT_MODE = 0o644


def _prepare_root(root: Path | str) -> Path:
    path = Path(root).absolute()
    (path / STAGING_DIR).mkdir(parents=True, exist_ok=True)
    return path


def _file_chunks(raw: io.FileIO, chunk_size: int) -> Iterator[bytes]:
    read = raw.read
    while chunk := read(chunk_size):
        yield chunk


def _open_raw(path: Path) -> io.FileIO | None:
    try:
        raw = io.FileIO(path, "r")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return raw


class LocalBlobStore(BlobStoreBase):
    """Blobs as read-only files ``<root>/ab/cd/<sha256>``, staged in ``<root>/.incoming``."""

    def __init__(self, root: Path | str) -> None:
        self.root = _prepare_root(root)

    def _path(self, sha256: str) -> Path:
        return self.root / blob_key(sha256)

    def open_writer(
        self, *, max_bytes: int | None = None, expected_sha256: str | None = None
    ) -> BlobWriter:
        return _LocalBlobWriter(self, max_bytes=max_bytes, expected_sha256=expected_sha256)

    def open_reader(self, sha256: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> BlobReader:
        check_chunk_size(chunk_size)
        raw = _open_raw(self._path(sha256))
        if raw is None:
            raise BlobNotFound(sha256)
        size = os.fstat(raw.fileno()).st_size
        return VerifyingReader(sha256, size, _file_chunks(raw, chunk_size), raw.close)

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def stat(self, sha256: str) -> BlobInfo:
        try:
            return BlobInfo(sha256, self._path(sha256).stat().st_size)
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None

    def delete(self, sha256: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""
        self._path(sha256).unlink(missing_ok=True)

    def local_path(self, sha256: str) -> Path:
        """The blob's file, for sendfile; serving it this way skips the on-read digest check."""
        path = self._path(sha256)
        if not path.is_file():
            raise BlobNotFound(sha256)
        return path


class _LocalBlobWriter(HashingBlobWriter):
    def __init__(
        self,
        store: LocalBlobStore,
        *,
        max_bytes: int | None,
        expected_sha256: str | None,
    ) -> None:
        super().__init__(max_bytes=max_bytes, expected_sha256=expected_sha256)
        self._store = store
        self._staged = StagedFile(store.root / STAGING_DIR)

    def _sink(self, view: memoryview) -> None:
        self._staged.write(view)

    def _written(self, view: memoryview) -> None:
        self._staged.release()

    def _publish(self, digest: str) -> bool:
        final = self._store.root / blob_key(digest)
        self._staged.seal(BLOB_MODE)  # a duplicate too: skipping the fsync would show in timing
        make_dirs(self._store.root, final.parent)
        return self._staged.link_to(final)

    def _discard(self) -> None:
        self._staged.discard()


class LocalObjectStore:
    """Objects as files ``<root>/<key>``; puts are staged in ``<root>/.incoming`` and renamed."""

    def __init__(self, root: Path | str) -> None:
        self.root = _prepare_root(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: BytesLike, *, overwrite: bool = True) -> None:
        """Store ``data`` atomically; with ``overwrite=False`` raise `ObjectExists` if present."""
        with self.open_write(key, overwrite=overwrite) as writer:
            writer.write(data)
            writer.commit()

    def get(self, key: str) -> bytes:
        with self.open_read(key) as reader:
            return reader.read_all()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        path = self._path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix`` (whole '/' segments), depth-first, sorted within each level."""
        prefix = check_prefix(prefix)
        return _walk(self.root / prefix if prefix else self.root, prefix)

    def open_read(self, key: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> ChunkReader:
        check_chunk_size(chunk_size)
        raw = _open_raw(self._path(key))
        if raw is None:
            raise ObjectNotFound(key)
        size = os.fstat(raw.fileno()).st_size
        return ChunkStream(size, _file_chunks(raw, chunk_size), raw.close)

    def open_write(self, key: str, *, overwrite: bool = True) -> ObjectWriter:
        return _LocalObjectWriter(self, key, self._path(key), overwrite)


def _walk(directory: Path, prefix: str) -> Iterator[str]:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if not prefix and entry.name == STAGING_DIR:
            continue
        key = f"{prefix}/{entry.name}" if prefix else entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), key)
        elif entry.is_file(follow_symlinks=False):
            yield key


class _LocalObjectWriter(Transaction):
    def __init__(self, store: LocalObjectStore, key: str, final: Path, overwrite: bool) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._final = final
        self._overwrite = overwrite
        self._staged = StagedFile(store.root / STAGING_DIR)

    def write(self, data: BytesLike, /) -> int:
        self._check_open()
        view = byte_view(data)
        try:
            self._staged.write(view)
        except BaseException:
            self.abort()
            raise
        self._size += view.nbytes
        return view.nbytes

    def commit(self) -> int:
        """Publish the object atomically; returns its size."""
        self._check_open()
        try:
            self._staged.seal(OBJECT_MODE)
            try:
                make_dirs(self._store.root, self._final.parent)
                if self._final.is_dir():
                    raise IsADirectoryError(self._final)
                if self._overwrite:
                    self._staged.replace(self._final)
                elif not self._staged.link_to(self._final):
                    raise ObjectExists(self._key)
            except (NotADirectoryError, IsADirectoryError):
                raise InvalidKey(
                    self._key, "an object and a directory would share a name"
                ) from None
        except BaseException:
            self.abort()
            raise
        self._done = True
        return self._size

    def _discard(self) -> None:
        self._staged.discard()
