"""The authorization matrix, generated from the policy tables and the route inventory: every
API and portal route by every kind of actor by objects of their own and of other organisations.

The expectation for each cell is worked out here from the tables of
``clearroom.server.authz.permissions`` and the state of this small world - not by asking the
code under test - and the route must answer accordingly:

- an object the actor may not see: 404, whoever asks (no existence leak);
- allowed: the route runs (any answer but 401, 403, 404 or a server error);
- refused: 401 (the API) or a redirect to sign in (the portal) when anonymous, else 403.

Writes are sent without a valid body and each request runs in a transaction that is rolled
back, so an allowed write is refused by validation, never half-done, and nothing leaks from one
cell into the next.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from clearroom.server.accounts.models import Membership, Organisation, User
from clearroom.server.accounts.tokens import issue_token
from clearroom.server.audit.models import AuditEvent
from clearroom.server.authz.inventory import EXEMPT, routes
from clearroom.server.authz.permissions import (
    KIND_PERMISSIONS,
    ROLE_PERMISSIONS,
    RULES,
    Permission,
    grantable,
)
from clearroom.server.catalog.models import (
    AccessGrant,
    Artifact,
    Confidentiality,
    Document,
    Product,
    Release,
)
from clearroom.server.collaboration.models import Evaluation, ReviewFinding, Thread

ACTORS = [
    "anonymous",
    "acme_owner",
    "acme_maintainer",
    "acme_expert",
    "acme_viewer",
    "lab_evaluator",
    "lab_owner",
    "telco_viewer",
    "globex_owner",
    "forum_owner",
    "operator",
]
ROLES = {  # user -> (organisation, role)
    "acme_owner": ("acme", "owner"),
    "acme_maintainer": ("acme", "maintainer"),
    "acme_expert": ("acme", "expert"),
    "acme_viewer": ("acme", "viewer"),
    "lab_evaluator": ("lab", "evaluator"),
    "lab_owner": ("lab", "owner"),
    "telco_viewer": ("telco", "viewer"),
    "globex_owner": ("globex", "owner"),
    "forum_owner": ("forum", "owner"),
    "operator": ("centre", "owner"),
}
KINDS = {
    "acme": "vendor",
    "globex": "vendor",
    "lab": "lab",
    "telco": "customer",
    "forum": "standards_body",
    "centre": "operator",
}
GRANTS = {("acme", "router"): {"lab"}}
"""Active grants: (vendor, product) -> grantee organisations."""


@dataclass(frozen=True)
class Obj:
    """One object a route can name, as this world knows it."""

    org: str
    product: str = ""
    version: str = ""
    name: str = ""
    published: bool = True
    confidential: bool = False
    counterpart: str = ""
    """The other party of an evaluation, finding or thread."""
    ref: str = ""


OBJECTS: dict[str, list[Obj]] = {
    "none": [Obj("")],
    "organisation": [Obj("acme"), Obj("globex"), Obj("forum")],
    "product": [Obj("acme", "router"), Obj("globex", "cam", published=True)],
    "release": [
        Obj("acme", "router", "1.0"),
        Obj("acme", "router", "2.0", published=False),
        Obj("globex", "cam", "3.0", published=False),
        Obj("globex", "cam", "1.0"),
    ],
    "artifact": [
        Obj("acme", "router", "1.0", "fw.bin"),
        Obj("acme", "router", "1.0", "secret.bin", confidential=True),
        Obj("acme", "router", "2.0", "draft.bin", published=False),
        Obj("globex", "cam", "1.0", "cam-secret.bin", confidential=True),
    ],
    "document": [
        Obj("acme", "router", "1.0", "sbom.json"),
        Obj("acme", "router", "1.0", "design.pdf", confidential=True),
    ],
    "evaluation": [
        Obj("acme", "router", "1.0", counterpart="lab", ref="00000000-0000-4000-8000-00000000e001"),
        Obj("globex", "cam", "1.0", counterpart="lab", ref="00000000-0000-4000-8000-00000000e002"),
    ],
    "finding": [
        Obj(
            "acme", "router", "1.0", counterpart="telco", ref="00000000-0000-4000-8000-00000000f001"
        ),
        Obj("acme", "router", "1.0", counterpart="lab", ref="00000000-0000-4000-8000-00000000f002"),
    ],
    "thread": [
        Obj(
            "acme", "router", "1.0", counterpart="telco", ref="00000000-0000-4000-8000-00000000a001"
        ),
        Obj("globex", "cam", "1.0", counterpart="acme", ref="00000000-0000-4000-8000-00000000a002"),
    ],
}
FILLERS = {
    "attachment": "1",
    "webhook": "1",
    "passkey": "1",
    "tlp": "white",
    "secret": "not-an-invitation",
    "fingerprint": "0" * 40,
    "leaf_hash": "ab" * 32,
    "index": "0",
    "key": "0/000",
    "keyid": "cd" * 32,
    "key_id": "clrk0000",
    "name": "new.bin",
    "slug": "baseline",
    "version": "1.0",
}
"""Values for URL parts that are not the route's object (they name nothing in this world)."""


