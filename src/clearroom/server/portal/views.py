"""Server-rendered portal pages: the public showcase, organisations (members and API tokens),
products and releases (files, digests, publish and withdraw), and help. Every read and write goes
through the catalogue services and :mod:`clearroom.server.authz`; views only present."""

from __future__ import annotations

import json
import shlex
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clearroom.server.accounts import tokens
from clearroom.server.accounts.models import ApiToken, Membership, Organisation
from clearroom.server.accounts.tokens import DEFAULT_LIFETIME, MAX_LIFETIME
from clearroom.server.api.serializers import release_path
from clearroom.server.authz import (
    ROLE_PERMISSIONS,
    Actor,
    Permission,
    release_files,
    visible_releases,
)
from clearroom.server.authz.permissions import KIND_PERMISSIONS, RULES, grantable
from clearroom.server.authz.routes import allow, authorized
from clearroom.server.authz.rules import decide
from clearroom.server.catalog import services
from clearroom.server.catalog.models import Artifact, Document, Release
from clearroom.server.errors import Forbidden, Invalid
from clearroom.server.notifications.models import Notification
from clearroom.server.pagecache.cache import anonymous_cache
from clearroom.server.portal import collaboration, fact_kinds, security, signatures
from clearroom.server.portal.errors import portal_view
from clearroom.server.portal.forms import TokenForm, WithdrawForm
from clearroom.server.standards.services import catalogues

SHOWCASE_PAGE_SIZE = 50
ANONYMOUS = Actor(user=None)


def organisation_url(org: str, **_: Any) -> str:
    return reverse("portal:organisation", args=[org])


def _release_url(org: str, product: str, version: str, **_: Any) -> str:
    return reverse("portal:release", args=[org, product, version])


# --- showcase -------------------------------------------------------------------------------


@require_GET
@anonymous_cache
@portal_view()
@allow(Permission.PUBLIC_READ)
def home(request: HttpRequest) -> HttpResponse:
    """What everyone may see: public releases, newest first, and the organisations."""
    releases = (
        visible_releases(ANONYMOUS)
        .select_related("product__vendor")
        .order_by(F("published_at").desc(nulls_last=True), "-created_at")
    )
    page = Paginator(releases, SHOWCASE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "organisations": Organisation.objects.all()}
    return render(request, "portal/home.html", context)


# --- organisations and API tokens -----------------------------------------------------------


def _member_role(actor: Actor, organisation: Organisation) -> str | None:
    return actor.memberships().get(organisation.pk)


def _token_form(actor: Actor, organisation: Organisation, role: str, data: Any = None) -> TokenForm:
    products = services.visible_products(actor).filter(vendor=organisation)
    return TokenForm(data, allowed=grantable(role, organisation.kind), products=products)


