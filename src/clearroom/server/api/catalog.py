"""Organisations, products and releases."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.http import HttpRequest
from ninja import Router, Status
from ninja.decorators import decorate_view

from clearroom.server.accounts.models import Organisation
from clearroom.server.api.schemas import (
    OrganisationIn,
    OrganisationOut,
    Problem,
    ProductIn,
    ProductOut,
    ReleaseIn,
    ReleaseOut,
    WithdrawIn,
)
from clearroom.server.api.serializers import RELEASE_PREFETCH, product_out, release_out
from clearroom.server.authz import Permission, visible_releases
from clearroom.server.authz.routes import Allow
from clearroom.server.catalog import services
from clearroom.server.errors import Conflict
from clearroom.server.pagecache.cache import anonymous_cache

router = Router(tags=["catalogue"])
ERRORS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    413: Problem,
    422: Problem,
}


@router.get(
    "/organisations",
    response=list[OrganisationOut],
    url_name="organisations",
    auth=Allow(Permission.PUBLIC_READ),
)
def list_organisations(request: HttpRequest) -> Any:
    return Organisation.objects.all()


@router.post(
    "/organisations",
    response={201: OrganisationOut, **ERRORS},
    auth=Allow(Permission.CENTRE_ORGANISATION_CREATE),
)
def create_organisation(request: HttpRequest, data: OrganisationIn) -> Any:
    """Centre operators only: organisations are vetted before they can publish."""
    try:
        return Status(201, Organisation.objects.create(**data.dict()))
    except IntegrityError:
        raise Conflict(f"organisation {data.slug!r} already exists") from None


@decorate_view(anonymous_cache)
@router.get(
    "/organisations/{org}",
    response={200: OrganisationOut, 404: Problem},
    url_name="organisation",
    auth=Allow(Permission.PUBLIC_READ, "organisation"),
)
def get_organisation(request: HttpRequest, org: str) -> Any:
    return request.auth.resource.organisation


@decorate_view(anonymous_cache)
@router.get(
    "/organisations/{org}/products",
    response={200: list[ProductOut], 404: Problem},
    auth=Allow(Permission.PUBLIC_READ, "organisation"),
)
def list_products(request: HttpRequest, org: str) -> Any:
    vendor, actor = request.auth.resource.organisation, request.auth.actor
    return [product_out(p) for p in services.visible_products(actor).filter(vendor=vendor)]


@router.post(
    "/organisations/{org}/products",
    response={201: ProductOut, **ERRORS},
    auth=Allow(Permission.PRODUCT_WRITE, "organisation"),
)
def create_product(request: HttpRequest, org: str, data: ProductIn) -> Any:
    vendor = request.auth.resource.organisation
    product = services.create_product(request.auth.actor, vendor, **data.dict())
    return Status(201, product_out(product))


@decorate_view(anonymous_cache)
@router.get(
    "/products/{org}/{product}",
    response={200: ProductOut, 404: Problem},
    url_name="product",
    auth=Allow(Permission.PUBLIC_READ, "product"),
)
def get_product(request: HttpRequest, org: str, product: str) -> Any:
    return product_out(request.auth.resource.product)


@decorate_view(anonymous_cache)
@router.get(
    "/products/{org}/{product}/releases",
    response={200: list[ReleaseOut], 404: Problem},
    url_name="releases",
    auth=Allow(Permission.PUBLIC_READ, "product"),
)
def list_releases(request: HttpRequest, org: str, product: str) -> Any:
    actor, found = request.auth.actor, request.auth.resource.product
    releases = (
        visible_releases(actor)
        .filter(product=found)
        .select_related("product__vendor")
        .prefetch_related(*RELEASE_PREFETCH)
    )
    return [release_out(r, actor) for r in releases]


@router.post(
    "/products/{org}/{product}/releases",
    response={201: ReleaseOut, **ERRORS},
    auth=Allow(Permission.RELEASE_WRITE, "product"),
)
def create_release(request: HttpRequest, org: str, product: str, data: ReleaseIn) -> Any:
    actor, found = request.auth.actor, request.auth.resource.product
    return Status(201, release_out(services.create_release(actor, found, **data.dict()), actor))


@decorate_view(anonymous_cache)
@router.get(
    "/products/{org}/{product}/releases/{version}",
    response={200: ReleaseOut, 404: Problem},
    url_name="release",
    auth=Allow(Permission.PUBLIC_READ, "release"),
)
def get_release(request: HttpRequest, org: str, product: str, version: str) -> Any:
    return release_out(request.auth.resource.release, request.auth.actor)


@router.post(
    "/products/{org}/{product}/releases/{version}/publish",
    response={200: ReleaseOut, **ERRORS},
    auth=Allow(Permission.RELEASE_PUBLISH, "release"),
)
def publish_release(request: HttpRequest, org: str, product: str, version: str) -> Any:
    actor, release = request.auth.actor, request.auth.resource.release
    return release_out(services.publish_release(actor, release), actor)


@router.post(
    "/products/{org}/{product}/releases/{version}/withdraw",
    response={200: ReleaseOut, **ERRORS},
    auth=Allow(Permission.RELEASE_PUBLISH, "release"),
)
def withdraw_release(
    request: HttpRequest, org: str, product: str, version: str, data: WithdrawIn
) -> Any:
    actor, release = request.auth.actor, request.auth.resource.release
    return release_out(services.withdraw_release(actor, release, reason=data.reason), actor)
