"""The catalogue's rules: who may create products and releases, how a release moves from draft to
published to withdrawn, and how uploaded bytes become an artifact or a document. The API and the
portal call these; they never change catalogue rows themselves."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from clearroom.blobs import BlobInfo
from clearroom.jobs import enqueue
from clearroom.server.accounts.models import Organisation
from clearroom.server.attestations import services as attestations
from clearroom.server.attestations.status import has_statements, issue_status_if_stated
from clearroom.server.audit import services as audit
from clearroom.server.authz import Actor, Permission, may_read_file, visible_releases
from clearroom.server.catalog.models import (
    Artifact,
    Confidentiality,
    Document,
    Product,
    Release,
)
from clearroom.server.catalog.names import check_file_name, check_media_type, check_version
from clearroom.server.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from clearroom.server.transparency import services as log

FileKind = Literal["artifact", "sbom", "vex", "provenance", "test_report", "other"]
FILE_KINDS: tuple[str, ...] = ("artifact", *Document.Kind.values)


def get_organisation(slug: str) -> Organisation:
    try:
        return Organisation.objects.get(slug=slug)
    except Organisation.DoesNotExist:
        raise NotFound(f"organisation {slug!r} does not exist") from None


def visible_products(actor: Actor) -> QuerySet[Product]:
    """Products with a public release, plus every product of the actor's own organisations."""
    has_visible = Exists(visible_releases(actor).filter(product=OuterRef("pk")))
    qs = Product.objects.select_related("vendor")
    if actor.is_operator:
        return qs
    return qs.filter(has_visible | Q(vendor_id__in=list(actor.memberships())))


def get_product(actor: Actor, org: str, product: str) -> Product:
    try:
        return visible_products(actor).get(vendor__slug=org, slug=product)
    except Product.DoesNotExist:
        raise NotFound(f"product {org}/{product} does not exist or is not visible to you") from None


def get_release(actor: Actor, org: str, product: str, version: str) -> Release:
    try:
        return (
            visible_releases(actor)
            .select_related("product__vendor")
            .get(product__vendor__slug=org, product__slug=product, version=version)
        )
    except Release.DoesNotExist:
        raise NotFound(
            f"release {org}/{product}@{version} does not exist or is not visible to you"
        ) from None


def _require(
    actor: Actor, permission: Permission, vendor: Organisation, product: Product | None = None
) -> None:
    if not actor.is_authenticated:
        raise Unauthenticated("sign in or present an API token to do this")
    if not actor.has_perm(permission, vendor, product):
        raise Forbidden(
            f"you need the {permission.value!r} permission in {vendor.slug!r}"
            + (" and a token scoped to that action" if actor.token else "")
        )


def create_product(
    actor: Actor,
    vendor: Organisation,
    *,
    slug: str,
    name: str,
    category: str,
    description: str = "",
) -> Product:
    _require(actor, Permission.PRODUCT_WRITE, vendor)
    if vendor.kind != Organisation.Kind.VENDOR:
        raise Invalid(f"organisation {vendor.slug!r} is a {vendor.kind}; only vendors own products")
    if category not in Product.Category.values:
        raise Invalid(f"category must be one of {', '.join(Product.Category.values)}")
    product = Product(
        vendor=vendor, slug=slug, name=name, category=category, description=description
    )
    _validate(product)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise Conflict(f"product {vendor.slug}/{slug} already exists") from None
    return product


def create_release(
    actor: Actor,
    product: Product,
    *,
    version: str,
    support_until: date | None = None,
    notes: str = "",
) -> Release:
    _require(actor, Permission.RELEASE_WRITE, product.vendor, product)
    release = Release(
        product=product,
        version=check_version(version),
        support_until=support_until,
        notes=notes,
        created_by=actor.user,
    )
    try:
        with transaction.atomic():
            release.save()
    except IntegrityError:
        raise Conflict(
            f"release {product.vendor.slug}/{product.slug}@{version} already exists"
        ) from None
    return release


def publish_release(actor: Actor, release: Release) -> Release:
    """Draft → published. A release needs at least one artifact; once published its files are
    fixed (a new version is a new release). The release, each file and each signed statement
    about it become log facts in the same transaction; a signed manifest must match the files."""
    _require(actor, Permission.RELEASE_PUBLISH, release.product.vendor, release.product)
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.state != Release.State.DRAFT:
            raise Conflict(f"release is {locked.state}; only a draft can be published")
        if not locked.artifacts.exists():
            raise Conflict("release has no artifacts; upload at least one before publishing")
        statements = locked.attestations.filter(log_entry__isnull=True).count()
        files = locked.artifacts.count() + locked.documents.count()
        status = 1 if statements else 0  # the centre's release status, when there is a bundle
        log.check_capacity(1 + files + statements + status)
        locked.state = Release.State.PUBLISHED
        locked.published_at = timezone.now()
        locked.save(update_fields=["state", "published_at"])
        log.record_publication(locked)
        attestations.on_publish(locked)
        issue_status_if_stated(locked)
    return locked