def _organisation_page(
    request: HttpRequest,
    actor: Actor,
    organisation: Organisation,
    *,
    form: TokenForm | None = None,
    created: tuple[ApiToken, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    role = _member_role(actor, organisation)
    website = organisation.website
    context: dict[str, Any] = {
        "organisation": organisation,
        "website_is_link": website.startswith(("https://", "http://")),
        "products": services.visible_products(actor).filter(vendor=organisation),
        "catalogues": catalogues(organisation),
        "role": role,
        "may_read_audit": decide(actor, Permission.ORG_AUDIT_READ, organisation).allowed,
        "may_manage_webhooks": decide(actor, Permission.ORG_WEBHOOK_MANAGE, organisation).allowed,
        "may_invite": decide(actor, Permission.ORG_MEMBER_MANAGE, organisation).allowed,
        "roles": Membership.Role.choices,
        "notification_kinds": Notification.Kind.choices,
        "api_url": reverse("api:organisation", kwargs={"org": organisation.slug}),
        **signatures.organisation_context(organisation),
        **security.organisation_context(actor, organisation, role),
    }
    if context["may_manage_webhooks"]:
        context["webhooks"] = organisation.webhooks.all()
    if role is not None:
        context["members"] = (
            Membership.objects.filter(organisation=organisation)
            .select_related("user")
            .order_by("user__username")
        )
        context["tokens"] = (
            ApiToken.objects.filter(user=actor.user, organisation=organisation)
            .select_related("product")
            .order_by("-created_at")
        )
        context["form"] = form or _token_form(actor, organisation, role)
        context["created"] = created
        context["now"] = timezone.now()
    response = render(request, "portal/organisation.html", context, status=status)
    if created is not None:
        response["Cache-Control"] = "no-store"
    return response


@require_GET
@anonymous_cache
@portal_view()
@allow(Permission.PUBLIC_READ, "organisation")
def organisation(request: HttpRequest, org: str) -> HttpResponse:
    auth = authorized(request)
    return _organisation_page(request, auth.actor, auth.resource.organisation)


@require_POST
@portal_view(back=organisation_url)
@allow(Permission.ORG_TOKEN_CREATE, "organisation")
def create_token(request: HttpRequest, org: str) -> HttpResponse:
    """Issue a token and show its secret on the resulting page, once; only its hash is kept."""
    auth = authorized(request)
    actor, found = auth.actor, auth.resource.organisation
    role = actor.memberships()[found.pk]
    form = _token_form(actor, found, role, request.POST)
    if not form.is_valid():
        return _organisation_page(request, actor, found, form=form, status=422)
    try:
        created = tokens.create_token(
            actor,
            found,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            product=form.cleaned_data["product"],
            lifetime=timedelta(days=form.cleaned_data["lifetime_days"]),
        )
    except (Invalid, Forbidden) as exc:
        form.add_error(None, exc.detail)
        return _organisation_page(request, actor, found, form=form, status=422)
    return _organisation_page(request, actor, found, created=created)


@require_POST
@portal_view(back=organisation_url)
@allow(Permission.ORG_TOKEN_CREATE, "organisation")
def revoke_token(request: HttpRequest, org: str, key_id: str) -> HttpResponse:
    auth = authorized(request)
    actor, found = auth.actor, auth.resource.organisation
    token = tokens.revoke_token(actor, found, key_id)
    messages.success(request, f"Token “{token.name}” ({token.key_id}) is revoked.")
    return redirect("portal:organisation", org=found.slug)


# --- products and releases ------------------------------------------------------------------


@require_GET
@anonymous_cache
@portal_view()
@allow(Permission.PUBLIC_READ, "product")
def product(request: HttpRequest, org: str, product: str) -> HttpResponse:
    auth = authorized(request)
    actor, found = auth.actor, auth.resource.product
    releases = visible_releases(actor).filter(product=found).order_by("-created_at")
    context = {
        "product": found,
        "releases": releases,
        "api_url": reverse("api:product", kwargs={"org": org, "product": product}),
        **security.product_context(actor, found),
    }
    return render(request, "portal/product.html", context)


def _files(actor: Actor, release: Release, model: type[Artifact] | type[Document]) -> list[Any]:
    """The files ``actor`` may see, each with its download URL and its fact in the log
    (``log_entry``: None for a draft's file; its ``index`` is None until it is sequenced)."""
    files = list(
        release_files(actor, release, model).prefetch_related("log_entries").order_by("name")
    )
    singular = "artifact" if model is Artifact else "document"
    p = release.product
    for f in files:
        f.kind_label = f.get_kind_display() if model is Document else "Artifact"
        f.log_entry = next(iter(f.log_entries.all()), None)
        f.download_url = reverse(
            f"api:{singular}-content",
            kwargs={
                "org": p.vendor.slug,
                "product": p.slug,
                "version": release.version,
                "name": f.name,
            },
        )
        f.shell_name = shlex.quote(f.name)
    return files


def _release_page(
    request: HttpRequest,
    actor: Actor,
    release: Release,
    *,
    withdraw_form: WithdrawForm | None = None,
    status: int = 200,
) -> HttpResponse:
    p = release.product
    may_publish = actor.has_perm(Permission.RELEASE_PUBLISH, p.vendor, p)
    artifacts = _files(actor, release, Artifact)
    documents = _files(actor, release, Document)
    release_facts = list(release.log_entries.filter(artifact=None, document=None).order_by("id"))
    entries = [json.loads(bytes(fact.entry)) for fact in release_facts]
    names = fact_kinds.organisation_names(entries)
    for fact, entry in zip(release_facts, entries, strict=True):  # the entry says what it is
        fact.about = fact_kinds.describe(entry, names)
    context = {
        "release": release,
        "product": p,
        "vendor": p.vendor,
        "artifacts": artifacts,
        "documents": documents,
        "release_facts": release_facts,
        "may_publish": may_publish and release.state == Release.State.DRAFT,
        "may_withdraw": may_publish and release.state == Release.State.PUBLISHED,
        "withdraw_form": withdraw_form or WithdrawForm(),
        "api_url": release_path(release),
        **signatures.release_context(release, artifacts, documents),
        **security.release_context(actor, release),
        **collaboration.release_context(actor, release),
    }
    return render(request, "portal/release.html", context, status=status)


@require_GET
@anonymous_cache
@portal_view()
@allow(Permission.PUBLIC_READ, "release")
def release(request: HttpRequest, org: str, product: str, version: str) -> HttpResponse:
    auth = authorized(request)
    return _release_page(request, auth.actor, auth.resource.release)


@require_POST
@portal_view(back=_release_url)
@allow(Permission.RELEASE_PUBLISH, "release")
def publish(request: HttpRequest, org: str, product: str, version: str) -> HttpResponse:
    auth = authorized(request)
    actor, found = auth.actor, auth.resource.release
    services.publish_release(actor, found)
    messages.success(request, f"Release {found.version} is published and visible to everyone.")
    return redirect(_release_url(org, product, version))


@require_POST
@portal_view(back=_release_url)
@allow(Permission.RELEASE_PUBLISH, "release")
def withdraw(request: HttpRequest, org: str, product: str, version: str) -> HttpResponse:
    auth = authorized(request)
    actor, found = auth.actor, auth.resource.release
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.withdraw_release(actor, found, reason=reason)
    except Invalid as exc:
        if not form.errors:
            form.add_error("reason", exc.detail)
        return _release_page(request, actor, found, withdraw_form=form, status=422)
    messages.success(request, f"Release {found.version} is withdrawn.")
    return redirect(_release_url(org, product, version))


# --- help -----------------------------------------------------------------------------------

PROBLEMS: tuple[tuple[str, int, str, str], ...] = (
    (
        "not-found",
        404,
        "The thing does not exist, or you may not see it (drafts, confidential files).",
        "Check the names in the URL; sign in, or send a token of an organisation that may see it.",
    ),
    (
        "forbidden",
        403,
        "You are known, but your role or your token's scopes do not allow this action.",
        "Ask an owner of the organisation for the role, or create a token with the needed scope.",
    ),
    (
        "authentication-required",
        401,
        "No valid credentials, or a write made with a browser session.",
        "Send Authorization: Bearer clr_…; create or renew a token on your organisation's page.",
    ),
    (
        "conflict",
        409,
        "The request clashes with the current state, e.g. publishing a published release.",
        "Read the detail, fetch the current state and decide again; a change is a new release.",
    ),
    (
        "invalid-input",
        422,
        "A field is missing or malformed; the detail names it.",
        "Fix the named field and send the request again.",
    ),
    (
        "digest-mismatch",
        422,
        "The uploaded bytes do not have the SHA-256 you declared; nothing was stored.",
        "Recompute the digest of the file you send (openssl dgst -sha256) and upload again.",
    ),
    (
        "digest-required",
        422,
        "An upload did not declare the SHA-256 of its bytes.",
        "Send Content-Digest: sha-256=:<base64>: (RFC 9530) or ?sha256=<hex> with the upload.",
    ),
    (
        "content-too-large",
        413,
        "The upload is larger than this centre accepts; the limit is in the detail.",
        "Ask the centre's operators about the limit, or split what you publish.",
    ),
    (
        "length-required",
        411,
        "A raw upload came without a Content-Length header.",
        "Send the body with its length; chunked transfer encoding is not accepted.",
    ),
    (
        "bad-request",
        400,
        "The request could not be understood.",
        "Read the detail; quote the request_id to the centre's operators if it does not help.",
    ),
)


@require_GET
@allow(Permission.PUBLIC_READ)
def help_page(request: HttpRequest) -> HttpResponse:
    roles = [
        (role, sorted(perms & set(Permission), key=list(Permission).index))
        for role, perms in ROLE_PERMISSIONS.items()
    ]
    kinds = [
        (kind, sorted(perms - {Permission.PUBLIC_READ}, key=list(Permission).index))
        for kind, perms in KIND_PERMISSIONS.items()
    ]
    context = {
        "roles": roles,
        "kinds": kinds,
        "permissions": [(p.value, rule.summary) for p, rule in RULES.items()],
        "default_lifetime": DEFAULT_LIFETIME.days,
        "max_lifetime": MAX_LIFETIME.days,
        "api_docs_url": reverse("api:openapi-view"),
        "openapi_url": reverse("api:openapi-json"),
    }
    return render(request, "portal/help.html", context)


@require_GET
@allow(Permission.PUBLIC_READ)
def problems(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/problems.html", {"problems": PROBLEMS})
