"""Multipart forms whose file names reach the service as the client sent them.

Django's form parser "sanitises" a part's file name before any upload handler sees it: it keeps
what follows the last ``/`` or ``\\``, decodes HTML entities and drops unprintable characters, so
``../../x`` arrives as ``x`` and ``\\u202egpj.exe`` (a right-to-left override) as ``gpj.exe``.
A name is a fact that ends up in signed statements: it must be refused, never rewritten. This
middleware makes every request parse multipart bodies with a parser that hands the name through
unchanged, so the one name rule (:func:`clearroom.server.catalog.names.check_file_name`, applied
by the upload handlers) judges what was sent. It runs before the CSRF check, which parses
forms."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import ImmutableList


class RawNameMultiPartParser(MultiPartParser):
    def sanitize_file_name(self, file_name: str) -> str | None:
        return file_name or None  # an empty name is an empty file input: Django skips it


def _parse_file_upload(request: HttpRequest, META: Any, post_data: Any) -> Any:
    """:meth:`HttpRequest.parse_file_upload`, with the parser above."""
    request.upload_handlers = ImmutableList(
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    return RawNameMultiPartParser(
        META, post_data, request.upload_handlers, request.encoding
    ).parse()


class RawFileNames:
    """Middleware: parse this request's multipart body with :class:`RawNameMultiPartParser`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.parse_file_upload = partial(_parse_file_upload, request)  # type: ignore[method-assign]
        return self.get_response(request)
