"""SBOMs into components, components into findings, advisory imports into re-evaluations.

The rules are the cores' (:mod:`clearroom.sbom`, :mod:`clearroom.vulns`); this module stores
their results and decides what to re-run. Work runs as jobs (:mod:`.tasks`), so a restart
loses nothing, and re-evaluation is incremental: an advisory import re-evaluates only the
components of the packages it changed, in the releases that contain them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, Count, F, Field, JSONField, QuerySet, When
from django.urls import reverse
from django.utils import timezone

from clearroom.attest.dsse import Envelope
from clearroom.attest.predicates import OPENVEX
from clearroom.attest.statement import Statement
from clearroom.jobs import enqueue
from clearroom.sbom.errors import SbomError
from clearroom.sbom.load import load_sbom
from clearroom.sbom.quality import assess
from clearroom.sbom.validate import validate_sbom
from clearroom.server.accounts.models import Organisation
from clearroom.server.authz import Actor, visible_files
from clearroom.server.authz.rules import organisation_files
from clearroom.server.catalog.models import Confidentiality, Document, Product, Release
from clearroom.server.catalog.signals import announce
from clearroom.server.errors import Forbidden, Unauthenticated
from clearroom.server.notifications.models import Notification
from clearroom.server.notifications.services import notify
from clearroom.server.services import blob_store
from clearroom.server.vulnerabilities.models import (
    Component,
    Evaluation,
    Finding,
    Follow,
    ReleaseSbom,
)
from clearroom.vulns.match import match_report
from clearroom.vulns.purl import InvalidPurl, UnsupportedPurl, base_ecosystem, from_purl
from clearroom.vulns.scan import SEVERITY_ORDER, vex_for
from clearroom.vulns.store import AdvisoryStore, ImportReport
from clearroom.vulns.vex import VexError, VexStatement, check_minimum, load_vex

_log = logging.getLogger(__name__)
PATHS_PER_COMPONENT = 3


@cache
def advisory_store() -> AdvisoryStore:
    path = Path(settings.CONFIG.effective_advisory_db)
    path.parent.mkdir(parents=True, exist_ok=True)
    return AdvisoryStore(path)


def _read(document: Document) -> bytes:
    return blob_store().read_bytes(document.sha256)


@contextlib.contextmanager
def _as_file(document: Document) -> Iterator[Path]:
    """The document's bytes as a file, so large SBOMs are streamed, not read whole: the
    store's own file when it is local, else a temporary copy written chunk by chunk."""
    local = blob_store().local_path(document.sha256)
    if local is not None:
        yield local
        return
    with tempfile.NamedTemporaryFile(suffix=".sbom") as copy:
        with blob_store().open_reader(document.sha256) as reader:
            for chunk in reader:
                copy.write(chunk)
        copy.flush()
        yield Path(copy.name)


# --- SBOM → components ------------------------------------------------------------------------


def ingest_sbom(document: Document) -> ReleaseSbom:
    """Parse an SBOM document into the release's components (replacing an earlier parse)."""
    release = document.release
    with _as_file(document) as path:
        try:
            sbom = load_sbom(path)
        except SbomError as exc:
            parsed = record_unreadable(document, str(exc))
            announce([release.pk])
            return parsed
        try:
            validation = validate_sbom(path).to_dict()
        except SbomError as exc:  # parsable leniently, not as strict JSON (e.g. tag-value)
            validation = {"valid": None, "note": str(exc)}
    quality = assess(sbom).to_dict()
    with transaction.atomic():
        parsed, _ = ReleaseSbom.objects.update_or_create(
            document=document,
            defaults={
                "release": release,
                "format": sbom.format,
                "spec_version": sbom.spec_version,
                "components": len(sbom.components),
                "quality": quality,
                "warnings": list(sbom.warnings),
                "validation": validation,
                "error": "",
                "parsed_at": timezone.now(),
            },
        )
        parsed.rows.all().delete()
        rows = []
        for c in sbom.components:
            ecosystem = package = ""
            if c.purl:
                try:
                    target = from_purl(c.purl)
                    ecosystem, package = base_ecosystem(target.ecosystem), target.name
                except (InvalidPurl, UnsupportedPurl):
                    pass
            rows.append(
                Component(
                    release=release,
                    sbom=parsed,
                    ref=c.ref[:1000],
                    name=c.name[:500],
                    version=(c.version or "")[:200],
                    purl=(c.purl or "")[:1000],
                    ecosystem=ecosystem,
                    package=package[:500],
                    licences=list(c.licences),
                    supplier=(c.supplier or "")[:500],
                    paths=sbom.paths_to(c.ref, limit=PATHS_PER_COMPONENT),
                )
            )
        Component.objects.bulk_create(rows, batch_size=1000)
        enqueue("vulns.evaluate", release=release.pk, dedupe_key=f"evaluate:{release.pk}")
        announce([release.pk])
    return parsed