# -- the world ----------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    orgs = {
        slug: Organisation.objects.create(slug=slug, name=slug.title(), kind=kind)
        for slug, kind in KINDS.items()
    }
    users = {}
    for username, (org, role) in ROLES.items():
        make = User.objects.create_superuser if username == "operator" else User.objects.create_user
        users[username] = make(username, password=f"pw-{username}-long")
        Membership.objects.create(user=users[username], organisation=orgs[org], role=role)
    now = timezone.now()
    for obj in OBJECTS["artifact"] + OBJECTS["document"]:
        product, _ = Product.objects.get_or_create(
            vendor=orgs[obj.org],
            slug=obj.product,
            defaults={"name": obj.product, "category": "iot"},
        )
        release, _ = Release.objects.get_or_create(
            product=product,
            version=obj.version,
            defaults={
                "state": "published" if obj.published else "draft",
                "published_at": now if obj.published else None,
            },
        )
        model = Document if obj.name.endswith((".json", ".pdf")) else Artifact
        extra = {"kind": "sbom"} if model is Document else {}
        model.objects.create(
            release=release,
            name=obj.name,
            size=1,
            sha256=f"{len(obj.name):064x}",
            confidentiality=Confidentiality.CONFIDENTIAL
            if obj.confidential
            else Confidentiality.PUBLIC,
            **extra,
        )
    Release.objects.get_or_create(
        product=Product.objects.get(slug="cam"), version="3.0", defaults={"state": "draft"}
    )
    for (vendor, product), grantees in GRANTS.items():
        for grantee in grantees:
            AccessGrant.objects.create(
                product=Product.objects.get(vendor__slug=vendor, slug=product),
                grantee=orgs[grantee],
                expires_at=now + timedelta(days=30),
            )
    _collaboration(orgs)
    tokens = {}
    for username, (org, role) in ROLES.items():
        scopes = sorted(p.value for p in grantable(role, KINDS[org]))
        tokens[username] = issue_token(users[username], orgs[org], name="matrix", scopes=scopes)[1]
    return users, tokens


def _collaboration(orgs):
    """One evaluation, finding and thread per object of OBJECTS, with its two parties."""
    for obj in OBJECTS["evaluation"]:
        Evaluation.objects.create(
            ref=obj.ref,
            release=Release.objects.get(product__slug=obj.product, version=obj.version),
            evaluator=orgs[obj.counterpart],
            standard="ETSI EN 303 645",
        )
    for obj in OBJECTS["finding"] + OBJECTS["thread"]:
        release = Release.objects.get(product__slug=obj.product, version=obj.version)
        thread = Thread.objects.create(
            ref=obj.ref if obj in OBJECTS["thread"] else uuid.uuid4(),
            product=release.product,
            release=release,
            counterpart=orgs[obj.counterpart],
            subject="a question",
        )
        if obj in OBJECTS["finding"]:
            ReviewFinding.objects.create(
                ref=obj.ref,
                release=release,
                raised_by=orgs[obj.counterpart],
                title="a finding",
                severity="high",
                thread=thread,
            )


# -- what the policy says ---------------------------------------------------------------------


@dataclass(frozen=True)
class Tok:
    """The API token an actor presents: its scopes, and the one product it is narrowed to."""

    scopes: frozenset[Permission]
    product: str = ""


def _token_allows(token: Tok | None, permission: Permission, obj: Obj) -> bool:
    """A session is not narrowed; a token must name the permission, and a token narrowed to a
    product acts only on that product's objects (nothing that is not about a product)."""
    if token is None:
        return True
    if permission not in token.scopes:
        return False
    return not token.product or token.product == obj.product


