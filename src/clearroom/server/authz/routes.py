"""Every route declares the permission it needs and the object it acts on, and is checked
before anything else runs - before a request body is read or parsed.

API operations declare it as their ninja ``auth`` (``auth=Allow(Permission.X, "release")``);
portal views with the :func:`allow` decorator. Both resolve the object named by the URL the
way its lists do (what the actor may not see is "not found", and an attempt on an object that
exists is audited), then ask :func:`~clearroom.server.authz.rules.decide`. The route inventory
test reads these declarations: a route without one fails it.

Objects a route can name (``on=``): ``none``, ``organisation`` (``org``), ``product`` (``org``,
``product``), ``release`` (+ ``version``), ``artifact`` / ``document`` (+ ``name``), and
``evaluation`` / ``finding`` / ``thread`` (``ref``, seen only by their two parties).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any, Literal

from django.http import HttpRequest, HttpResponse

from clearroom.server.authz.permissions import RULES, Permission
from clearroom.server.authz.request import actor_for, api_actor_for, client_ip
from clearroom.server.authz.rules import Actor, decide
from clearroom.server.errors import Forbidden, NotFound, Unauthenticated

if TYPE_CHECKING:
    from clearroom.server.accounts.models import Organisation
    from clearroom.server.catalog.models import Artifact, Document, Product, Release

On = Literal[
    "none",
    "organisation",
    "product",
    "release",
    "artifact",
    "document",
    "evaluation",
    "finding",
    "thread",
]


@dataclass(frozen=True)
class Resource:
    """What a route's URL names, resolved for the actor asking."""

    organisation: Organisation | None = None
    """Whose it is: the vendor, or the organisation the route names."""
    product: Product | None = None
    release: Release | None = None
    file: Artifact | Document | None = None
    counterpart: Organisation | None = None
    """The other party of an evaluation, finding or thread."""
    obj: Any = None
    """The evaluation, finding or thread itself."""


class Authorized:
    """A request that passed its route's check: who asks, and the object it names. For a
    public route that names nothing the actor is only looked up if the view asks (a log tile
    is served without reading the session)."""

    def __init__(self, resource: Resource, actor: Actor | Callable[[], Actor]) -> None:
        self.resource = resource
        self._actor = actor

    @cached_property
    def actor(self) -> Actor:
        return self._actor if isinstance(self._actor, Actor) else self._actor()


@dataclass(frozen=True)
class Declaration:
    permission: Permission
    on: On


def resolve(actor: Actor, on: On, kwargs: dict[str, Any], *, ip: str | None = None) -> Resource:
    """The object the URL names, or :class:`NotFound` when it is missing or hidden from the
    actor - the same answer either way."""
    from clearroom.server.catalog import services

    if on == "none":
        return Resource()
    if on in ("evaluation", "finding", "thread"):
        from clearroom.server.collaboration import access

        found = _audited(
            actor, on, f"{on} {kwargs['ref']}", ip, access.get, actor, on, kwargs["ref"]
        )
        release = getattr(found, "release", None)
        product = release.product if release is not None else found.product
        return Resource(product.vendor, product, release, None, access.counterpart(found), found)
    org = kwargs["org"]
    if on == "organisation":
        return Resource(organisation=services.get_organisation(org))
    if on == "product":
        product = _audited(
            actor,
            on,
            f"{org}/{kwargs['product']}",
            ip,
            services.get_product,
            actor,
            org,
            kwargs["product"],
        )
        return Resource(product.vendor, product)
    version = kwargs["version"]
    target = f"{org}/{kwargs['product']}@{version}"
    if on == "release":
        release = _audited(
            actor, on, target, ip, services.get_release, actor, org, kwargs["product"], version
        )
        return Resource(release.product.vendor, release.product, release)
    stored = services.get_file(
        actor, org, kwargs["product"], version, f"{on}s", kwargs["name"], ip=ip
    )
    release = stored.release
    return Resource(release.product.vendor, release.product, release, stored)


def _audited(
    actor: Actor, on: On, target: str, ip: str | None, lookup: Callable[..., Any], *args: Any
) -> Any:
    """``lookup(*args)``; a refusal of a signed-in actor is recorded (guessed names are how
    other organisations' drafts would be probed), a flood of them as one counted record."""
    try:
        return lookup(*args)
    except NotFound:
        if actor.is_authenticated:
            from clearroom.server.audit import services as audit

            audit.record_refusal(actor, "public:material:read", kind=on, target=target, ip=ip)
        raise


def authorize(
    request: HttpRequest,
    permission: Permission,
    on: On,
    kwargs: dict[str, Any],
    find_actor: Callable[[HttpRequest], Actor],
) -> Authorized:
    """Resolve, then decide: 404 for what the actor may not see, 401 for an anonymous actor
    refused, 403 for a signed-in one."""
    if on == "none" and RULES[permission].who == "anyone":
        return Authorized(Resource(), lambda: find_actor(request))
    actor = find_actor(request)
    resource = resolve(actor, on, kwargs, ip=client_ip(request))
    decision = decide(
        actor,
        permission,
        resource.organisation,
        resource.product,
        release=resource.release,
        counterpart=resource.counterpart,
    )
    if not decision.allowed:
        if not actor.is_authenticated:
            raise Unauthenticated(decision.reason)
        raise Forbidden(decision.reason)
    return Authorized(resource, actor)


class Allow:
    """A ninja ``auth`` callable: the operation's declared permission, checked first."""

    def __init__(self, permission: Permission, on: On = "none") -> None:
        self.declaration = Declaration(permission, on)

    def __call__(self, request: HttpRequest) -> Authorized:
        match = request.resolver_match
        kwargs = dict(match.kwargs) if match is not None else {}
        declared = self.declaration
        return authorize(request, declared.permission, declared.on, kwargs, api_actor_for)


View = Callable[..., HttpResponse]


def allow(permission: Permission, on: On = "none") -> Callable[[View], View]:
    """The portal's form of :class:`Allow`: the view gets ``request.auth`` like an API view."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request.auth = authorize(request, permission, on, kwargs, actor_for)  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapper.declaration = Declaration(permission, on)  # type: ignore[attr-defined]
        return wrapper

    return decorate


def authorized(request: HttpRequest) -> Authorized:
    """What the route's check established (``request.auth``), typed."""
    found = getattr(request, "auth", None)
    if not isinstance(found, Authorized):
        raise TypeError("this view has no route declaration: decorate it with allow()")
    return found


def declaration_of(view: Any) -> Declaration | None:
    """The declaration of a portal view (through its other decorators) or an API operation."""
    seen = view
    while seen is not None:
        found = getattr(seen, "declaration", None)
        if isinstance(found, Declaration):
            return found
        seen = getattr(seen, "__wrapped__", None)
    return None