MAX_REASON_CHARS = 1000


def record_unreadable(document: Document, reason: str) -> ReleaseSbom:
    """Record why ``document`` could not be read (the components page and the API show it), in
    place of any earlier parse: an SBOM that failed never silently vanishes."""
    reason = (reason.strip() or "unknown error")[:MAX_REASON_CHARS]
    with transaction.atomic():  # a savepoint when called inside a jobs runner's transaction
        parsed, _ = ReleaseSbom.objects.update_or_create(
            document=document,
            defaults={
                "release": document.release,
                "components": 0,
                "error": reason,
                "parsed_at": timezone.now(),
            },
        )
        parsed.rows.all().delete()
    return parsed


def ingest_failed(document_pk: int, error: str) -> None:
    """The ``sbom.ingest`` job gave up (its last attempt raised, timed out or crashed): store
    the first line of the final error as the reason - the rest is a traceback for operators,
    kept in the job's record, not for the page."""
    document = Document.objects.filter(pk=document_pk, kind=Document.Kind.SBOM).first()
    if document is None:
        return
    summary = next((line for line in error.splitlines() if line.strip()), "")
    record_unreadable(document, f"reading the SBOM failed on every attempt: {summary}")


# --- components → findings --------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """A stored component as the matcher sees it (ref is the row's primary key)."""

    ref: str
    name: str
    version: str | None
    purl: str | None


def vex_statements(release: Release) -> list[tuple[VexStatement, bool, bool]]:
    """The vendor's VEX statements about the release, each with whether it was signed (an
    OpenVEX in-toto statement by a registered key) or came in a VEX document of the release,
    and whether everyone may read it: a signed statement is logged, so public; one from a
    document is as public as that document."""
    found: list[tuple[VexStatement, bool, bool]] = []
    for document in release.documents.filter(kind=Document.Kind.VEX):
        try:
            vex = load_vex(_read(document))
        except VexError as exc:
            _log.warning("VEX document %s of %s is unreadable: %s", document.name, release, exc)
            continue
        if problems := check_minimum(vex):  # CISA's minimum elements, as for signed VEX
            _log.warning("VEX document %s of %s ignored: %s", document.name, release, problems)
            continue
        public = document.confidentiality == Confidentiality.PUBLIC
        found += [(s, False, public) for s in vex.statements]
    for attestation in release.attestations.filter(predicate_type=OPENVEX):
        statement = Statement.parse(Envelope.from_json(bytes(attestation.envelope)).payload)
        document = load_vex(json.dumps(dict(statement.predicate)).encode())
        found += [(s, True, True) for s in document.statements]
    return found


