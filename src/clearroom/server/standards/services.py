"""Publishing a catalogue version: the standards body's OSCAL document is parsed
(:mod:`clearroom.standards`), stored as given, its controls indexed, and a
``clearroom.dev/catalogue/v1`` fact logged in the same transaction."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from clearroom.server.accounts.models import Organisation, slug_validator
from clearroom.server.authz import Actor, Permission
from clearroom.server.catalog.names import check_version
from clearroom.server.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from clearroom.server.standards.models import Catalogue, Control
from clearroom.server.transparency import services as log
from clearroom.standards import CatalogueError, parse_oscal
from clearroom.tlog import facts


def publish(actor: Actor, organisation: Organisation, slug: str, document: bytes) -> Catalogue:
    """Publish the version of catalogue ``slug`` that ``document`` (OSCAL catalog JSON) states."""
    if not actor.is_authenticated:
        raise Unauthenticated("sign in or present an API token to do this")
    if not actor.has_perm(Permission.CATALOGUE_PUBLISH, organisation):
        raise Forbidden(
            f"you need the {Permission.CATALOGUE_PUBLISH.value!r} permission in"
            f" {organisation.slug!r}; only standards bodies publish catalogues"
        )
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise Invalid(f"slug: {slug[:100]!r}: {' '.join(exc.messages)}") from None
    try:
        parsed = parse_oscal(document)
    except CatalogueError as exc:
        raise Invalid(str(exc)) from None
    version = check_version(parsed.version)
    sha256 = hashlib.sha256(document).hexdigest()
    try:
        with transaction.atomic():
            log.check_capacity(1)
            catalogue = Catalogue.objects.create(
                organisation=organisation,
                slug=slug,
                version=version,
                title=parsed.title[:500],
                uuid=parsed.uuid,
                oscal_version=parsed.oscal_version[:50],
                document=document,
                sha256=sha256,
                published_by=actor.user,
            )
            Control.objects.bulk_create(
                Control(
                    catalogue=catalogue,
                    position=i,
                    control_id=c.id,
                    title=c.title[:1000],
                    statement=c.statement,
                    group=c.group[:1000],
                    parent=c.parent,
                )
                for i, c in enumerate(parsed.controls)
            )
            fact_id, entry = facts.make_fact(
                facts.CATALOGUE,
                timezone.now(),
                organisation=organisation.slug,
                catalogue=slug,
                version=version,
                uuid=parsed.uuid,
                sha256=sha256,
                controls=len(parsed.controls),
            )
            catalogue.log_entry = log.record_entry(
                facts.CATALOGUE, fact_id, entry, subject_sha256=sha256
            )
            catalogue.save(update_fields=["log_entry"])
    except IntegrityError:
        raise Conflict(
            f"{organisation.slug}/{slug} version {version} is published already; a change is a"
            " new version (metadata.version)"
        ) from None
    return catalogue


def catalogues(organisation: Organisation) -> QuerySet[Catalogue]:
    """Every published version (catalogues are public), newest first per catalogue."""
    return Catalogue.objects.filter(organisation=organisation).select_related("log_entry")


def get(organisation: Organisation, slug: str, version: str) -> Catalogue:
    found = catalogues(organisation).filter(slug=slug, version=version).first()
    if found is None:
        raise NotFound(f"no catalogue {organisation.slug}/{slug} version {version}")
    return found


def by_reference(reference: str) -> Catalogue:
    """``<organisation>/<slug>@<version>``, as evaluations name a catalogue."""
    org, _, rest = reference.strip().partition("/")
    slug, _, version = rest.partition("@")
    if not (org and slug and version):
        raise Invalid(
            f"catalogue: {reference[:100]!r} is not <organisation>/<slug>@<version>,"
            " e.g. 'open-iot-standards/iot-baseline@1.0'"
        )
    found = (
        Catalogue.objects.filter(organisation__slug=org, slug=slug, version=version)
        .select_related("organisation")
        .first()
    )
    if found is None:
        raise NotFound(f"no catalogue {org}/{slug} version {version} is published here")
    return found


def reference(catalogue: Catalogue) -> str:
    return f"{catalogue.organisation.slug}/{catalogue.slug}@{catalogue.version}"
