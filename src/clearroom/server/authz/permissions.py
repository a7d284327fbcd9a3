"""The authorization policy as data: every action is a :class:`Permission` named
``<scope>:<resource>:<action>`` (the grammar of audit events and API token scopes too); a
:class:`Rule` says whose membership can give it; roles and organisation kinds say which
memberships do. :func:`clearroom.server.authz.rules.decide` reads these tables and nothing else.

An actor holds a permission on an object when one of their memberships is in an organisation
the rule points at (the object's vendor, its counterpart, a grantee, ...), that membership's
**role** carries the permission, that organisation's **kind** may carry it at all, and the API
token presented (if any) names it in its scopes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    PUBLIC_READ = "public:material:read"
    INBOX_READ = "account:inbox:read"
    INBOX_MANAGE = "account:notification:manage"
    ACCOUNT_MANAGE = "account:security:manage"
    CENTRE_ORGANISATION_CREATE = "centre:organisation:create"
    ORG_MEMBER_MANAGE = "org:member:manage"
    ORG_TOKEN_CREATE = "org:token:create"  # noqa: S105 (a permission name, not a secret)
    ORG_KEY_ROTATE = "org:key:rotate"
    ORG_KEY_MANAGE = "org:key:manage"
    ORG_AUDIT_READ = "org:audit:read"
    ORG_WEBHOOK_MANAGE = "org:webhook:manage"
    PRODUCT_WRITE = "vendor:product:write"
    RELEASE_WRITE = "vendor:release:write"
    RELEASE_PUBLISH = "vendor:release:publish"
    EVALUATION_DECIDE = "vendor:evaluation:decide"
    FINDING_RESPOND = "vendor:finding:respond"
    CONFIDENTIAL_READ = "material:confidential:read"
    PRODUCT_FOLLOW = "customer:product:follow"
    EVALUATION_REQUEST = "evaluation:evaluation:request"
    EVALUATION_READ = "evaluation:evaluation:read"
    EVALUATION_WRITE = "evaluation:result:write"
    FINDING_RAISE = "finding:finding:raise"
    FINDING_VERIFY = "finding:finding:verify"
    THREAD_ASK = "thread:question:ask"
    THREAD_READ = "thread:message:read"
    THREAD_WRITE = "thread:message:write"
    CATALOGUE_PUBLISH = "standards:catalogue:publish"


@dataclass(frozen=True)
class Rule:
    """Whose memberships count for a permission on an object."""

    who: str
    """``anyone`` (no sign-in; the object must be visible), ``organisation`` (members of the
    organisation that owns the object, or that the route names), ``counterpart`` (members of
    the other party of an evaluation, finding or thread: the evaluator, the raiser, the
    asker), ``party`` (members of either party), ``reader`` (the vendor's members or members of
    an organisation holding an active grant for the material), ``member`` (a membership in any
    organisation), ``signed_in`` (anyone signed in, about their own account; an API token must
    name the permission and not be narrowed to one product) or ``operator`` (the centre's
    operators)."""
    summary: str
    """What the permission allows, in a line: token forms and the help show it."""


RULES: dict[Permission, Rule] = {
    Permission.PUBLIC_READ: Rule(
        "anyone", "See what is published (and, for a vendor's members, its drafts)."
    ),
    Permission.INBOX_READ: Rule("signed_in", "Read one's own notifications."),
    Permission.INBOX_MANAGE: Rule(
        "signed_in", "Choose which notifications one receives by email, and how often."
    ),
    Permission.ACCOUNT_MANAGE: Rule(
        "signed_in", "Set up or remove one's own second factor (an authenticator app)."
    ),
    Permission.CENTRE_ORGANISATION_CREATE: Rule(
        "operator", "Admit a new organisation to the centre."
    ),
    Permission.ORG_MEMBER_MANAGE: Rule(
        "organisation", "Change the organisation's memberships and revoke others' API tokens."
    ),
    Permission.ORG_TOKEN_CREATE: Rule(
        "organisation",
        "Hold API tokens for the organisation (never with more than one's role allows).",
    ),
    Permission.ORG_KEY_ROTATE: Rule(
        "organisation",
        "Register or revoke the organisation's keys with statements its valid keys signed.",
    ),
    Permission.ORG_KEY_MANAGE: Rule(
        "organisation",
        "Register the organisation's signing keys (the centre countersigns) and revoke them.",
    ),
    Permission.ORG_AUDIT_READ: Rule(
        "organisation",
        "Read and export the audit trail of the organisation's material and members.",
    ),
    Permission.ORG_WEBHOOK_MANAGE: Rule(
        "organisation", "Register and remove the organisation's signed webhooks."
    ),
    Permission.PRODUCT_WRITE: Rule("organisation", "Create products and edit their description."),
    Permission.RELEASE_WRITE: Rule(
        "organisation", "Create draft releases, upload their files and add signed statements."
    ),
    Permission.RELEASE_PUBLISH: Rule("organisation", "Publish or withdraw a release."),
    Permission.EVALUATION_DECIDE: Rule(
        "organisation",
        "Accept an evaluation (granting the evaluator access until a date) or decline it.",
    ),
    Permission.FINDING_RESPOND: Rule(
        "organisation",
        "Take a finding about the vendor's release through its workflow and assign experts.",
    ),
    Permission.CONFIDENTIAL_READ: Rule("reader", "Download confidential artifacts and documents."),
    Permission.PRODUCT_FOLLOW: Rule(
        "member", "Follow a product: be told of new vulnerabilities in its releases."
    ),
    Permission.EVALUATION_REQUEST: Rule(
        "member", "Ask a vendor to let the organisation evaluate a release against a standard."
    ),
    Permission.EVALUATION_READ: Rule(
        "party", "See an evaluation the organisation is a party to, with its checks and verdicts."
    ),
    Permission.EVALUATION_WRITE: Rule(
        "counterpart",
        "Record verdicts and findings, re-run the automated checks, and submit the signed final"
        " report.",
    ),
    Permission.FINDING_RAISE: Rule("member", "Raise a finding about a release one may see."),
    Permission.FINDING_VERIFY: Rule(
        "counterpart", "Verify that a finding one's organisation raised is fixed, or reopen it."
    ),
    Permission.THREAD_ASK: Rule("member", "Ask a vendor's experts a question about a product."),
    Permission.THREAD_READ: Rule("party", "Read a thread the organisation is a party to."),
    Permission.THREAD_WRITE: Rule(
        "party", "Write in a thread the organisation is a party to, with attachments."
    ),
    Permission.CATALOGUE_PUBLISH: Rule(
        "organisation", "Publish a version of a control catalogue (an OSCAL catalog)."
    ),
}

_EVERYONE = frozenset(
    {
        Permission.PUBLIC_READ,
        Permission.ORG_TOKEN_CREATE,
        Permission.EVALUATION_READ,
        Permission.THREAD_READ,
    }
)
_READ = _EVERYONE | {Permission.CONFIDENTIAL_READ, Permission.PRODUCT_FOLLOW}
_DISCUSS = frozenset(
    {
        Permission.THREAD_ASK,
        Permission.THREAD_WRITE,
        Permission.FINDING_RAISE,
        Permission.FINDING_VERIFY,
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "owner": frozenset(Permission),
    "maintainer": _READ
    | _DISCUSS
    | {
        Permission.PRODUCT_WRITE,
        Permission.RELEASE_WRITE,
        Permission.RELEASE_PUBLISH,
        Permission.ORG_KEY_ROTATE,
        Permission.EVALUATION_DECIDE,
        Permission.FINDING_RESPOND,
        Permission.CATALOGUE_PUBLISH,
    },
    "expert": _READ | _DISCUSS | {Permission.FINDING_RESPOND},
    "evaluator": _READ
    | _DISCUSS
    | {Permission.EVALUATION_REQUEST, Permission.EVALUATION_WRITE, Permission.ORG_KEY_ROTATE},
    "viewer": _READ,
}
"""What each role within an organisation may do."""

_ORGANISATION = frozenset(
    {
        Permission.ORG_MEMBER_MANAGE,
        Permission.ORG_TOKEN_CREATE,
        Permission.ORG_KEY_ROTATE,
        Permission.ORG_KEY_MANAGE,
        Permission.ORG_AUDIT_READ,
        Permission.ORG_WEBHOOK_MANAGE,
    }
)
_PUBLISHING = frozenset(
    {
        Permission.PRODUCT_WRITE,
        Permission.RELEASE_WRITE,
        Permission.RELEASE_PUBLISH,
        Permission.EVALUATION_DECIDE,
        Permission.FINDING_RESPOND,
    }
)
_EVALUATING = frozenset({Permission.EVALUATION_REQUEST, Permission.EVALUATION_WRITE})
_ANY_KIND = (
    _EVERYONE
    | _ORGANISATION
    | _DISCUSS
    | {
        Permission.CONFIDENTIAL_READ,
        Permission.PRODUCT_FOLLOW,
    }
)

KIND_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "vendor": _ANY_KIND | _PUBLISHING,
    "regulator": _ANY_KIND | _EVALUATING,
    "lab": _ANY_KIND | _EVALUATING,
    "customer": _ANY_KIND,
    "standards_body": _ANY_KIND | {Permission.CATALOGUE_PUBLISH},
    "operator": frozenset(Permission),
}
"""What an organisation of each kind may do at all, whatever its members' roles: a customer's
owner never publishes releases, only regulators and labs evaluate, and only standards bodies
publish control catalogues."""


PERSONAL_SCOPES = frozenset({Permission.INBOX_READ, Permission.INBOX_MANAGE})
"""Permissions on one's own account that any member may put on an API token (a script that
reads the inbox or sets email choices): such a token reads its holder's own notifications and
its organisation's inbox, no other organisation's. Without the scope a token is refused there."""

NEVER_ON_TOKENS = frozenset({Permission.PUBLIC_READ, Permission.ACCOUNT_MANAGE})
"""Reading what is public needs no scope; second factors are managed by the person, signed in
to the portal, never by a script."""


def grantable(role: str, kind: str) -> frozenset[Permission]:
    """What a member with ``role`` in an organisation of ``kind`` may do there, and so the
    widest scopes an API token of theirs may carry."""
    return ((ROLE_PERMISSIONS[role] & KIND_PERMISSIONS[kind]) | PERSONAL_SCOPES) - NEVER_ON_TOKENS
