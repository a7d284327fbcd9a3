"""Blobs and objects in an S3-compatible bucket through obstore: the scale-out backend.

Blob uploads stream to ``.incoming/<uuid>`` (multipart above ``part_size``) while they are hashed,
then are copied server-side to ``ab/cd/<sha256>`` unless that key already exists (de-duplication:
one copy is kept, but a duplicate upload does the same work, so it cannot be told apart).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import obstore
from obstore.exceptions import AlreadyExistsError
from obstore.exceptions import BaseError as ObstoreError

from clearroom.blobs._base import (
    BlobStoreBase,
    ChunkStream,
    HashingBlobWriter,
    Transaction,
    VerifyingReader,
    byte_view,
    check_chunk_size,
    immutable,
)
from clearroom.blobs.errors import (
    BackendError,
    BlobError,
    BlobNotFound,
    ObjectExists,
    ObjectNotFound,
)
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
from clearroom.blobs.s3_settings import S3Settings

if TYPE_CHECKING:
    from obstore import GetResult, WritableFile

MAX_COPY_BYTES = 5 << 30
"""S3 copies (CopyObject, UploadPartCopy) stop at 5 GiB, so larger blobs cannot be published."""


@contextlib.contextmanager
def _failures(operation: str) -> Iterator[None]:
    try:
        yield
    except ObstoreError as exc:
        lines = str(exc).strip().splitlines()
        raise BackendError(operation, lines[0][:300] if lines else type(exc).__name__) from exc


class _Bucket:
    """The obstore calls both S3 stores make, with failures mapped to `BackendError`."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.store = settings.connect()

    def head(self, key: str) -> int | None:
        with _failures(f"look up {key!r}"):
            try:
                return obstore.head(self.store, key)["size"]
            except FileNotFoundError:
                return None

    def get(self, key: str) -> GetResult | None:
        with _failures(f"read {key!r}"):
            try:
                return obstore.get(self.store, key)
            except FileNotFoundError:
                return None

    def chunks(self, result: GetResult, key: str, chunk_size: int) -> Iterator[bytes]:
        with _failures(f"read {key!r}"):
            for piece in result.stream(min_chunk_size=chunk_size):
                if len(piece) <= chunk_size:
                    yield piece
                else:
                    for start in range(0, len(piece), chunk_size):
                        yield piece[start : start + chunk_size]

    def put(self, key: str, data: BytesLike, *, create: bool) -> bool:
        """Store ``data``; with ``create`` only if absent, returning False if it was present."""
        with _failures(f"write {key!r}"):
            if create and self.settings.conditional_put:
                try:
                    obstore.put(self.store, key, data, mode="create")
                except AlreadyExistsError:
                    return False
                return True
            if create and self.head(key) is not None:
                return False  # without conditional puts a concurrent writer may slip in here
            obstore.put(self.store, key, data)
            return True

    def copy_if_absent(self, source: str, target: str) -> bool:
        """Server-side copy unless ``target`` exists; False if it did. A present target still
        costs one copy (to a staging key, deleted at once), so publishing a duplicate takes as
        long as publishing new content and its timing does not reveal who else holds it."""
        if self.head(target) is not None:
            decoy = self.staging_key()
            with _failures(f"copy to {decoy!r}"):
                obstore.copy(self.store, source, decoy)
            with contextlib.suppress(BackendError):
                self.delete(decoy)
            return False
        with _failures(f"copy to {target!r}"):
            if not self.settings.conditional_copy:
                obstore.copy(self.store, source, target)  # racy, see S3Settings
                return True
            try:
                obstore.copy(self.store, source, target, overwrite=False)
            except AlreadyExistsError:
                return False
            return True

    def delete(self, key: str) -> None:
        with _failures(f"delete {key!r}"):
            obstore.delete(self.store, key)

    def list(self, prefix: str) -> Iterator[str]:
        with _failures(f"list {prefix!r}"):
            for batch in obstore.list(self.store, prefix or None, chunk_size=1000):
                for meta in batch:
                    if not meta["path"].startswith(STAGING_DIR + "/"):
                        yield meta["path"]

    def staging_key(self) -> str:
        return f"{STAGING_DIR}/{uuid.uuid4().hex}"

    def open_writer(self, key: str) -> WritableFile:
        with _failures(f"start writing {key!r}"):
            return obstore.open_writer(
                self.store,
                key,
                buffer_size=self.settings.part_size,
                max_concurrency=self.settings.upload_concurrency,
            )

    def write(self, file: WritableFile, view: memoryview, key: str) -> None:
        with _failures(f"write {key!r}"):
            file.write(immutable(view))  # obstore keeps a reference to the buffer

    def close(self, file: WritableFile, key: str) -> None:
        with _failures(f"finish writing {key!r}"):
            file.close()

    def abandon(self, file: WritableFile, staging: str | None) -> None:
        """Abort an unfinished upload (and its multipart parts) or delete a finished staging key."""
        with contextlib.suppress(ObstoreError):
            if not file.closed():
                aborted = BlobError("blobs: upload aborted")
                file.__exit__(BlobError, aborted, None)
            elif staging is not None:
                obstore.delete(self.store, staging)


