"""Control catalogues: standards bodies publish OSCAL catalogs; everyone lists and reads them,
and downloads the publisher's document byte for byte (its SHA-256 is in the logged fact)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Status

from clearroom.server.api.schemas import Problem
from clearroom.server.api.serializers import log_ref
from clearroom.server.authz import Permission
from clearroom.server.authz.routes import Allow
from clearroom.server.errors import TooLarge
from clearroom.server.standards import services
from clearroom.server.standards.models import Catalogue
from clearroom.standards.catalogue import MAX_BYTES

router = Router(tags=["catalogues"])
ERRORS: dict[int, type[Problem]] = dict.fromkeys((400, 401, 403, 404, 409, 413, 422, 503), Problem)


def catalogue_out(c: Catalogue, *, controls: bool = False) -> dict[str, Any]:
    names = {"org": c.organisation.slug, "slug": c.slug, "version": c.version}
    out: dict[str, Any] = {
        "organisation": c.organisation.slug,
        "slug": c.slug,
        "version": c.version,
        "title": c.title,
        "uuid": c.uuid,
        "oscal_version": c.oscal_version,
        "sha256": c.sha256,
        "published_at": c.published_at.isoformat(),
        "url": reverse("api:catalogue", kwargs=names),
        "oscal_url": reverse("api:catalogue-oscal", kwargs=names),
        "log": log_ref(c.log_entry) if c.log_entry else None,
    }
    if controls:
        out["controls"] = [
            {
                "id": k.control_id,
                "title": k.title,
                "statement": k.statement,
                "group": k.group,
                "parent": k.parent or None,
            }
            for k in c.controls.all()
        ]
    return out


@router.post(
    "/organisations/{org}/catalogues/{slug}",
    response={201: dict[str, Any], **ERRORS},
    url_name="catalogue-publish",
    summary="Publish a catalogue version (body: an OSCAL catalog, JSON)",
    description="The version is the catalog's `metadata.version`; a published version never"
    " changes. The publication is logged as a `clearroom.dev/catalogue/v1` fact.",
    auth=Allow(Permission.CATALOGUE_PUBLISH, "organisation"),
)
def publish(request: HttpRequest, org: str, slug: str) -> Any:
    document = request.read(MAX_BYTES + 1)
    if len(document) > MAX_BYTES:
        raise TooLarge(f"a catalogue is at most {MAX_BYTES // (1024 * 1024)} MiB")
    organisation = request.auth.resource.organisation
    catalogue = services.publish(request.auth.actor, organisation, slug, document)
    return Status(201, catalogue_out(catalogue))


@router.get(
    "/organisations/{org}/catalogues",
    response={200: list[dict[str, Any]], 404: Problem},
    url_name="catalogues",
    summary="An organisation's published catalogue versions",
    auth=Allow(Permission.PUBLIC_READ, "organisation"),
)
def list_catalogues(request: HttpRequest, org: str) -> Any:
    return [catalogue_out(c) for c in services.catalogues(request.auth.resource.organisation)]


@router.get(
    "/catalogues/{org}/{slug}/{version}",
    response={200: dict[str, Any], 404: Problem},
    url_name="catalogue",
    summary="A catalogue version with its controls",
    auth=Allow(Permission.PUBLIC_READ, "organisation"),
)
def get_catalogue(request: HttpRequest, org: str, slug: str, version: str) -> Any:
    found = services.get(request.auth.resource.organisation, slug, version)
    return catalogue_out(found, controls=True)


@router.get(
    "/catalogues/{org}/{slug}/{version}/oscal",
    response={200: None, 404: Problem},
    url_name="catalogue-oscal",
    summary="The OSCAL catalog as published",
    auth=Allow(Permission.PUBLIC_READ, "organisation"),
)
def get_oscal(request: HttpRequest, org: str, slug: str, version: str) -> HttpResponse:
    found = services.get(request.auth.resource.organisation, slug, version)
    response = HttpResponse(bytes(found.document), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{found.slug}-{found.version}.json"'
    return response
