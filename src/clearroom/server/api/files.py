"""Artifacts and documents of a release: streaming upload (raw PUT with a declared digest, or a
multipart form), listing, metadata and download. Both collections share one implementation."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header
from ninja import Router, Status

from clearroom.blobs import BlobCorrupted
from clearroom.server.api.schemas import FileOut, Problem
from clearroom.server.api.serializers import file_out
from clearroom.server.authz import Permission, release_files, visible_files
from clearroom.server.authz.routes import Allow
from clearroom.server.catalog import services
from clearroom.server.catalog.names import served_media_type
from clearroom.server.catalog.uploads import (
    BlobUploadHandler,
    StreamedFile,
    declared_sha256,
    receive_body,
)
from clearroom.server.errors import Invalid
from clearroom.server.services import blob_store

router = Router(tags=["files"])
log = logging.getLogger("clearroom.api.files")
RELEASE = "/products/{org}/{product}/releases/{version}"
ERRORS: dict[int, type[Problem]] = dict.fromkeys((400, 401, 403, 404, 409, 411, 413, 422), Problem)
UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        }
    }
}
MULTIPART_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        }
    }
}


def _kind_for(collection: str, kind: str | None) -> str:
    if collection == "artifacts":
        return "artifact"
    if not kind:
        raise Invalid("kind: say what the document is: sbom, vex, provenance, test_report or other")
    return kind


def _stream(sha256: str) -> Iterator[bytes]:
    try:
        with blob_store().open_reader(sha256) as reader:
            yield from reader
    except BlobCorrupted:
        log.error("stored bytes of %s do not match their digest; download aborted", sha256)
        raise


def _register(collection: str) -> None:
    singular = collection[:-1]

    @router.get(
        f"{RELEASE}/{collection}",
        response={200: list[FileOut], 404: Problem},
        url_name=collection,
        operation_id=f"list_{collection}",
        summary=f"List the {collection} of a release you may see",
        auth=Allow(Permission.PUBLIC_READ, "release"),
    )
    def list_files(request: HttpRequest, org: str, product: str, version: str) -> Any:
        actor, release = request.auth.actor, request.auth.resource.release
        model = services.file_model(collection)
        files = release_files(actor, release, model)
        return [file_out(f) for f in files.select_related("release__product__vendor")]

    @router.put(
        f"{RELEASE}/{collection}/{{name}}",
        response={201: FileOut, **ERRORS},
        openapi_extra=UPLOAD_BODY,
        operation_id=f"put_{singular}",
        summary=f"Upload a {singular} as the raw request body",
        description=(
            "Declare the SHA-256 with `Content-Digest: sha-256=:<base64>:` (RFC 9530) or"
            " `?sha256=<hex>`; bytes that do not match are rejected and nothing is stored."
        ),
        auth=Allow(Permission.RELEASE_WRITE, "release"),
    )
    def put_file(
        request: HttpRequest,
        org: str,
        product: str,
        version: str,
        name: str,
        confidentiality: str = "public",
        kind: str | None = None,
        media_type: str | None = None,
    ) -> Any:
        actor, release = request.auth.actor, request.auth.resource.release
        file_kind = _kind_for(collection, kind)
        media_type = media_type or request.content_type or "application/octet-stream"
        services.check_upload(
            actor,
            release,
            kind=file_kind,
            name=name,
            confidentiality=confidentiality,
            media_type=media_type,
        )
        expected = declared_sha256(request)
        if expected is None:
            raise Invalid(
                "upload: declare the SHA-256 of the bytes (Content-Digest: sha-256=:<base64>: or"
                " ?sha256=<hex>) so the centre can prove it stored what you sent",
                code="digest-required",
            )
        blob = receive_body(
            request, max_bytes=settings.CONFIG.max_upload_bytes, expected_sha256=expected
        )
        stored = services.record_upload(
            actor,
            release,
            kind=file_kind,
            name=name,
            media_type=media_type,
            confidentiality=confidentiality,
            blob=blob,
        )
        return Status(201, file_out(stored))

    @router.post(
        f"{RELEASE}/{collection}",
        response={201: FileOut, **ERRORS},
        openapi_extra=MULTIPART_BODY,
        operation_id=f"post_{singular}",
        summary=f"Upload a {singular} as a multipart form (field 'file')",
        auth=Allow(Permission.RELEASE_WRITE, "release"),
    )
    def post_file(
        request: HttpRequest,
        org: str,
        product: str,
        version: str,
        confidentiality: str = "public",
        kind: str | None = None,
        name: str | None = None,
    ) -> Any:
        actor, release = request.auth.actor, request.auth.resource.release
        file_kind = _kind_for(collection, kind)
        if not (request.content_type or "").startswith("multipart/form-data"):
            raise Invalid("upload: send multipart/form-data with the file in the field 'file'")

        def check(file_name: str, media_type: str) -> None:
            services.check_upload(
                actor,
                release,
                kind=file_kind,
                name=name or file_name,
                confidentiality=confidentiality,
                media_type=media_type,
            )

        handler = BlobUploadHandler(
            max_bytes=settings.CONFIG.max_upload_bytes,
            expected_sha256=declared_sha256(request),
            check_name=check,
        )
        request.upload_handlers = [handler]
        try:
            uploaded = request.FILES.get("file")
        finally:
            handler.abort()
        if not isinstance(uploaded, StreamedFile):
            raise Invalid("upload: send exactly one file, in the form field 'file'")
        stored = services.record_upload(
            actor,
            release,
            kind=file_kind,
            name=name or uploaded.name or "",
            media_type=uploaded.content_type or "application/octet-stream",
            confidentiality=confidentiality,
            blob=uploaded.blob,
        )
        return Status(201, file_out(stored))

    @router.get(
        f"{RELEASE}/{collection}/{{name}}",
        response={200: FileOut, 404: Problem},
        operation_id=f"get_{singular}",
        summary=f"Metadata and digests of a {singular}",
        auth=Allow(Permission.PUBLIC_READ, singular),
    )
    def get_file(request: HttpRequest, org: str, product: str, version: str, name: str) -> Any:
        return file_out(request.auth.resource.file)

    @router.get(
        f"{RELEASE}/{collection}/{{name}}/content",
        response={200: None, 404: Problem},
        operation_id=f"download_{singular}",
        summary=f"Download a {singular}; the store re-checks its SHA-256 as it streams",
        url_name=f"{singular}-content",
        auth=Allow(Permission.PUBLIC_READ, singular),
    )
    def download(request: HttpRequest, org: str, product: str, version: str, name: str) -> Any:
        stored = request.auth.resource.file
        response = StreamingHttpResponse(
            _stream(stored.sha256), content_type=served_media_type(stored.media_type)
        )
        response["Content-Length"] = str(stored.size)
        response["Content-Disposition"] = content_disposition_header(True, stored.name)
        response["ETag"] = f'"{stored.sha256}"'
        sha256_b64 = base64.b64encode(bytes.fromhex(stored.sha256)).decode()
        response["Repr-Digest"] = f"sha-256=:{sha256_b64}:"
        public = stored.release.is_public and not stored.is_confidential
        response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
        return response


@router.get(
    "/files",
    response={200: list[FileOut], 422: Problem},
    summary="Find the files you may see by their SHA-256",
    description="Answers a customer's question: was the image I received published here?",
    auth=Allow(Permission.PUBLIC_READ),
)
def find_by_digest(request: HttpRequest, sha256: str) -> Any:
    digest = sha256.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise Invalid("sha256: give 64 hexadecimal digits")
    actor = request.auth.actor
    found: list[Any] = []
    for collection in ("artifacts", "documents"):
        model = services.file_model(collection)
        files = visible_files(actor, model.objects.filter(sha256=digest))
        rows = files.select_related("release__product__vendor").prefetch_related("log_entries")
        found.extend(file_out(f) for f in rows)
    return found


for _collection in ("artifacts", "documents"):
    _register(_collection)
