"""Small files sent through the portal's forms (message attachments, a signed report): kept in
memory up to a bound per request, never written to temporary files. Artifacts do not come this
way - they stream into the blob store through the API (:mod:`..catalog.uploads`).

Django parses a form before the view runs (the CSRF check reads it), so the bound cannot raise
an error page there: past it the upload stops and the request is marked; the view that reads
files refuses it with 413 (:func:`files_of`). A file whose name (as sent) breaks the file name
rule is skipped the same way and refused with 422 there."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest

from clearroom.server.catalog.names import check_file_name
from clearroom.server.errors import Invalid, TooLarge

MAX_REQUEST_FILE_BYTES = 24 * 1024 * 1024
"""All files of one portal request together."""


class BoundedMemoryUploadHandler(FileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        try:  # the name as sent (see ..multipart): refused, never rewritten
            check_file_name(self.file_name or "")
        except Invalid as exc:
            self.request._refused_file_name = exc.detail  # type: ignore[union-attr]
            raise SkipFile() from None
        self._buffer = BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        total = getattr(self.request, "_upload_bytes", 0) + len(raw_data)
        self.request._upload_bytes = total  # type: ignore[union-attr]
        if total > MAX_REQUEST_FILE_BYTES:
            self.request._upload_too_large = True  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        self._buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self._buffer.seek(0)
        return InMemoryUploadedFile(
            self._buffer,
            self.field_name,
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )


def files_of(request: HttpRequest, field: str) -> list[Any]:
    """The files of ``field``, or 413 when the request's files went past the bound."""
    files = request.FILES.getlist(field)
    refused = getattr(request, "_refused_file_name", None)
    if refused is not None:
        raise Invalid(refused)
    if getattr(request, "_upload_too_large", False):
        raise TooLarge(
            f"the files of one form are at most {MAX_REQUEST_FILE_BYTES >> 20} MiB together;"
            " share bigger files as confidential documents of the release"
        )
    return files
