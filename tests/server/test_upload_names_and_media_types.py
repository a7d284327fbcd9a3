"""File names and media types are facts the centre signs and sends back as headers: on every
upload path (raw PUT, multipart POST, portal attachment) a bad one is refused before any byte is
stored, never rewritten, and a bad value already stored can never break a download."""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings
from tests.server.conftest import RELEASE, put

from clearroom.server.catalog.models import Artifact

FIRMWARE = b"\x7fELF firmware image " * 100
SHA = hashlib.sha256(FIRMWARE).hexdigest()
BOUNDARY = "clearroom-test-boundary"


def stored_blobs() -> list[Path]:
    root = Path(settings.CONFIG.effective_blob_store_url)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def multipart(disposition_name: str, content_type: str = "application/octet-stream") -> bytes:
    """One file part, its ``filename`` parameter written exactly as given (raw UTF-8)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; {disposition_name}\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return head.encode() + FIRMWARE + f"\r\n--{BOUNDARY}--\r\n".encode()


def post_multipart(client, body: bytes, query: str = ""):
    return client.post(
        f"{RELEASE}/artifacts?sha256={SHA}{query}",
        data=body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def assert_refused_and_nothing_stored(response, field: str) -> None:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"].startswith(f"{field}:")
    assert stored_blobs() == []
    assert not Artifact.objects.exists()


# -- 2.7: file names as sent ----------------------------------------------------------------------

TRAVERSALS = {
    "parent-directories": 'filename="../../x"',
    "windows-parent-directories": 'filename="..\\\\..\\\\x"',
    "absolute-path": 'filename="/etc/passwd"',
    "html-entity-slash": 'filename="..&#47;..&#47;x"',
    "rfc5987-encoded": "filename*=UTF-8''..%2F..%2Fx",
}


@pytest.mark.parametrize("disposition", TRAVERSALS.values(), ids=TRAVERSALS.keys())
def test_multipart_traversal_filename_is_refused_not_rewritten(world, disposition):
    response = post_multipart(world.client(world.token), multipart(disposition))
    assert_refused_and_nothing_stored(response, "name")


def test_multipart_traversal_filename_is_refused_even_when_the_query_names_the_file(world):
    body = multipart('filename="../../x"')
    response = post_multipart(world.client(world.token), body, "&name=fine.img")
    assert_refused_and_nothing_stored(response, "name")


@pytest.mark.parametrize(
    "disposition",
    ['filename="\u202egpj.exe"', "filename*=UTF-8''%E2%80%AEgpj.exe"],
    ids=["raw-utf8", "rfc5987"],
)
def test_multipart_bidi_override_filename_is_refused_not_rewritten(world, disposition):
    response = post_multipart(world.client(world.token), multipart(disposition))
    assert_refused_and_nothing_stored(response, "name")


CONFUSABLE = {
    "fullwidth-solidus": "\uff0f",
    "division-slash": "\u2215",
    "fraction-slash": "\u2044",
    "big-solidus": "\u29f8",
    "box-drawing-diagonal": "\u2571",
    "fullwidth-reverse-solidus": "\uff3c",
    "set-minus": "\u2216",
    "small-reverse-solidus": "\ufe68",
    "two-dot-leader-parent": "\u2025",
    "left-to-right-isolate": "\u2066",
    "right-to-left-mark": "\u200f",
}


@pytest.mark.parametrize("char", CONFUSABLE.values(), ids=CONFUSABLE.keys())
def test_confusable_slash_or_bidi_name_is_refused_on_put(world, char):
    response = put(world.client(world.token), quote(f"{char}etc{char}passwd"), FIRMWARE)
    assert_refused_and_nothing_stored(response, "name")


@pytest.mark.parametrize("char", CONFUSABLE.values(), ids=CONFUSABLE.keys())
def test_confusable_slash_or_bidi_name_is_refused_on_multipart(world, char):
    body = multipart(f"filename*=UTF-8''{quote(f'{char}etc{char}passwd')}")
    response = post_multipart(world.client(world.token), body)
    assert_refused_and_nothing_stored(response, "name")


def test_an_ordinary_unicode_name_is_kept_as_sent(world):
    body = multipart("filename*=UTF-8''" + quote("ノート ½ v1.2.bin"))
    response = post_multipart(world.client(world.token), body)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "ノート ½ v1.2.bin"


# -- 2.5: media types -----------------------------------------------------------------------------


def test_media_type_with_crlf_header_injection_is_refused(world):
    response = put(
        world.client(world.token), "fw.img", FIRMWARE, query="?media_type=text/plain%0D%0AX-Evil:1"
    )
    assert_refused_and_nothing_stored(response, "media_type")


@pytest.mark.parametrize(
    "media_type",
    [
        "text",
        "text/",
        "/plain",
        "te xt/plain",
        "text/plain; charset",
        'text/plain; x="open',
        "tëxt/plain",
        "text/plain, text/html",
        "-x/y",
        "a/" + "b" * 128,
    ],
)
def test_media_type_that_breaks_rfc_6838_is_refused_on_put(world, media_type):
    query = "?media_type=" + quote(media_type)
    response = put(world.client(world.token), "fw.img", FIRMWARE, query=query)
    assert_refused_and_nothing_stored(response, "media_type")


def test_media_type_that_breaks_rfc_6838_is_refused_on_multipart(world):
    body = multipart('filename="fw.img"', content_type="text/plain, text/html")
    response = post_multipart(world.client(world.token), body)
    assert_refused_and_nothing_stored(response, "media_type")


@pytest.mark.parametrize(
    "media_type",
    ["application/vnd.cyclonedx+json; version=1.6", 'text/plain;charset="utf-8"', "image/svg+xml"],
)
def test_valid_media_types_are_kept_as_sent(world, media_type):
    query = "?media_type=" + quote(media_type)
    response = put(world.client(world.token), "fw.img", FIRMWARE, query=query)
    assert response.status_code == 201, response.content
    assert response.json()["media_type"] == media_type


def test_a_bad_stored_media_type_never_breaks_a_download(world):
    client = world.client(world.token)
    put(client, "fw.img", FIRMWARE)
    Artifact.objects.update(media_type="text/plain\r\nX-Evil: yes")
    response = client.get(f"{RELEASE}/artifacts/fw.img/content")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert "X-Evil" not in response
    assert b"".join(response.streaming_content) == FIRMWARE


def test_the_migration_repairs_stored_media_types(world):
    client = world.client(world.token)
    put(client, "bad.img", FIRMWARE)
    put(client, "good.json", b"{}", query="?media_type=application/json")
    Artifact.objects.filter(name="bad.img").update(media_type="text/plain\r\nX-Evil: yes")
    migration = importlib.import_module(
        "clearroom.server.catalog.migrations.0003_repair_media_types"
    )
    migration.repair(apps, None)
    media = dict(Artifact.objects.values_list("name", "media_type"))
    assert media == {"bad.img": "application/octet-stream", "good.json": "application/json"}