def evaluate(release: Release, packages: Iterable[tuple[str, str]] | None = None) -> Evaluation:
    """Match the release's components (only those of ``packages`` when given) and record
    findings: new ones, ones seen again, and ones that no longer apply."""
    rows = Component.objects.filter(release=release).exclude(purl="")
    if packages is None:
        components = {str(c.pk): c for c in rows}
    else:
        components = {str(c.pk): c for c in _of_packages(rows, packages)}
    store = advisory_store()
    # the findings table is where an undecidable component shows: keep one "unknown" finding
    # per advisory rather than a not-matchable note nobody would see (fail closed)
    report = match_report(
        (_Row(pk, c.name, c.version or None, c.purl) for pk, c in components.items()),
        store,
        collapse_unparsable=False,
    )
    vex = vex_statements(release)
    statements = [s for s, _, _ in vex]
    public = [s for s, _, is_public in vex if is_public]
    signed = {id(s) for s, is_signed, _ in vex if is_signed}
    now = timezone.now()
    new: list[int] = []
    with transaction.atomic():
        seen: set[int] = set()
        for found in report.findings:
            component = components[found.component_ref]
            newest, conflicts = vex_for(found, statements)
            newest_public, conflicts_public = vex_for(found, public)
            score = found.severity
            values = {
                "aliases": list(found.aliases),
                "summary": found.summary[:5000],
                "score": score.score if score else None,
                "rating": (score.rating or "unknown").lower() if score else "unknown",
                "vector": score.vector[:300] if score else "",
                "fixed_versions": list(found.fixed_versions),
                "match_status": found.status,
                "reason": found.reason,
                "status": newest_public.status if newest_public else found.status,
                "vex": _vex_json(newest_public, conflicts_public, signed),
                "full_status": newest.status if newest else found.status,
                "full_vex": _vex_json(newest, conflicts, signed),
                "last_seen": now,
                "resolved_at": None,
                "snapshot": report.snapshot,
            }
            finding, created = Finding.objects.update_or_create(
                release=release,
                component=component,
                advisory_id=found.advisory_id,
                defaults=values,
            )
            seen.add(finding.pk)
            if created and (finding.is_open or finding.full_status in Finding.OPEN):
                new.append(finding.pk)  # open in one view or the other; _notify counts per reader
        stale = Finding.objects.filter(
            release=release, component__in=components.values(), resolved_at__isnull=True
        ).exclude(pk__in=seen)
        stale.update(resolved_at=now)
        evaluation = Evaluation.objects.create(
            release=release,
            snapshot=report.snapshot,
            open_by_severity=open_counts(release),
            public_open_by_severity=count_open(public_findings(release)),
            new_findings=open_findings(all_findings(release).filter(pk__in=new)).count(),
        )
        if new:
            _notify(release, new)
        announce([release.pk])
    return evaluation


def _vex_json(
    statement: VexStatement | None, conflicts: Iterable[VexStatement], signed: set[int]
) -> dict[str, object] | None:
    """The deciding statement, and the older ones that said otherwise (shown, not hidden)."""
    if statement is None:
        return None
    return {
        **_statement_json(statement, signed),
        "conflicts": [_statement_json(s, signed) for s in conflicts],
    }


def _statement_json(statement: VexStatement, signed: set[int]) -> dict[str, object]:
    return {
        "signed": id(statement) in signed,
        "status": statement.status,
        "justification": statement.justification,
        "impact_statement": statement.impact_statement,
        "action_statement": statement.action_statement,
        "timestamp": statement.timestamp.isoformat() if statement.timestamp else None,
    }


# --- who sees what, and how much is open (one place for the API and the portal) --------------


def readable_sboms(actor: Actor, releases: QuerySet[Release]) -> QuerySet[ReleaseSbom]:
    """Parsed SBOMs of ``releases`` whose document ``actor`` may read: a confidential SBOM's
    components and findings reach only those who may read that SBOM."""
    documents = visible_files(actor, Document.objects.filter(release__in=releases))
    return ReleaseSbom.objects.filter(document__in=documents)


def sees_every_sbom(release: Release, readable: QuerySet[ReleaseSbom]) -> bool:
    """Whether ``readable`` covers all of the release's SBOMs: stored evaluations count the
    findings of them all, so only then may their history be shown."""
    return not ReleaseSbom.objects.filter(release=release).exclude(pk__in=readable).exists()


def _shown(findings: QuerySet[Finding], full: QuerySet[Release]) -> QuerySet[Finding]:
    def either(field: str, output: Field[Any, Any]) -> Case:
        return Case(
            When(release__in=full, then=F(f"full_{field}")), default=F(field), output_field=output
        )

    return findings.annotate(
        shown_status=either("status", CharField()), shown_vex=either("vex", JSONField())
    )


def _reading_every_vex(
    releases: QuerySet[Release], files: Callable[[QuerySet[Document]], QuerySet[Document]]
) -> QuerySet[Release]:
    """The releases of ``releases`` none of whose VEX documents ``files`` leaves out."""
    vex = Document.objects.filter(release__in=releases, kind=Document.Kind.VEX)
    hidden = vex.exclude(pk__in=files(vex)).values("release_id")
    return releases.exclude(pk__in=hidden)


