"""The portal's view of signatures: the signed statements about a release (with their signer
keys and log entries), the "verify it yourself" commands for a signed and logged release, and
an organisation's signing keys.

Everything here only presents what the attestation services stored; the verifier never needs
it (it replays the log). Each builder makes a fixed number of queries, whatever the number of
statements or keys."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clearroom.attest.predicates import RELEASE_MANIFEST, RELEASE_STATUS
from clearroom.server.accounts.models import Organisation
from clearroom.server.attestations.centre import centre_key
from clearroom.server.attestations.models import Attestation, SigningKey
from clearroom.server.catalog.models import Release
from clearroom.server.portal.fact_kinds import statement_label
from clearroom.server.transparency import services as log
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog.errors import TlogError

SHORT = 16
"""Hex digits of a keyid shown in tables; the full keyid is in the title and the JSON."""


def short_keyid(keyid: str) -> str:
    return keyid[:SHORT]


def key_anchor(keyid: str) -> str:
    """The id of the key's row on its organisation's page."""
    return f"key-{keyid}"


def key_url(organisation_slug: str, keyid: str) -> str:
    return reverse("portal:organisation", args=[organisation_slug]) + "#" + key_anchor(keyid)


def key_status(key: SigningKey, now: datetime) -> str:
    """``valid``, ``revoked``, ``expired`` or ``not yet valid``, at ``now``."""
    if key.is_revoked:
        return "revoked"
    if key.valid_until is not None and key.valid_until <= now:
        return "expired"
    if key.valid_from > now:
        return "not yet valid"
    return "valid"


@dataclass(frozen=True)
class LogRef:
    """Where a statement or key event is in the log: ``index`` None while pending, the
    receipt URL None until a published checkpoint covers the entry."""

    index: int | None
    entry_url: str
    receipt_url: str | None


class _Coverage:
    """The published checkpoint's size, read once per page and only when asked."""

    def __init__(self) -> None:
        self._size: int | None = None

    def covers(self, index: int) -> bool:
        if self._size is None:
            try:
                state = log.log_state()
            except TlogError:
                state = None
            self._size = state.checkpoint.size if state else 0
        return index < self._size


def _log_ref(entry: LogEntry | None, coverage: _Coverage) -> LogRef | None:
    if entry is None:
        return None
    covered = entry.index is not None and coverage.covers(entry.index)
    return LogRef(
        index=entry.index,
        entry_url=reverse("api:log-entry", kwargs={"leaf_hash": entry.leaf_hash}),
        receipt_url=(
            reverse("api:log-receipt", kwargs={"leaf_hash": entry.leaf_hash}) if covered else None
        ),
    )


# --- a release's signed statements -----------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    keyid: str
    short: str
    url: str | None
    """Its row on the organisation's page; None for a key the centre does not list."""
    status: str
    """``valid``, ``revoked``, ``expired``, ``not yet valid``, ``centre`` (the centre's own
    attestation key) or ``unknown``."""
    organisation: str | None
    """The name of the organisation that holds the key (None: unknown key)."""


@dataclass(frozen=True)
class SignedStatement:
    kind: str
    predicate_type: str
    organisation: str
    """The name of the organisation whose registered keys signed it."""
    organisation_url: str
    signers: tuple[Signer, ...]
    log: LogRef | None
    """None: not logged yet (a draft's statements are logged when it is published)."""
    created_at: datetime


CENTRE = "this centre"


def _signers(a: Attestation, keys: dict[str, SigningKey], now: datetime) -> tuple[Signer, ...]:
    found = []
    for keyid in a.signer_keyids:
        key = keys.get(keyid)
        if key is not None:
            owner: str | None = key.organisation.name
            status = key_status(key, now)
        elif keyid == centre_key().keyid:  # read only for a key no organisation registered
            owner, status = CENTRE, "centre"
        else:
            owner, status = None, "unknown"
        found.append(
            Signer(
                keyid=keyid,
                short=short_keyid(keyid),
                url=key_url(key.organisation.slug, keyid) if key else None,
                status=status,
                organisation=owner,
            )
        )
    return tuple(found)


def _organisation_url(organisation: Organisation) -> str:
    return reverse("portal:organisation", args=[organisation.slug])


def _first_public(files: Iterable[Any]) -> str | None:
    return next((f.name for f in files if not f.is_confidential), None)


