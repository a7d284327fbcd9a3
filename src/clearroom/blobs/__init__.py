"""Content-addressed artifact storage and a path-keyed object store, local or S3-compatible.

Artifacts (firmware, SBOMs, archives) are stored once under their SHA-256, hashed as they stream in
and re-hashed as they stream out; the transparency log keeps its tiles in an `ObjectStore`::

    import hashlib, tempfile
    from clearroom.blobs import open_blob_store, open_object_store

    with tempfile.TemporaryDirectory() as root:
        blobs = open_blob_store(f"{root}/blobs")  # or "s3://bucket/prefix?endpoint=..."
        with blobs.open_writer(max_bytes=1 << 20) as writer:
            writer.write(b"firmware ")
            writer.write(b"image")
            info = writer.commit()
        assert info.sha256 == hashlib.sha256(b"firmware image").hexdigest() and info.created
        assert blobs.put_bytes(b"firmware image").created is False  # de-duplicated
        with blobs.open_reader(info.sha256, chunk_size=4) as reader:
            assert b"".join(reader) == b"firmware image"  # verified at the end of the stream

        tiles = open_object_store(f"{root}/log")
        tiles.put("tile/0/000", b"\\x00" * 32, overwrite=False)
        assert list(tiles.list("tile")) == ["tile/0/000"]
"""

from clearroom.blobs.errors import (
    BackendError,
    BlobCorrupted,
    BlobError,
    BlobNotFound,
    BlobTooLarge,
    DigestMismatch,
    InvalidDigest,
    InvalidKey,
    InvalidStoreConfig,
    ObjectExists,
    ObjectNotFound,
)
from clearroom.blobs.factory import open_blob_store, open_object_store
from clearroom.blobs.interfaces import (
    BlobReader,
    BlobSource,
    BlobStore,
    BlobWriter,
    BytesLike,
    ChunkReader,
    ObjectStore,
    ObjectWriter,
)
from clearroom.blobs.layout import DEFAULT_CHUNK_SIZE, blob_key, check_digest, check_key
from clearroom.blobs.local import LocalBlobStore, LocalObjectStore
from clearroom.blobs.models import BlobInfo
from clearroom.blobs.s3 import S3BlobStore, S3ObjectStore
from clearroom.blobs.s3_settings import S3Settings

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BackendError",
    "BlobCorrupted",
    "BlobError",
    "BlobInfo",
    "BlobNotFound",
    "BlobReader",
    "BlobSource",
    "BlobStore",
    "BlobTooLarge",
    "BlobWriter",
    "BytesLike",
    "ChunkReader",
    "DigestMismatch",
    "InvalidDigest",
    "InvalidKey",
    "InvalidStoreConfig",
    "LocalBlobStore",
    "LocalObjectStore",
    "ObjectExists",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectWriter",
    "S3BlobStore",
    "S3ObjectStore",
    "S3Settings",
    "blob_key",
    "check_digest",
    "check_key",
    "open_blob_store",
    "open_object_store",
]