def findings_for(actor: Actor, releases: QuerySet[Release]) -> QuerySet[Finding]:
    """THE findings ``actor`` may read in ``releases`` - the API, its CSV and CycloneDX
    exports, the portal's pages, counts and the showcase all read them here: those of SBOMs
    they may read, annotated with ``shown_status`` and ``shown_vex``, the view of the VEX
    they may read.

    A confidential VEX document's statements (status, justification, impact, action) are as
    confidential as the document. ``evaluate`` therefore stores two views per finding, both
    from the same ``vex_for``: ``status``/``vex`` with what everyone may read (public VEX
    documents, and signed OpenVEX statements, which are logged and so public facts) and
    ``full_status``/``full_vex`` with every VEX document. A reader gets the full view for
    releases whose every VEX document they may read (confidential files of a release are
    read all or none, so this is "may read the deciding document"), the public one otherwise.

    Why two stored views rather than masking the full one at read time: a masked finding
    would fall back to its match's status and lose what a public or signed statement says
    about it, and its conflicts could still come from the confidential document; the public
    view is exactly what ``clearroom vulns scan`` computes from the public files. And the
    public view is the stored default, so code that reads ``Finding.status`` without coming
    here shows too little, never too much (fail closed)."""

    def files(documents: QuerySet[Document]) -> QuerySet[Document]:
        return visible_files(actor, documents)

    findings = Finding.objects.filter(
        release__in=releases, component__sbom__in=readable_sboms(actor, releases)
    )
    return _shown(findings, _reading_every_vex(releases, files))


def organisation_findings(
    organisation: Organisation, findings: QuerySet[Finding]
) -> QuerySet[Finding]:
    """What an organisation's shared inbox may be told of ``findings`` (the same rule as
    :func:`findings_for`, with :func:`organisation_files`)."""

    def files(documents: QuerySet[Document]) -> QuerySet[Document]:
        return organisation_files(organisation, documents)

    releases = Release.objects.filter(pk__in=findings.values("release_id"))
    sboms = files(Document.objects.filter(release__in=releases, kind=Document.Kind.SBOM))
    readable = findings.filter(component__sbom__document__in=sboms)
    return _shown(readable, _reading_every_vex(releases, files))


def public_findings(release: Release) -> QuerySet[Finding]:
    """The findings anyone may read once the release is public: public SBOMs, public VEX."""
    public = Finding.objects.filter(
        release=release, component__sbom__document__confidentiality=Confidentiality.PUBLIC
    )
    return _shown(public, Release.objects.none())


def all_findings(release: Release) -> QuerySet[Finding]:
    """Every finding of the release with every VEX statement: the vendor's own numbers (its
    notifications, its release checks, the stored history), never a reader's page."""
    return _shown(release.findings.all(), Release.objects.filter(pk=release.pk))


def history_field(actor: Actor, release: Release) -> str | None:
    """Which stored counts of the release's evaluations ``actor`` may see: the full ones
    (``Evaluation.open_by_severity``) if they read every SBOM and every VEX document, the
    public ones if they read some SBOM, none if they read no SBOM of it."""

    def files(documents: QuerySet[Document]) -> QuerySet[Document]:
        return visible_files(actor, documents)

    one = Release.objects.filter(pk=release.pk)
    readable = readable_sboms(actor, one)
    if sees_every_sbom(release, readable) and _reading_every_vex(one, files).exists():
        return "open_by_severity"
    return "public_open_by_severity" if readable.exists() else None


