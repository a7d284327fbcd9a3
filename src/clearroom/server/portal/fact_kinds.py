"""What each kind of fact in the transparency log is called on the portal's pages, and what it
is about (with a link where there is a page for it).

One table for the log page and the release page, so a new kind is named in one place: the
entry types of :mod:`clearroom.tlog.facts` in ``FACT_LABELS``, the predicate types of signed
statements in ``STATEMENT_LABELS``. A test fails for a kind the centre writes without a label
here. Anything else (a kind added without a label, an entry this code does not know) is shown
for what it is - a logged fact or a signed statement, with its type - never guessed at.

Everything is read from the entry's own bytes, the same for every visitor: a confidential
file's name is not in its entry, so it is not shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from clearroom.attest.predicates import (
    CLAIM,
    KEY_EVENT,
    OPENVEX,
    RELEASE_MANIFEST,
    RELEASE_STATUS,
    SLSA_PROVENANCE,
    SLSA_VSA,
)
from clearroom.server.accounts.models import Organisation
from clearroom.tlog import facts

FACT_LABELS: dict[str, str] = {
    facts.RELEASE: "Release published",
    facts.ARTIFACT: "Artifact",
    facts.DOCUMENT: "Document",
    facts.ATTESTATION: "Signed statement",
    facts.AUDIT_BATCH: "Audit trail batch sealed",
    facts.FINDING: "Review finding status",
    facts.CATALOGUE: "Control catalogue published",
}
"""The label of each entry type (refined below by the entry's fields: withdrawn, the kind of
document, the statement's predicate, the finding's status)."""

STATEMENT_LABELS: dict[str, str] = {
    RELEASE_MANIFEST: "Release manifest",
    RELEASE_STATUS: "Release status (signed by the centre)",
    SLSA_PROVENANCE: "Build provenance (SLSA)",
    SLSA_VSA: "Verification summary (SLSA VSA)",
    CLAIM: "Claim",
    KEY_EVENT: "Key event",
    OPENVEX: "VEX statements (OpenVEX)",
}
"""The label of each predicate type of a signed statement (an attestation entry)."""

UNLABELLED_FACT = "Logged fact of a kind this page does not describe"
UNLABELLED_STATEMENT = "Signed statement"
FINDING_STATES = {"verified": "verified fixed", "risk_accepted": "risk accepted"}
FILE_FACTS = frozenset({facts.ARTIFACT, facts.DOCUMENT})


def statement_label(predicate_type: str) -> str:
    return STATEMENT_LABELS.get(predicate_type, UNLABELLED_STATEMENT)


@dataclass(frozen=True)
class Described:
    """A fact as a page shows it: its label, what it is about, and who stated it."""

    label: str
    release: str | None
    """``vendor/product@version`` when the fact is about a release."""
    release_url: str | None
    subject: str | None
    """What else it is about: a file's name, an organisation's keys, a catalogue, a batch of
    audit records (None: nothing beyond the release, or a confidential file)."""
    subject_url: str | None
    by: str | None
    """The organisation that stated or signed it (its name when known, else its slug)."""
    by_url: str | None


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=[str(a) for a in args])
    except NoReverseMatch:
        return None


def _text(fact: Mapping[str, Any], key: str) -> str | None:
    value = fact.get(key)
    return value if isinstance(value, str) and value else None


def label(fact: Mapping[str, Any]) -> str:
    """The label of one entry (a parsed fact)."""
    kind = fact.get("fact")
    if kind == facts.RELEASE and fact.get("state") == "withdrawn":
        return "Release withdrawn"
    if kind == facts.ATTESTATION:
        return statement_label(str(fact.get("predicate_type", "")))
    base = FACT_LABELS.get(str(kind), UNLABELLED_FACT)
    if kind == facts.DOCUMENT and _text(fact, "kind"):
        return f"{base} ({fact['kind']})"
    if kind == facts.FINDING and _text(fact, "status"):
        status = str(fact["status"])
        return f"{base}: {FINDING_STATES.get(status, status)}"
    return base


def describe(fact: Mapping[str, Any], names: Mapping[str, str] | None = None) -> Described:
    """``fact`` (a parsed entry) as a page shows it; ``names`` maps organisation slugs to their
    names (:func:`organisation_names`)."""
    names = names or {}
    release = fact.get("release") if isinstance(fact.get("release"), dict) else None
    release_ref = release_url = None
    if release is not None:
        vendor, product, version = (release.get(k) for k in ("vendor", "product", "version"))
        release_ref = f"{vendor}/{product}@{version}"
        release_url = _url("portal:release", vendor, product, version)
    kind = fact.get("fact")
    subject = subject_url = by = by_url = None
    organisation = _text(fact, "organisation") or _text(fact, "by")
    if organisation:
        by, by_url = (
            names.get(organisation, organisation),
            _url("portal:organisation", organisation),
        )
    if kind in FILE_FACTS:
        subject = _text(fact, "name")
        by = by_url = None  # the release names the vendor
    elif kind == facts.ATTESTATION and fact.get("predicate_type") == KEY_EVENT:
        subject = f"signing keys of {by}"
        subject_url = (by_url + "#signing-keys-heading") if by_url else None
    elif kind == facts.CATALOGUE:
        subject = f"{fact.get('catalogue')} {fact.get('version')}"
        subject_url = _url(
            "portal:catalogue", fact.get("organisation"), fact.get("catalogue"), fact.get("version")
        )
    elif kind == facts.AUDIT_BATCH:
        subject = (
            f"batch {fact.get('sequence')}: {fact.get('count')} audit records"
            f" (#{fact.get('first')}-#{fact.get('last')})"
        )
        help_url = _url("portal:help")
        subject_url = f"{help_url}#audit" if help_url else None
        by = "this centre"
    return Described(label(fact), release_ref, release_url, subject, subject_url, by, by_url)


def organisation_names(entries: list[Mapping[str, Any]]) -> dict[str, str]:
    """The names of the organisations ``entries`` name, in one query."""
    slugs = {
        value
        for fact in entries
        for value in (fact.get("organisation"), fact.get("by"))
        if isinstance(value, str) and value
    }
    if not slugs:
        return {}
    return dict(Organisation.objects.filter(slug__in=slugs).values_list("slug", "name"))
