"""Upload bytes straight from the HTTP request into the artifact store, hashing as they arrive:
never a whole file in memory, never a temporary copy. Raw bodies (PUT) and multipart forms (POST)
share the same writer, limits and errors."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from clearroom.blobs import BlobError, BlobInfo, BlobTooLarge, BlobWriter, DigestMismatch
from clearroom.server.catalog.names import check_file_name
from clearroom.server.errors import Invalid, ServiceError, TooLarge
from clearroom.server.http_body import BodyEndedEarly, socket_body
from clearroom.server.ops.metrics import UPLOADED_BYTES
from clearroom.server.services import blob_store

CHUNK = 4 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class LengthRequired(ServiceError):
    status = 411
    title = "Length required"


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"upload: larger than this centre's limit of {limit:,} bytes", limit=limit)


def declared_sha256(request: HttpRequest) -> str | None:
    """The SHA-256 the client declares: RFC 9530 ``Content-Digest: sha-256=:<base64>:`` or the
    ``sha256`` query parameter (hex). A malformed declaration is an error, not ignored."""
    query = request.GET.get("sha256")
    if query is not None:
        if not _HEX64.match(query.lower()):
            raise Invalid("sha256: give 64 hexadecimal digits")
        return query.lower()
    header = request.headers.get("Content-Digest")
    if not header:
        return None
    for member in header.split(","):
        algorithm, _, value = member.strip().partition("=")
        if algorithm.strip().lower() != "sha-256":
            continue
        value = value.strip()
        try:
            if not (value.startswith(":") and value.endswith(":")):
                raise ValueError
            raw = base64.b64decode(value[1:-1], validate=True)
        except (ValueError, binascii.Error):
            raise Invalid(
                "Content-Digest: write sha-256 as :<base64 of the 32-byte digest>:"
            ) from None
        if len(raw) != 32:
            raise Invalid("Content-Digest: a sha-256 digest is 32 bytes")
        return raw.hex()
    raise Invalid("Content-Digest: declare a sha-256 digest (other algorithms are not checked)")


def _finish(writer: BlobWriter) -> BlobInfo:
    try:
        info = writer.commit()
    except DigestMismatch as exc:
        raise Invalid(str(exc), code="digest-mismatch") from None
    UPLOADED_BYTES.inc(info.size)
    return info


def receive_body(request: HttpRequest, *, max_bytes: int, expected_sha256: str | None) -> BlobInfo:
    """Stream a raw request body into the store. Nothing is kept unless all of it arrived, fits
    the limit and matches the declared digest."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length < 0:
        raise LengthRequired(
            "upload: send a Content-Length header (chunked bodies are not accepted)"
        )
    if length > max_bytes:
        raise too_large(max_bytes)
    fast = socket_body(request.META, CHUNK)
    chunks = fast if fast is not None else iter(lambda: request.read(CHUNK), b"")
    received = 0
    try:
        with blob_store().open_writer(
            max_bytes=max_bytes, expected_sha256=expected_sha256
        ) as writer:
            for chunk in chunks:
                writer.write(chunk)
                received += len(chunk)
            if received != length:
                raise BodyEndedEarly(received)
            return _finish(writer)
    except BlobTooLarge:
        raise too_large(max_bytes) from None
    except BodyEndedEarly as exc:
        raise Invalid(
            f"upload: body ended after {exc.received} of {length} bytes; send it again"
        ) from None


class StreamedFile(UploadedFile):
    """What :class:`BlobUploadHandler` leaves in ``request.FILES``: a reference to stored bytes."""

    def __init__(self, name: str, content_type: str, blob: BlobInfo) -> None:
        super().__init__(file=None, name=name, content_type=content_type, size=blob.size)
        self.blob = blob


class BlobUploadHandler(FileUploadHandler):
    """Django upload handler writing the one file part of a multipart form into the store."""

    chunk_size = CHUNK

    def __init__(
        self,
        *,
        max_bytes: int,
        expected_sha256: str | None,
        check_name: Callable[[str, str], Any] | None = None,
    ) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.expected_sha256 = expected_sha256
        self.check_name = check_name
        self.writer: BlobWriter | None = None
        self.files = 0

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, *args: Any, **kwargs: Any
    ) -> None:
        if content_length > self.max_bytes + 64 * 1024:  # the form's own overhead is small
            raise too_large(self.max_bytes)

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.files += 1
        if field_name != "file" or self.files > 1:
            raise Invalid("upload: send exactly one file, in the form field 'file'")
        check_file_name(file_name)  # as sent (see ..multipart), even when the query names it
        if self.check_name is not None:  # the file's name and media type, before any byte
            self.check_name(file_name, self.content_type or "application/octet-stream")
        self.writer = blob_store().open_writer(
            max_bytes=self.max_bytes, expected_sha256=self.expected_sha256
        )
        self.writer.__enter__()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self.writer is not None
        try:
            self.writer.write(raw_data)
        except BlobTooLarge:
            self.abort()
            raise too_large(self.max_bytes) from None

    def file_complete(self, file_size: int) -> StreamedFile:
        assert self.writer is not None
        writer, self.writer = self.writer, None
        try:
            info = _finish(writer)
        finally:
            writer.__exit__(None, None, None)
        return StreamedFile(self.file_name, self.content_type, info)

    def upload_interrupted(self) -> None:
        self.abort()

    def abort(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.__exit__(StopUpload, StopUpload(), None)


__all__ = ["BlobError", "BlobUploadHandler", "StreamedFile", "declared_sha256", "receive_body"]