def open_findings(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """Open findings of a queryset from :func:`findings_for` or its siblings (the status the
    reader sees)."""
    return findings.filter(resolved_at__isnull=True, shown_status__in=Finding.OPEN)


def count_open(findings: QuerySet[Finding]) -> dict[str, int]:
    """Open findings per severity rating, every rating present."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for rating, n in (
        open_findings(findings).values_list("rating").annotate(n=Count("id")).order_by()
    ):
        counts[rating if rating in counts else "unknown"] += n
    return counts


def open_counts(release: Release) -> dict[str, int]:
    """The vendor's count: every SBOM, every VEX statement."""
    return count_open(all_findings(release))


def _notify(release: Release, new: list[int]) -> None:
    """The vendor hears of new findings; so does every organisation following the product,
    once the release is public (a draft is the vendor's business) - each told only of the
    findings in SBOMs it may read, open as the VEX it may read says, and not at all if there
    are none (a count of findings in a confidential SBOM or closed by a confidential VEX
    document says something about them)."""
    product = release.product
    url = reverse(
        "portal:vulnerabilities", args=[product.vendor.slug, product.slug, release.version]
    )
    told: dict[int, list[int]] = {}
    vendor = open_findings(all_findings(release).filter(pk__in=new)).count()
    if vendor:
        told[vendor] = [product.vendor_id]
    if release.is_public:
        findings = Finding.objects.filter(pk__in=new)
        follows = Follow.objects.filter(product=product).exclude(organisation=product.vendor)
        for follow in follows.select_related("organisation"):
            count = open_findings(organisation_findings(follow.organisation, findings)).count()
            if count:
                told.setdefault(count, []).append(follow.organisation_id)
    for count, organisations in told.items():
        text = (
            f"{count} new vulnerability finding{'s' if count != 1 else ''} in"
            f" {product.vendor.slug}/{product.slug}@{release.version}"
        )
        notify(
            Notification.Kind.VULNERABILITY,
            text,
            organisations=organisations,
            url=url,
            release=release,
        )


# --- advisories → re-evaluation ---------------------------------------------------------------


PACKAGES_PER_QUERY = 500
PACKAGES_PER_JOB = 200
"""Beyond this many changed packages in one release, re-evaluate the whole release instead."""


def _of_packages(
    rows: QuerySet[Component], packages: Iterable[tuple[str, str]]
) -> Iterator[Component]:
    """The rows of ``packages``, queried per ecosystem in bounded chunks (a single OR of
    thousands of terms exceeds SQLite's expression depth)."""
    by_ecosystem: dict[str, list[str]] = {}
    for ecosystem, package in packages:
        by_ecosystem.setdefault(ecosystem, []).append(package)
    for ecosystem, names in by_ecosystem.items():
        for start in range(0, len(names), PACKAGES_PER_QUERY):
            chunk = names[start : start + PACKAGES_PER_QUERY]
            yield from rows.filter(ecosystem=ecosystem, package__in=chunk)


def import_advisories(paths: Iterable[str | Path]) -> tuple[ImportReport, int]:
    """Import OSV data and queue re-evaluation of the releases that contain a changed package
    — those packages only. Returns the report and how many releases were queued."""
    report = advisory_store().import_paths(list(paths))
    by_release: dict[int, set[tuple[str, str]]] = {}
    published = Component.objects.filter(release__state=Release.State.PUBLISHED)
    for row in _of_packages(published, report.changed_packages):
        by_release.setdefault(row.release_id, set()).add((row.ecosystem, row.package))
    with transaction.atomic():
        for release_id, packages in by_release.items():
            wanted = (
                sorted([list(p) for p in packages]) if len(packages) <= PACKAGES_PER_JOB else None
            )
            enqueue("vulns.evaluate", release=release_id, packages=wanted)
    return report, len(by_release)


# --- following a product ------------------------------------------------------------------------


def following_organisation(actor: Actor) -> Organisation | None:
    """The organisation the actor follows products for: their first, by name."""
    member_of = list(actor.memberships())
    if not member_of:
        return None
    return Organisation.objects.filter(pk__in=member_of).order_by("name", "pk").first()


def follow(actor: Actor, product: Product, *, on: bool = True) -> Organisation:
    """Follow (``on``) or stop following ``product`` for the actor's organisation, whose
    members are then notified of new findings in its public releases."""
    if not actor.is_authenticated:
        raise Unauthenticated("sign in to follow a product")
    follower = following_organisation(actor)
    if follower is None:
        raise Forbidden("only members of an organisation can follow a product")
    if on:
        Follow.objects.get_or_create(organisation=follower, product=product)
    else:
        Follow.objects.filter(organisation=follower, product=product).delete()
    return follower