def _carries(user: str, permission: Permission, org: str) -> bool:
    member = ROLES.get(user)
    if member is None or member[0] != org:
        return False
    return permission in ROLE_PERMISSIONS[member[1]] and permission in KIND_PERMISSIONS[KINDS[org]]


def _reads_confidential(user: str, obj: Obj, token: Tok | None) -> bool:
    grantees = GRANTS.get((obj.org, obj.product), set())
    return _token_allows(token, Permission.CONFIDENTIAL_READ, obj) and any(
        _carries(user, Permission.CONFIDENTIAL_READ, org) for org in {obj.org, *grantees}
    )


def _operator(user: str, token: Tok | None) -> bool:
    return user == "operator" and (
        token is None or Permission.CENTRE_ORGANISATION_CREATE in token.scopes
    )


def _visible(user: str, on: str, obj: Obj, token: Tok | None = None) -> bool:
    if on in ("none", "organisation"):
        return True
    if on in ("evaluation", "finding", "thread"):
        return ROLES.get(user, ("", ""))[0] in (obj.org, obj.counterpart)
    member = ROLES.get(user, ("", ""))[0] == obj.org or _operator(user, token)
    if on == "product":
        return True  # both products have a published release
    if not (obj.published or member):
        return False
    if on in ("artifact", "document") and obj.confidential:
        return _reads_confidential(user, obj, token)
    return True


def _allowed(user: str, permission: Permission, obj: Obj, token: Tok | None = None) -> bool:
    who = RULES[permission].who
    if who == "anyone":
        return True
    if user == "anonymous":
        return False
    if who == "operator":
        return _operator(user, token)
    if who == "signed_in":
        return _token_allows(token, permission, Obj(""))
    if who == "reader":
        return _reads_confidential(user, obj, token)
    if not _token_allows(token, permission, obj):
        return False
    if who == "member":
        org = ROLES[user][0]
        return _carries(user, permission, org)
    if who == "counterpart":
        return _carries(user, permission, obj.counterpart)
    if who == "party":
        return _carries(user, permission, obj.org) or _carries(user, permission, obj.counterpart)
    return _carries(user, permission, obj.org)


# -- the requests -------------------------------------------------------------------------------


def _url(path: str, obj: Obj) -> str:
    named = {
        "org": obj.org,
        "product": obj.product,
        "version": obj.version,
        "name": obj.name,
        "ref": obj.ref,
    }
    values = FILLERS | {part: value for part, value in named.items() if value}

    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, path)


def _cells():
    for route in routes():
        if route.declaration is None:
            continue
        declared = route.declaration
        api = route.path.startswith("api/")
        methods = route.methods or ("GET", "POST")  # a portal view's decorators decide
        for obj in OBJECTS[declared.on]:
            for method in methods:
                yield route, api, method, _url(route.path, obj), obj


