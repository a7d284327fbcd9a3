"""How the API reads JSON request bodies, in one place for every route.

Python's ``json`` accepts ``"\\ud800"``: a lone UTF-16 surrogate that is not Unicode text. Such
a string cannot be stored (PostgreSQL refuses it), signed or logged, so a body holding one is
refused with 422 before any route sees it, naming what to fix. Bodies past Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` are refused with 413 by :mod:`.problems`."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

from clearroom.server.errors import Invalid


class NotText(Invalid):
    """A JSON string that cannot be encoded as UTF-8 (a lone surrogate escape)."""


class TextOnlyJsonParser(Parser):
    """django-ninja's parser, refusing strings (keys or values) that are not Unicode text."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(request.body)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start : exc.end]
            raise NotText(
                f"the request body holds {bad.encode('unicode_escape').decode()}, a lone"
                " surrogate that is not Unicode text; send every string as valid UTF-8",
                code="not-unicode-text",
            ) from None
        return data