def withdraw_release(actor: Actor, release: Release, *, reason: str) -> Release:
    """Published → withdrawn. The release stays visible, marked withdrawn with the reason:
    facts are never deleted."""
    _require(actor, Permission.RELEASE_PUBLISH, release.product.vendor, release.product)
    if not reason.strip():
        raise Invalid("reason: say why the release is withdrawn; it is shown to everyone")
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.state != Release.State.PUBLISHED:
            raise Conflict(f"release is {locked.state}; only a published release can be withdrawn")
        log.check_capacity(2 if has_statements(locked) else 1)  # and the centre's new status
        locked.state = Release.State.WITHDRAWN
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_reason = reason.strip()
        locked.save(update_fields=["state", "withdrawn_at", "withdrawn_reason"])
        log.record_withdrawal(locked)
        issue_status_if_stated(locked)  # at once: bundles handed out from now say withdrawn
    return locked


def _file_model(kind: str) -> type[Artifact] | type[Document]:
    if kind not in FILE_KINDS:
        raise Invalid(f"kind must be one of {', '.join(FILE_KINDS)}, not {kind!r}")
    return Artifact if kind == "artifact" else Document


def check_upload(
    actor: Actor,
    release: Release,
    *,
    kind: str,
    name: str,
    confidentiality: str,
    media_type: str = "application/octet-stream",
) -> str:
    """Everything that can be refused before a single byte is received. Returns the clean name."""
    _require(actor, Permission.RELEASE_WRITE, release.product.vendor, release.product)
    if release.state != Release.State.DRAFT:
        raise Conflict(f"release is {release.state}; files can only be added to a draft release")
    if confidentiality not in Confidentiality.values:
        raise Invalid(f"confidentiality must be one of {', '.join(Confidentiality.values)}")
    check_media_type(media_type)
    clean = check_file_name(name)
    if _file_model(kind).objects.filter(release=release, name=clean).exists():
        raise Conflict(f"{clean!r} already exists in this release")
    return clean


def record_upload(
    actor: Actor,
    release: Release,
    *,
    kind: str,
    name: str,
    media_type: str,
    confidentiality: str,
    blob: BlobInfo,
) -> Artifact | Document:
    """Record stored bytes as a file of ``release`` and schedule its SHA-512, in one transaction."""
    media_type = media_type or "application/octet-stream"
    name = check_upload(
        actor,
        release,
        kind=kind,
        name=name,
        confidentiality=confidentiality,
        media_type=media_type,
    )
    model = _file_model(kind)
    fields = {
        "release": release,
        "name": name,
        "media_type": media_type,
        "size": blob.size,
        "sha256": blob.sha256,
        "confidentiality": confidentiality,
        "uploaded_by": actor.user,
    }
    if model is Document:
        fields["kind"] = kind
    try:
        with transaction.atomic():
            # Re-check under the row lock: the release may have been published meanwhile.
            locked = Release.objects.select_for_update().get(pk=release.pk)
            if locked.state != Release.State.DRAFT:
                raise Conflict(f"release is {locked.state}; files can only be added to a draft")
            stored = model.objects.create(**fields)
            model_name = model.__name__.lower()
            enqueue(
                "catalog.sha512",
                model=model_name,
                pk=stored.pk,
                dedupe_key=f"sha512:{model_name}:{stored.pk}",
            )
            if kind == Document.Kind.SBOM:
                enqueue("sbom.ingest", document=stored.pk, dedupe_key=f"sbom:{stored.pk}")
            elif kind == Document.Kind.VEX:  # the vendor's statements change findings
                enqueue("vulns.evaluate", release=release.pk, dedupe_key=f"evaluate:{release.pk}")
    except IntegrityError:
        raise Conflict(f"{name!r} already exists in this release") from None
    return stored


def _validate(obj: Product) -> None:
    try:
        obj.full_clean(exclude=["vendor"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise Invalid(messages) from None


def file_model(collection: str) -> type[Artifact] | type[Document]:
    """``artifacts`` or ``documents`` → the model."""
    return Artifact if collection == "artifacts" else Document


def get_file(
    actor: Actor,
    org: str,
    product: str,
    version: str,
    collection: str,
    name: str,
    *,
    ip: str | None = None,
) -> Artifact | Document:
    """A file the actor may read. Anything else is "not found", whether it is missing or only
    hidden, so existence never leaks; a refused attempt on an existing file is audited, and so
    is every granted access to confidential bytes."""
    model = file_model(collection)
    stored = (
        model.objects.select_related("release__product__vendor")
        .filter(
            release__product__vendor__slug=org,
            release__product__slug=product,
            release__version=version,
            name=name,
        )
        .first()
    )
    missing = NotFound(f"{collection[:-1]} {name!r} does not exist or is not visible to you")
    if stored is None:
        raise missing
    target = f"{org}/{product}@{version}/{collection}/{name}"
    vendor = stored.release.product.vendor
    if not may_read_file(actor, stored):
        audit.record_refusal(
            actor,
            f"material:{collection[:-1]}:read",
            kind=f"{stored.confidentiality} {collection[:-1]}",
            target=target,
            organisation=vendor,
            ip=ip,
        )
        raise missing
    if stored.is_confidential:
        audit.record(
            actor,
            f"material:{collection[:-1]}:read",
            allowed=True,
            target=target,
            organisation=vendor,
            ip=ip,
        )
    return stored