def _send(client: Client, method: str, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with transaction.atomic():
        response = client.generic(
            method, url, b"", content_type="application/json", headers=headers
        )
        transaction.set_rollback(True)
    return response


PUBLIC_WRITES = {
    "login/",
    "login/second-factor",
    "login/second-factor/passkey-options",
    "login/second-factor/passkey",
    "logout/",
    "invitations/<str:secret>/",
}
"""Routes that change something and may be used by anyone: signing in and out, and accepting
an invitation (its secret link is the credential)."""


def test_every_route_declares_its_permission():
    undeclared = [r.path for r in routes() if r.declaration is None and not r.exempt]
    assert undeclared == [], f"routes without a declared permission: {undeclared}"
    assert {r.path for r in routes() if r.exempt} == set(EXEMPT)


def test_no_write_is_declared_public(world):
    """A route that accepts a write names the permission it needs (the matrix then checks the
    route enforces it); only signing in and out are open to all."""
    client = Client()
    public_writes = set()
    for route in routes():
        declared = route.declaration
        if declared is None or declared.permission is not Permission.PUBLIC_READ:
            continue
        if route.methods:
            if set(route.methods) - {"GET", "HEAD"}:
                public_writes.add(route.path)
            continue
        if route.path.startswith("api/"):
            continue  # the API's documentation pages, which answer any method
        obj = OBJECTS[declared.on][0]
        if _send(client, "POST", _url(route.path, obj), None).status_code != 405:
            public_writes.add(route.path)
    assert public_writes == PUBLIC_WRITES


@pytest.mark.parametrize("user", ACTORS)
def test_matrix(world, user):
    users, tokens = world
    client = Client()
    if user != "anonymous":
        client.force_login(users[user])
    full = Tok(grantable(*_role_and_kind(user))) if user in ROLES else None
    wrong, count = _walk_matrix(client, users, user, {user: (tokens.get(user), full)})
    assert count > 100
    assert wrong == [], "\n".join(wrong)


NARROW_TOKENS = {
    "release-write-for-router": (
        "acme_maintainer",
        Tok(frozenset({Permission.RELEASE_WRITE}), "router"),
    ),
    "inbox-read-only": ("acme_owner", Tok(frozenset({Permission.INBOX_READ}))),
    "inbox-manage-for-router": (
        "acme_owner",
        Tok(frozenset({Permission.INBOX_MANAGE, Permission.CONFIDENTIAL_READ}), "router"),
    ),
    "evaluations-and-confidential": (
        "lab_evaluator",
        Tok(frozenset({Permission.EVALUATION_READ, Permission.CONFIDENTIAL_READ})),
    ),
    "discussion-only": (
        "telco_viewer",
        Tok(frozenset({Permission.THREAD_READ, Permission.THREAD_WRITE})),
    ),
}
"""Tokens narrower than their holder's role, presented to every API route: a token's scopes and
product bound what it may do (its holder's session may do more)."""


@pytest.mark.parametrize("shape", NARROW_TOKENS)
def test_matrix_with_narrow_tokens(world, shape):
    users, _ = world
    user, token = NARROW_TOKENS[shape]
    org = ROLES[user][0]
    product = Product.objects.get(slug=token.product) if token.product else None
    scopes = sorted(p.value for p in token.scopes)
    plaintext = issue_token(
        users[user], Organisation.objects.get(slug=org), name=shape, scopes=scopes, product=product
    )[1]
    wrong, count = _walk_matrix(Client(), users, user, {user: (plaintext, token)}, api_only=True)
    assert count > 50
    assert wrong == [], "\n".join(wrong)


def _role_and_kind(user: str) -> tuple[str, str]:
    org, role = ROLES[user]
    return role, KINDS[org]


def _walk_matrix(client, users, user, tokens, *, api_only=False):
    """Every cell for ``user``: the API with their token (``tokens[user]``: plaintext and
    shape), the portal with their session. Returns the wrong answers and the cells counted."""
    plaintext, shape = tokens.get(user, (None, None))
    wrong = []
    count = 0
    for route, api, method, url, obj in _cells():
        if api_only and not api:
            continue
        token = plaintext if api else None
        seen_as = shape if token else None
        response = _send(client, method, url, token)
        status = response.status_code
        if route.path == "logout/" and user != "anonymous":
            client.force_login(users[user])
        declared = route.declaration
        if status == 405 and not route.methods:
            continue  # the view does not serve this method, whatever the object
        if not _visible(user, declared.on, obj, seen_as):
            ok, expected = status == 404, "404 (hidden)"
        elif _allowed(user, declared.permission, obj, seen_as):
            # the route ran; a 404 may only be about something else than the object (a log
            # not yet started, a token that does not exist), never "not visible to you"
            login = status == 302 and "/login/" in response.get("Location", "")
            hidden = status == 404 and b"not visible to you" in response.content
            ok = status not in (401, 403) and status < 500 and not login and not hidden
            expected = "allowed"
        elif user == "anonymous":
            if api:
                ok, expected = status == 401, "401"
            else:
                ok = status == 302 and "/login/" in response["Location"]
                expected = "redirect to sign in"
        else:
            ok, expected = status == 403, "403"
        count += 1
        if not ok:
            wrong.append(f"{method} {url}: {status}, expected {expected} ({declared.permission})")
    return wrong, count


def test_guessing_hidden_objects_is_recorded(world):
    """An attempt on another organisation's draft answers 404 like a missing one, and leaves
    a denied audit record."""
    users, _ = world
    client = Client()
    client.force_login(users["globex_owner"])
    hidden = client.get("/orgs/acme/router/2.0/")
    missing = client.get("/orgs/acme/router/9.9/")
    assert hidden.status_code == missing.status_code == 404
    denied = AuditEvent.objects.filter(outcome="denied", actor=users["globex_owner"])
    targets = {t for e in denied for t in e.details["targets"]}
    assert targets >= {"acme/router@2.0", "acme/router@9.9"}
