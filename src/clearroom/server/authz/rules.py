"""The one place that decides who may see and do what, reading the tables of
:mod:`.permissions`. Routes (:mod:`.routes`), services, downloads and jobs all ask here; nothing
else looks at memberships or token scopes.

An :class:`Actor` is a signed-in user, optionally narrowed by the API token they presented.
Things an actor may not see are filtered out of querysets, so callers answer 404 — never 403 —
and existence does not leak."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from clearroom.server.authz.permissions import (
    KIND_PERMISSIONS,
    ROLE_PERMISSIONS,
    RULES,
    Permission,
)

if TYPE_CHECKING:
    from clearroom.server.accounts.models import ApiToken, Organisation, User
    from clearroom.server.catalog.models import Product, Release, StoredFile


@dataclass(frozen=True)
class Actor:
    user: User | None
    token: ApiToken | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None and self.user.is_authenticated

    @property
    def is_operator(self) -> bool:
        """A superuser of the centre, signed in or with a token of the centre-operator
        organisation that carries the ``centre:organisation:create`` scope."""
        if not self.is_authenticated or not self.user.is_superuser:  # type: ignore[union-attr]
            return False
        token = self.token
        return token is None or (
            token.organisation.kind == "operator"
            and Permission.CENTRE_ORGANISATION_CREATE.value in token.scopes
        )

    def memberships(self) -> dict[int, str]:
        """Organisation id → role, narrowed to the token's organisation if any (cached)."""
        return {org: role for org, (role, _) in self._membership_rows().items()}

    def _membership_rows(self) -> dict[int, tuple[str, str]]:
        """Organisation id → (role, organisation kind), read once per actor."""
        cached: dict[int, tuple[str, str]] | None = getattr(self, "_memberships", None)
        if cached is not None:
            return cached
        from clearroom.server.accounts.models import Membership

        result: dict[int, tuple[str, str]] = {}
        if self.is_authenticated:
            rows = Membership.objects.filter(user=self.user)
            if self.token is not None:
                rows = rows.filter(organisation_id=self.token.organisation_id)
            result = {
                org: (role, kind)
                for org, role, kind in rows.values_list(
                    "organisation_id", "role", "organisation__kind"
                )
            }
        object.__setattr__(self, "_memberships", result)
        return result

    def holds(self, permission: Permission, organisation_id: int) -> bool:
        """Does a membership in this organisation carry ``permission`` (role and kind)?"""
        found = self._membership_rows().get(organisation_id)
        return found is not None and _carries(found, permission)

    def holds_anywhere(self, permission: Permission) -> bool:
        return any(_carries(found, permission) for found in self._membership_rows().values())

    def organisations_for(self, permission: Permission) -> list[int]:
        """The organisations in which this actor may do ``permission`` (role and kind), none
        if their token does not name it: the list form of :meth:`has_perm` (a token narrowed
        to one product narrows further: :attr:`token_product_id`)."""
        token = self.token
        if token is not None and permission.value not in token.scopes:
            return []
        return [
            org for org, found in self._membership_rows().items() if _carries(found, permission)
        ]

    @property
    def token_product_id(self) -> int | None:
        """The one product the presented token is narrowed to, if any."""
        return self.token.product_id if self.token is not None else None

    def _token_allows(self, permission: Permission, product: Product | None) -> bool:
        token = self.token
        if token is None:
            return True
        if permission.value not in token.scopes:
            return False
        return token.product_id is None or (product is not None and product.pk == token.product_id)

    def has_perm(
        self, permission: Permission, organisation: Organisation, product: Product | None = None
    ) -> bool:
        """May this actor do ``permission`` in ``organisation`` (for ``product``)?"""
        return self.holds(permission, organisation.pk) and self._token_allows(permission, product)

    def may_read_confidential(self, product: Product, release: Release | None = None) -> bool:
        """Members of the vendor, and members of an organisation holding an active grant for
        the product or (``release``) for that release."""
        if self.has_perm(Permission.CONFIDENTIAL_READ, product.vendor, product):
            return True
        if not self._token_allows(Permission.CONFIDENTIAL_READ, product):
            return False
        grantees = self.grantee_organisations()
        if not grantees:
            return False
        scope = Q(release__isnull=True) | Q(release=release) if release else Q(release__isnull=True)
        return product.grants.filter(active_grant_q(), scope, grantee_id__in=grantees).exists()

    def grantee_organisations(self) -> list[int]:
        """The organisations through whose grants this actor reads confidential material."""
        return [org for org in self.memberships() if self.holds(Permission.CONFIDENTIAL_READ, org)]


def _carries(membership: tuple[str, str], permission: Permission) -> bool:
    role, kind = membership
    return permission in ROLE_PERMISSIONS[role] and permission in KIND_PERMISSIONS[kind]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    """Why not, said to the person refused."""


ALLOWED = Decision(True)


