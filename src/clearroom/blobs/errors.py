"""Typed failures of artifact storage; each message reads "blobs: <what is wrong>; <what to do>"."""

from __future__ import annotations

from clearroom.errors import ClearroomError


class BlobError(ClearroomError):
    """Base of every storage failure raised by ``clearroom.blobs``."""


class InvalidDigest(BlobError):
    """A SHA-256 digest is not exactly 64 lowercase hexadecimal characters."""

    def __init__(self, digest: object) -> None:
        self.digest = digest
        super().__init__(
            f"blobs: {digest!r} is not a SHA-256 digest; "
            "give exactly 64 lowercase hexadecimal characters"
        )


class InvalidKey(BlobError):
    """An object key could escape the store root or is otherwise unusable."""

    def __init__(self, key: object, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(
            f"blobs: invalid object key {key!r} ({reason}); "
            "use relative '/'-separated names without '.', '..', backslashes or control characters"
        )


class InvalidStoreConfig(BlobError):
    """A store URL or store setting cannot be used."""

    def __init__(self, setting: str, reason: str) -> None:
        self.setting = setting
        self.reason = reason
        super().__init__(
            f"blobs: cannot use store setting {setting} ({reason}); "
            "use file:///absolute/path, a plain path, or s3://bucket/prefix?endpoint=...&region=..."
        )


class BlobNotFound(BlobError):
    """No blob with this digest is stored."""

    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256
        super().__init__(f"blobs: no blob {sha256} is stored; upload it first or check the digest")


class ObjectNotFound(BlobError):
    """No object is stored under this key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"blobs: no object is stored at {key!r}; check the key or write it first")


class ObjectExists(BlobError):
    """An immutable object is already stored under this key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"blobs: an object already exists at {key!r} and overwrite=False; "
            "keep the existing object or write with overwrite=True"
        )


class BlobTooLarge(BlobError):
    """An upload went past its byte limit; nothing was stored."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"blobs: upload exceeds the limit of {limit} bytes and was discarded; "
            "send a smaller artifact or raise the limit"
        )


class DigestMismatch(BlobError):
    """The uploaded bytes do not hash to the digest the caller announced; nothing was stored."""

    def __init__(self, expected: str, actual: str, size: int) -> None:
        self.expected = expected
        self.actual = actual
        self.size = size
        super().__init__(
            f"blobs: upload of {size} bytes hashes to {actual}, not the expected {expected}, "
            "and was discarded; check the file and the announced digest, then upload again"
        )


class BlobCorrupted(BlobError):
    """Stored bytes no longer hash to their name: the storage lost integrity."""

    def __init__(self, sha256: str, actual: str, size: int) -> None:
        self.sha256 = sha256
        self.actual = actual
        self.size = size
        super().__init__(
            f"blobs: stored blob {sha256} is corrupted ({size} bytes hash to {actual}); "
            "restore it from a backup or upload the original artifact again"
        )


class BackendError(BlobError):
    """The storage backend (a remote object store) failed a request."""

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        super().__init__(
            f"blobs: the object store failed to {operation}: {reason}; "
            "check the endpoint, bucket, credentials and network, then retry"
        )
