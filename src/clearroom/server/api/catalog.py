"""Organisations, products and releases."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.http import HttpRequest
from ninja import Router, Status

from clearroom.server.accounts.models import Organisation
from clearroom.server.api.auth import api_actor as actor_for
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
from clearroom.server.api.serializers import product_out, release_out
from clearroom.server.authz import visible_releases
from clearroom.server.catalog import services
from clearroom.server.errors import Conflict, Forbidden, Unauthenticated

router = Router(tags=["catalogue"])
ERRORS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
}


@router.get("/organisations", response=list[OrganisationOut], url_name="organisations")
def list_organisations(request: HttpRequest) -> Any:
    return Organisation.objects.all()


@router.post("/organisations", response={201: OrganisationOut, **ERRORS})
def create_organisation(request: HttpRequest, data: OrganisationIn) -> Any:
    """Centre operators only: organisations are vetted before they can publish."""
    actor = actor_for(request)
    if not actor.is_authenticated:
        raise Unauthenticated("sign in as a centre operator")
    if not actor.is_operator:
        raise Forbidden("only the centre's operators create organisations")
    try:
        return Status(201, Organisation.objects.create(**data.dict()))
    except IntegrityError:
        raise Conflict(f"organisation {data.slug!r} already exists") from None


@router.get(
    "/organisations/{org}", response={200: OrganisationOut, 404: Problem}, url_name="organisation"
)
def get_organisation(request: HttpRequest, org: str) -> Any:
    return services.get_organisation(org)


@router.get("/organisations/{org}/products", response={200: list[ProductOut], 404: Problem})
def list_products(request: HttpRequest, org: str) -> Any:
    vendor = services.get_organisation(org)
    return [
        product_out(p) for p in services.visible_products(actor_for(request)).filter(vendor=vendor)
    ]


@router.post("/organisations/{org}/products", response={201: ProductOut, **ERRORS})
def create_product(request: HttpRequest, org: str, data: ProductIn) -> Any:
    vendor = services.get_organisation(org)
    product = services.create_product(actor_for(request), vendor, **data.dict())
    return Status(201, product_out(product))


@router.get(
    "/products/{org}/{product}", response={200: ProductOut, 404: Problem}, url_name="product"
)
def get_product(request: HttpRequest, org: str, product: str) -> Any:
    return product_out(services.get_product(actor_for(request), org, product))


@router.get(
    "/products/{org}/{product}/releases",
    response={200: list[ReleaseOut], 404: Problem},
    url_name="releases",
)
def list_releases(request: HttpRequest, org: str, product: str) -> Any:
    actor = actor_for(request)
    found = services.get_product(actor, org, product)
    releases = visible_releases(actor).filter(product=found).select_related("product__vendor")
    return [release_out(r, actor) for r in releases]


@router.post("/products/{org}/{product}/releases", response={201: ReleaseOut, **ERRORS})
def create_release(request: HttpRequest, org: str, product: str, data: ReleaseIn) -> Any:
    actor = actor_for(request)
    found = services.get_product(actor, org, product)
    return Status(201, release_out(services.create_release(actor, found, **data.dict()), actor))


@router.get(
    "/products/{org}/{product}/releases/{version}",
    response={200: ReleaseOut, 404: Problem},
    url_name="release",
)
def get_release(request: HttpRequest, org: str, product: str, version: str) -> Any:
    actor = actor_for(request)
    return release_out(services.get_release(actor, org, product, version), actor)


@router.post(
    "/products/{org}/{product}/releases/{version}/publish", response={200: ReleaseOut, **ERRORS}
)
def publish_release(request: HttpRequest, org: str, product: str, version: str) -> Any:
    actor = actor_for(request)
    release = services.get_release(actor, org, product, version)
    return release_out(services.publish_release(actor, release), actor)


@router.post(
    "/products/{org}/{product}/releases/{version}/withdraw", response={200: ReleaseOut, **ERRORS}
)
def withdraw_release(
    request: HttpRequest, org: str, product: str, version: str, data: WithdrawIn
) -> Any:
    actor = actor_for(request)
    release = services.get_release(actor, org, product, version)
    return release_out(services.withdraw_release(actor, release, reason=data.reason), actor)