def decide(
    actor: Actor,
    permission: Permission,
    organisation: Organisation | None = None,
    product: Product | None = None,
    *,
    release: Release | None = None,
    counterpart: Organisation | None = None,
) -> Decision:
    """May ``actor`` do ``permission`` on an object owned by ``organisation`` (about
    ``product`` / ``release``, with ``counterpart`` as its other party)? The caller has already
    made sure the actor may see the object (else it answers 404)."""
    who = RULES[permission].who
    if who == "anyone":
        return ALLOWED
    if not actor.is_authenticated:
        return Decision(False, "sign in or present an API token to do this")
    parties = {
        "organisation": [organisation],
        "counterpart": [counterpart],
        "party": [organisation, counterpart],
    }
    if who == "operator":
        ok = actor.is_operator
    elif who == "signed_in":
        ok = actor._token_allows(permission, None)
    elif who == "member":
        ok = actor.holds_anywhere(permission) and actor._token_allows(permission, product)
    elif who == "reader":
        ok = product is not None and actor.may_read_confidential(product, release)
    else:
        ok = any(
            org is not None and actor.has_perm(permission, org, product) for org in parties[who]
        )
    if ok:
        return ALLOWED
    names = [org.slug for org in parties.get(who, []) if org is not None]
    where = f" in {' or '.join(repr(n) for n in names)}" if names else ""
    token = " and a token scoped to that action" if actor.token else ""
    return Decision(False, f"you need the {permission.value!r} permission{where}{token}")


def active_grant_q() -> Q:
    now = timezone.now()
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def visible_releases(actor: Actor, queryset: QuerySet[Release] | None = None) -> QuerySet[Release]:
    """Published and withdrawn releases for everyone; drafts only for the vendor's members."""
    from clearroom.server.catalog.models import Release

    qs = Release.objects.all() if queryset is None else queryset
    public = ~Q(state=Release.State.DRAFT)
    member_of = list(actor.memberships())
    if actor.is_operator:
        return qs
    if not member_of:
        return qs.filter(public)
    return qs.filter(public | Q(product__vendor_id__in=member_of))


def visible_files(actor: Actor, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Files of visible releases; confidential ones only where the actor may read them - one
    query, so lists and counts are filtered in the database."""
    from clearroom.server.catalog.models import Confidentiality

    qs = queryset.filter(release__in=visible_releases(actor))
    readable = Q(confidentiality=Confidentiality.PUBLIC)
    token = actor.token
    if token is not None and Permission.CONFIDENTIAL_READ.value not in token.scopes:
        return qs.filter(readable)
    own = [org for org in actor.memberships() if actor.holds(Permission.CONFIDENTIAL_READ, org)]
    confidential = _confidential_of(own)
    if token is not None and token.product_id is not None:
        confidential &= Q(release__product_id=token.product_id)
    return qs.filter(readable | confidential)


def _confidential_of(organisations: list[int]) -> Q:
    """Confidential files these organisations read: their own products', and those under an
    active grant to one of them (for the product, or for the file's release)."""
    from clearroom.server.catalog.models import AccessGrant

    confidential = Q(release__product__vendor_id__in=organisations)
    grants = AccessGrant.objects.filter(active_grant_q(), grantee_id__in=organisations)
    confidential |= Q(release__product_id__in=grants.filter(release__isnull=True).values("product"))
    confidential |= Q(release_id__in=grants.filter(release__isnull=False).values("release"))
    return confidential


def organisation_files(organisation: Organisation, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """The files of ``queryset`` that every member of ``organisation`` may read: what its
    shared inbox and webhooks may be told about (a count of findings is about the files they
    come from). Public files of public releases, and confidential ones the organisation reads
    when its kind and every role carry the confidential read."""
    from clearroom.server.catalog.models import Confidentiality, Release

    qs = queryset.filter(release__in=Release.objects.exclude(state=Release.State.DRAFT))
    readable = Q(confidentiality=Confidentiality.PUBLIC)
    every_role = all(Permission.CONFIDENTIAL_READ in held for held in ROLE_PERMISSIONS.values())
    if every_role and Permission.CONFIDENTIAL_READ in KIND_PERMISSIONS[organisation.kind]:
        readable |= _confidential_of([organisation.pk])
    return qs.filter(readable)


def release_files(actor: Actor, release: Release, model: Any) -> QuerySet[Any]:
    """The files of one release that the actor can already see (a route resolved it): all of
    them for whoever may read its confidential material, the public ones for everyone else -
    the answer of :func:`visible_files`, decided once instead of by subqueries per file."""
    from clearroom.server.catalog.models import Confidentiality

    files = model.objects.filter(release=release)
    if actor.may_read_confidential(release.product, release):
        return files
    return files.filter(confidentiality=Confidentiality.PUBLIC)


def may_read_file(actor: Actor, stored: StoredFile) -> bool:
    release = stored.release
    if not visible_releases(actor).filter(pk=release.pk).exists():
        return False
    return not stored.is_confidential or actor.may_read_confidential(release.product, release)