def release_context(
    release: Release, artifacts: Sequence[Any], documents: Sequence[Any]
) -> dict[str, Any]:
    """The release page's "Signatures" and "Verify it yourself" sections. ``artifacts`` and
    ``documents`` are the files the page lists (the visitor's view, ordered by name)."""
    mine = release.attestations.exclude(predicate_type=RELEASE_STATUS)  # the centre's status
    rows = list(mine.select_related("organisation", "log_entry").order_by("id"))
    wanted = {k for a in rows for k in a.signer_keyids}
    keys = (
        {
            k.keyid: k
            for k in SigningKey.objects.filter(keyid__in=wanted).select_related("organisation")
        }
        if wanted
        else {}
    )
    now = timezone.now()
    coverage = _Coverage()
    statements = [
        SignedStatement(
            kind=statement_label(a.predicate_type),
            predicate_type=a.predicate_type,
            organisation=a.organisation.name,
            organisation_url=_organisation_url(a.organisation),
            signers=_signers(a, keys, now),
            log=_log_ref(a.log_entry, coverage),
            created_at=a.created_at,
        )
        for a in rows
    ]
    signed = any(s.predicate_type == RELEASE_MANIFEST for s in statements)
    p = release.product
    context: dict[str, Any] = {
        "signed_statements": statements,
        "has_signed_manifest": signed,
        "attestations_url": reverse(
            "api:attestations",
            kwargs={"org": p.vendor.slug, "product": p.slug, "version": release.version},
        ),
        "verify_panel": None,
        "base_url": settings.CONFIG.base_url.rstrip("/"),
    }
    logged = any(
        s.predicate_type == RELEASE_MANIFEST and s.log is not None and s.log.receipt_url
        for s in statements
    )
    if release.is_public and logged:
        context["verify_panel"] = _verify_panel(release, artifacts, documents)
    return context


def _verify_panel(
    release: Release, artifacts: Sequence[Any], documents: Sequence[Any]
) -> dict[str, Any]:
    """The exact commands to verify a file of ``release`` offline, with the centre's public
    URLs (``base_url``, not whatever host the visitor used)."""
    p = release.product
    base = settings.CONFIG.base_url.rstrip("/")
    bundle_path = reverse(
        "api:bundle", kwargs={"org": p.vendor.slug, "product": p.slug, "version": release.version}
    )
    policy_path = reverse("api:policy", kwargs={"org": p.vendor.slug})
    bundle_url, policy_url = base + bundle_path, base + policy_path
    name = _first_public(artifacts) or _first_public(documents)
    target = shlex.quote(name) if name else "FILE"
    return {
        "bundle_path": bundle_path,
        "policy_path": policy_path,
        "artifact": name,
        "commands": (
            f"curl -o release.bundle.json {shlex.quote(bundle_url)}\n"
            f"curl -o policy.toml {shlex.quote(policy_url)}\n"
            f"clearroom verify {target} --bundle release.bundle.json --policy policy.toml"
        ),
        "online_command": (
            f"clearroom verify {target} --policy policy.toml --online {shlex.quote(base)}"
        ),
    }


# --- an organisation's keys --------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRow:
    keyid: str
    short: str
    anchor: str
    algorithm: str
    valid_from: datetime
    valid_until: datetime | None
    introduced_by: str | None
    """The short keyid of the organisation's key that introduced it; None: the centre."""
    introduced_by_anchor: str | None
    status: str
    revoked_reason: str
    added: LogRef | None
    revoked: LogRef | None


def organisation_context(organisation: Organisation) -> dict[str, Any]:
    """The organisation page's "Signing keys" table, oldest key first."""
    keys = list(
        SigningKey.objects.filter(organisation=organisation)
        .select_related("added_by__log_entry", "revoked_by__log_entry")
        .order_by("created_at", "id")
    )
    own = {k.keyid for k in keys}
    now = timezone.now()
    coverage = _Coverage()
    rows = [
        KeyRow(
            keyid=k.keyid,
            short=short_keyid(k.keyid),
            anchor=key_anchor(k.keyid),
            algorithm=k.algorithm,
            valid_from=k.valid_from,
            valid_until=k.valid_until,
            introduced_by=short_keyid(k.authorised_by) if k.authorised_by in own else None,
            introduced_by_anchor=key_anchor(k.authorised_by) if k.authorised_by in own else None,
            status=key_status(k, now),
            revoked_reason=k.revoked_reason,
            added=_log_ref(k.added_by.log_entry, coverage),
            revoked=_log_ref(k.revoked_by.log_entry, coverage) if k.revoked_by else None,
        )
        for k in keys
    ]
    return {
        "signing_keys": rows,
        "keys_api_url": reverse("api:keys", kwargs={"org": organisation.slug}),
    }
