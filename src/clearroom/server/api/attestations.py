"""Signing keys, signed statements and release bundles.

Writes take a DSSE envelope as the request body (``Content-Type: application/json``), made on
the vendor's side (``clearroom key register``, ``clearroom sign``): the centre never holds a
vendor's private key. Reads are public for published releases."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from clearroom.attest.bundle import MEDIA_TYPE
from clearroom.attest.predicates import RELEASE_STATUS
from clearroom.attest.registry import rfc3339
from clearroom.server.api.schemas import Problem
from clearroom.server.api.serializers import log_ref
from clearroom.server.attestations import services
from clearroom.server.attestations.bundles import release_bundle
from clearroom.server.attestations.centre import centre_key
from clearroom.server.attestations.models import Attestation, SigningKey
from clearroom.server.attestations.policy import starting_policy
from clearroom.server.authz import Permission, visible_releases
from clearroom.server.authz.routes import Allow
from clearroom.server.catalog.models import Release
from clearroom.server.errors import Invalid, NotFound
from clearroom.server.transparency.identity import verifier, witnesses

router = Router(tags=["signatures"])
WRITE_ERRORS: dict[int, type[Problem]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), Problem
)
MAX_ENVELOPE = 1 << 20


class RevokeIn(Schema):
    reason: str = ""
    envelope: dict[str, Any] | None = None
    """A revocation key event signed by a valid key of the organisation; without it, the
    centre signs the revocation (needs the 'org:key:manage' permission)."""


def _body(request: HttpRequest) -> bytes:
    if len(request.body) > MAX_ENVELOPE:
        raise Invalid(f"a signed statement is at most {MAX_ENVELOPE} bytes")
    return request.body


def key_out(key: SigningKey) -> dict[str, Any]:
    entry = key.added_by.log_entry
    return {
        **services.key_summary(key),
        "organisation": key.organisation.slug,
        "log": log_ref(entry) if entry else None,
    }


def attestation_out(a: Attestation) -> dict[str, Any]:
    return {
        "predicate_type": a.predicate_type,
        "payload_type": a.payload_type,
        "organisation": a.organisation.slug,
        "signers": a.signer_keyids,
        "envelope": json.loads(bytes(a.envelope)),
        "log": log_ref(a.log_entry) if a.log_entry else None,
        "created_at": rfc3339(a.created_at),
    }


@router.get(
    "/organisations/{org}/keys",
    url_name="keys",
    summary="An organisation's keys",
    auth=Allow(Permission.PUBLIC_READ, "organisation"),
)
def list_keys(request: HttpRequest, org: str) -> Any:
    organisation = request.auth.resource.organisation
    keys = SigningKey.objects.filter(organisation=organisation).select_related(
        "organisation", "added_by__log_entry"
    )
    return [key_out(k) for k in keys]


@router.post(
    "/organisations/{org}/keys",
    response={201: dict[str, Any], **WRITE_ERRORS},
    summary="Register a key with a signed key event (body: DSSE envelope)",
    auth=Allow(Permission.ORG_KEY_ROTATE, "organisation"),
)
def register_key(request: HttpRequest, org: str) -> Any:
    organisation = request.auth.resource.organisation
    key = services.register_key(request.auth.actor, organisation, _body(request))
    return Status(201, key_out(key))


@router.post(
    "/organisations/{org}/keys/{keyid}/revoke",
    response={200: dict[str, Any], **WRITE_ERRORS},
    summary="Revoke a key",
    auth=Allow(Permission.ORG_KEY_ROTATE, "organisation"),
)
def revoke_key(request: HttpRequest, org: str, keyid: str, data: RevokeIn) -> Any:
    organisation = request.auth.resource.organisation
    envelope = None if data.envelope is None else json.dumps(data.envelope).encode()
    key = services.revoke_key(
        request.auth.actor, organisation, keyid, reason=data.reason, data=envelope
    )
    return key_out(key)


@router.get(
    "/products/{org}/{product}/releases/{version}/attestations",
    url_name="attestations",
    auth=Allow(Permission.PUBLIC_READ, "release"),
)
def list_attestations(request: HttpRequest, org: str, product: str, version: str) -> Any:
    release = request.auth.resource.release
    rows = release.attestations.select_related("organisation", "log_entry")
    return [attestation_out(a) for a in rows.exclude(predicate_type=RELEASE_STATUS)]


@router.post(
    "/products/{org}/{product}/releases/{version}/attestations",
    response={201: dict[str, Any], **WRITE_ERRORS},
    summary="Add a signed statement about a release (body: DSSE envelope)",
    auth=Allow(Permission.RELEASE_WRITE, "release"),
)
def add_attestation(request: HttpRequest, org: str, product: str, version: str) -> Any:
    actor, release = request.auth.actor, request.auth.resource.release
    return Status(201, attestation_out(services.add_attestation(actor, release, _body(request))))


def _bundle_response(release: Release, since: int | None) -> HttpResponse:
    bundle = release_bundle(release, since)
    name = f"{release.product.vendor.slug}-{release.product.slug}-{release.version}.bundle.json"
    response = HttpResponse(bundle.to_json(), content_type=MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-cache"
    return response


@router.get(
    "/products/{org}/{product}/releases/{version}/bundle",
    response={200: None, 404: Problem, 422: Problem},
    url_name="bundle",
    summary="The release bundle: everything needed to verify the release offline",
    auth=Allow(Permission.PUBLIC_READ, "release"),
)
def get_bundle(
    request: HttpRequest, org: str, product: str, version: str, since: int | None = None
) -> Any:
    release = request.auth.resource.release
    if not release.is_public:
        raise NotFound("a draft release has no bundle; publish it first")
    return _bundle_response(release, since)


@router.get(
    "/bundles",
    response={200: None, 404: Problem, 422: Problem},
    url_name="bundles",
    summary="The bundle of the newest published release that holds a file with this SHA-256",
    auth=Allow(Permission.PUBLIC_READ),
)
def find_bundle(request: HttpRequest, sha256: str, since: int | None = None) -> Any:
    digest = sha256.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise Invalid("sha256: give 64 hexadecimal digits")
    releases = visible_releases(request.auth.actor).filter(
        state__in=[Release.State.PUBLISHED, Release.State.WITHDRAWN],
        artifacts__sha256=digest,
        artifacts__confidentiality="public",
    )
    release = releases.select_related("product__vendor").order_by("-published_at").first()
    if release is None:
        raise NotFound(f"no published release holds a public artifact with SHA-256 {digest}")
    return _bundle_response(release, since)


@router.get(
    "/trust",
    url_name="trust",
    summary="The centre's keys, for a verifier's policy",
    auth=Allow(Permission.PUBLIC_READ),
)
def trust(request: HttpRequest) -> Any:
    return {
        "log": {
            "origin": verifier().name,
            "key": verifier().to_key(),
            "witnesses": [w.verifier.to_key() for w in witnesses()],
        },
        "centre_keys": [centre_key().to_pem()],
        "note": "Get these keys from the centre's operator out of band and compare.",
    }


@router.get(
    "/organisations/{org}/policy",
    response={200: None, 404: Problem},
    url_name="policy",
    summary="A starting trust policy (TOML) for verifying this vendor's releases",
    auth=Allow(Permission.PUBLIC_READ, "organisation"),
)
def policy(request: HttpRequest, org: str) -> Any:
    organisation = request.auth.resource.organisation
    return HttpResponse(starting_policy(organisation), content_type="text/plain; charset=utf-8")
