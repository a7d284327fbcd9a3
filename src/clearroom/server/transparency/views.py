"""The log as static files, at the C2SP tlog-tiles paths under ``/log/``: ``checkpoint``,
``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``, plus the verifier key at ``key``.

Why through Django at all: the embedded default has no web server in front. A deployment with
a CDN or an S3 bucket serves the same files from ``tlog_tiles_url`` directly; the cache headers
here are the ones to copy. A tile, full or partial, never changes once written (a partial
tile of width W is the same bytes forever), so both are immutable; the checkpoint changes with
every integration and is never cached without revalidation.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from clearroom.blobs import ObjectNotFound
from clearroom.server.authz.permissions import Permission
from clearroom.server.authz.routes import allow
from clearroom.server.transparency.identity import public_files, verifier
from clearroom.tlog.errors import InvalidTilePath
from clearroom.tlog.layout import CHECKPOINT_KEY, parse_key

IMMUTABLE = "public, max-age=31536000, immutable"
TEXT = "text/plain; charset=utf-8"


def _text(body: bytes | str, status: int = 200, cache: str = "no-cache") -> HttpResponse:
    response = HttpResponse(body, status=status, content_type=TEXT)
    response["Cache-Control"] = cache
    response["Access-Control-Allow-Origin"] = "*"  # a public log: browsers' monitors welcome
    return response


@require_safe
@allow(Permission.PUBLIC_READ)
def checkpoint(request: HttpRequest) -> HttpResponse:
    try:
        return _text(public_files().get(CHECKPOINT_KEY))
    except ObjectNotFound:
        return _text("log: nothing has been logged yet\n", status=404)


@require_safe
@allow(Permission.PUBLIC_READ)
def tile(request: HttpRequest, key: str) -> HttpResponse:
    path = f"tile/{key}"
    try:
        parse_key(path)
        data = public_files().get(path)
    except InvalidTilePath as exc:
        return _text(f"{exc}\n", status=404)
    except ObjectNotFound:
        return _text(f"log: no {path} (yet)\n", status=404, cache="no-cache")
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@allow(Permission.PUBLIC_READ)
def verifier_key(request: HttpRequest) -> HttpResponse:
    return _text(verifier().to_key() + "\n", cache="public, max-age=3600")