class S3BlobStore(BlobStoreBase):
    """Blobs as ``<prefix>/ab/cd/<sha256>`` objects, staged under ``<prefix>/.incoming``."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._bucket = _Bucket(settings)

    def open_writer(
        self, *, max_bytes: int | None = None, expected_sha256: str | None = None
    ) -> BlobWriter:
        """As `BlobStore.open_writer`; blobs above 5 GiB raise `BlobTooLarge` (S3 copy limit)."""
        limit = MAX_COPY_BYTES if max_bytes is None else min(max_bytes, MAX_COPY_BYTES)
        return _S3BlobWriter(self._bucket, max_bytes=limit, expected_sha256=expected_sha256)

    def open_reader(self, sha256: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> BlobReader:
        check_chunk_size(chunk_size)
        key = blob_key(sha256)
        result = self._bucket.get(key)
        if result is None:
            raise BlobNotFound(sha256)
        chunks = self._bucket.chunks(result, key, chunk_size)
        return VerifyingReader(sha256, result.meta["size"], chunks)

    def exists(self, sha256: str) -> bool:
        return self._bucket.head(blob_key(sha256)) is not None

    def stat(self, sha256: str) -> BlobInfo:
        size = self._bucket.head(blob_key(sha256))
        if size is None:
            raise BlobNotFound(sha256)
        return BlobInfo(sha256, size)

    def delete(self, sha256: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""
        self._bucket.delete(blob_key(sha256))


class _S3BlobWriter(HashingBlobWriter):
    def __init__(
        self,
        bucket: _Bucket,
        *,
        max_bytes: int,
        expected_sha256: str | None,
    ) -> None:
        super().__init__(max_bytes=max_bytes, expected_sha256=expected_sha256)
        self._bucket = bucket
        self._staging = bucket.staging_key()
        self._file = bucket.open_writer(self._staging)

    def _sink(self, view: memoryview) -> None:
        self._bucket.write(self._file, view, self._staging)

    def _publish(self, digest: str) -> bool:
        self._bucket.close(self._file, self._staging)
        try:
            return self._bucket.copy_if_absent(self._staging, blob_key(digest))
        finally:
            with contextlib.suppress(BackendError):
                self._bucket.delete(self._staging)

    def _discard(self) -> None:
        self._bucket.abandon(self._file, self._staging)


class S3ObjectStore:
    """Objects as ``<prefix>/<key>``; every PUT (and multipart completion) is atomic in S3."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._bucket = _Bucket(settings)

    def put(self, key: str, data: BytesLike, *, overwrite: bool = True) -> None:
        """Store ``data``; with ``overwrite=False`` a conditional PUT raises `ObjectExists`."""
        if not self._bucket.put(check_key(key), data, create=not overwrite):
            raise ObjectExists(key)

    def get(self, key: str) -> bytes:
        result = self._bucket.get(check_key(key))
        if result is None:
            raise ObjectNotFound(key)
        with _failures(f"read {key!r}"):
            return bytes(result.bytes())

    def exists(self, key: str) -> bool:
        return self._bucket.head(check_key(key)) is not None

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        self._bucket.delete(check_key(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix`` (whole '/' segments), in the bucket's lexicographic order."""
        return self._bucket.list(check_prefix(prefix))

    def open_read(self, key: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> ChunkReader:
        check_chunk_size(chunk_size)
        result = self._bucket.get(check_key(key))
        if result is None:
            raise ObjectNotFound(key)
        return ChunkStream(result.meta["size"], self._bucket.chunks(result, key, chunk_size))

    def open_write(self, key: str, *, overwrite: bool = True) -> ObjectWriter:
        """Stream an object; ``overwrite=False`` stages it and publishes with a conditional copy."""
        return _S3ObjectWriter(self._bucket, check_key(key), overwrite)


class _S3ObjectWriter(Transaction):
    def __init__(self, bucket: _Bucket, key: str, overwrite: bool) -> None:
        super().__init__()
        self._bucket = bucket
        self._key = key
        self._staging = None if overwrite else bucket.staging_key()
        self._target = self._staging or key
        self._file = bucket.open_writer(self._target)

    def write(self, data: BytesLike, /) -> int:
        self._check_open()
        view = byte_view(data)
        try:
            self._bucket.write(self._file, view, self._target)
        except BaseException:
            self.abort()
            raise
        self._size += view.nbytes
        return view.nbytes

    def commit(self) -> int:
        """Publish the object atomically; returns its size."""
        self._check_open()
        try:
            self._bucket.close(self._file, self._target)
            if self._staging is not None:
                try:
                    created = self._bucket.copy_if_absent(self._staging, self._key)
                finally:
                    with contextlib.suppress(BackendError):
                        self._bucket.delete(self._staging)
                if not created:
                    raise ObjectExists(self._key)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return self._size

    def _discard(self) -> None:
        self._bucket.abandon(self._file, self._staging)
