"""The life of an evaluation: a regulator or lab asks to evaluate a published release against a
standard; the vendor accepts (granting access to the release's confidential material until a
date, and the centre attaches its automated checks) or declines; the evaluator records verdicts
and findings, then submits a final report signed with its own key, which is logged and ends
its access. Routes have already checked who may call each function (:mod:`..authz.routes`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clearroom.server.accounts.models import Organisation
from clearroom.server.attestations import services as attestations
from clearroom.server.audit import services as audit
from clearroom.server.authz import Actor, Permission
from clearroom.server.catalog.models import AccessGrant, Release
from clearroom.server.collaboration import checks
from clearroom.server.collaboration.models import Evaluation, Verdict
from clearroom.server.errors import Conflict, Forbidden, Invalid
from clearroom.server.notifications.models import Notification
from clearroom.server.notifications.services import notify
from clearroom.server.standards.models import Catalogue

DEFAULT_ACCESS = timedelta(days=90)
MAX_ACCESS = timedelta(days=366)


def url(evaluation: Evaluation) -> str:
    return reverse("portal:evaluation", args=[evaluation.ref])


def acting_organisation(actor: Actor, permission: Permission) -> Organisation:
    """The organisation the actor acts for with ``permission``: the token's, else their first
    membership (by name) whose role and kind carry it."""
    candidates = [org for org in actor.memberships() if actor.holds(permission, org)]
    found = Organisation.objects.filter(pk__in=candidates).order_by("name", "pk").first()
    if found is None:
        raise Forbidden(f"none of your organisations may {permission.value}")
    return found


def request(
    actor: Actor,
    release: Release,
    *,
    standard: str = "",
    scope: str = "",
    catalogue: Catalogue | None = None,
) -> Evaluation:
    """Ask the vendor to evaluate ``release`` against ``standard``, or against a published
    ``catalogue`` version (whose controls verdicts must then name; its title is the standard)."""
    if release.state != Release.State.PUBLISHED:
        raise Invalid("only a published release can be evaluated")
    evaluator = acting_organisation(actor, Permission.EVALUATION_REQUEST)
    if evaluator.pk == release.product.vendor_id:
        raise Invalid("a vendor does not evaluate its own release here")
    standard = standard.strip() or (f"{catalogue.title} {catalogue.version}" if catalogue else "")
    if not standard:
        raise Invalid(
            "standard: name the standard (for example 'ETSI EN 303 645 v2.1.1') or choose a"
            " published catalogue"
        )
    open_states = [Evaluation.State.REQUESTED, Evaluation.State.ACCEPTED]
    with transaction.atomic():
        if Evaluation.objects.filter(
            release=release, evaluator=evaluator, standard=standard, state__in=open_states
        ).exists():
            raise Conflict(f"{evaluator.slug} already has an open evaluation of this release")
        evaluation = Evaluation.objects.create(
            release=release,
            evaluator=evaluator,
            standard=standard[:200],
            catalogue=catalogue,
            scope=scope,
            requested_by=actor.user,
        )
        notify(
            Notification.Kind.EVALUATION,
            f"{evaluator.name} asks to evaluate {release} against {standard}",
            organisations=[release.product.vendor],
            url=url(evaluation),
            release=release,
        )
    return evaluation


def accept(actor: Actor, evaluation: Evaluation, *, access_until: datetime | None = None) -> None:
    """Grant the evaluator access to the release's confidential material until
    ``access_until`` (default 90 days, at most a year) and attach the automated checks."""
    now = timezone.now()
    until = access_until or now + DEFAULT_ACCESS
    if not now < until <= now + MAX_ACCESS:
        raise Invalid("access_until must be in the future and within a year")
    with transaction.atomic():
        locked = _locked(evaluation, Evaluation.State.REQUESTED)
        release = locked.release
        locked.grant = AccessGrant.objects.create(
            product=release.product,
            release=release,
            grantee=locked.evaluator,
            granted_by=actor.user,
            expires_at=until,
        )
        locked.state = Evaluation.State.ACCEPTED
        locked.decided_by, locked.decided_at = actor.user, now
        locked.save()
        checks.attach(locked)
        audit.record(
            actor,
            "vendor:evaluation:accept",
            allowed=True,
            target=f"evaluation {locked.ref}",
            organisation=release.product.vendor,
            grantee=locked.evaluator.slug,
            access_until=until.isoformat(),
        )
        notify(
            Notification.Kind.EVALUATION,
            f"{release.product.vendor.name} accepted your evaluation of {release}; you may read"
            f" its confidential material until {until:%Y-%m-%d %H:%M} UTC",
            organisations=[locked.evaluator],
            url=url(locked),
            release=release,
        )
    evaluation.refresh_from_db()


def decline(actor: Actor, evaluation: Evaluation, *, reason: str) -> None:
    if not reason.strip():
        raise Invalid("reason: say why, the evaluator reads it")
    with transaction.atomic():
        locked = _locked(evaluation, Evaluation.State.REQUESTED)
        locked.state = Evaluation.State.DECLINED
        locked.decided_by, locked.decided_at = actor.user, timezone.now()
        locked.decline_reason = reason.strip()
        locked.save()
        notify(
            Notification.Kind.EVALUATION,
            f"{locked.release.product.vendor.name} declined your evaluation of"
            f" {locked.release}: {locked.decline_reason}",
            organisations=[locked.evaluator],
            url=url(locked),
            release=locked.release,
        )
    evaluation.refresh_from_db()


def record_verdict(
    actor: Actor, evaluation: Evaluation, *, requirement: str, value: str, rationale: str = ""
) -> Verdict:
    if value not in Verdict.Value.values:
        raise Invalid(f"value must be one of {', '.join(Verdict.Value.values)}")
    requirement = requirement.strip()
    if not requirement or len(requirement) > 100:
        raise Invalid("requirement: name it in 1-100 characters, for example '5.1-1'")
    if evaluation.catalogue is not None:
        controls = evaluation.catalogue.controls
        if not controls.filter(control_id=requirement).exists():
            first = ", ".join(controls.values_list("control_id", flat=True)[:5])
            raise Invalid(
                f"requirement: {requirement!r} is not a control of {evaluation.catalogue};"
                f" name one of its control ids ({first}, …)"
            )
    with transaction.atomic():
        _locked(evaluation, Evaluation.State.ACCEPTED)
        verdict, _ = Verdict.objects.update_or_create(
            evaluation=evaluation,
            requirement=requirement,
            defaults={
                "value": value,
                "rationale": rationale,
                "by": actor.user,
                "at": timezone.now(),
            },
        )
    return verdict


def rerun_checks(evaluation: Evaluation) -> None:
    """Run the automated checks again now (they also re-run by themselves when a fact they
    read changes), from the vendor's acceptance until the final report."""
    with transaction.atomic():
        locked = Evaluation.objects.select_for_update(of=("self",)).get(pk=evaluation.pk)
        if locked.state != checks.RUNS_WHILE:
            raise Conflict(
                f"the evaluation is {locked.get_state_display().lower()}; the automated checks"
                " run from the vendor's acceptance until the final report"
            )
        checks.attach(locked)


def submit_report(actor: Actor, evaluation: Evaluation, data: bytes) -> Evaluation:
    """The final report: an SLSA VSA signed by the evaluator's registered key, about the
    release's artifacts. It is logged, the evaluation is closed and the access grant ends."""
    with transaction.atomic():
        locked = _locked(evaluation, Evaluation.State.ACCEPTED)
        attestation, statement = attestations.add_evaluation_report(
            actor, locked.evaluator, locked.release, data
        )
        now = timezone.now()
        locked.report = attestation
        locked.result = str(statement.predicate.get("verificationResult", ""))
        locked.state = Evaluation.State.REPORTED
        locked.reported_at = now
        locked.save()
        if locked.grant is not None and locked.grant.revoked_at is None:
            AccessGrant.objects.filter(pk=locked.grant.pk).update(revoked_at=now)
        notify(
            Notification.Kind.EVALUATION,
            f"{locked.evaluator.name} reported on {locked.release} against {locked.standard}:"
            f" {locked.result}",
            organisations=[locked.release.product.vendor],
            url=url(locked),
            release=locked.release,
        )
    evaluation.refresh_from_db()
    return evaluation


def _locked(evaluation: Evaluation, state: str) -> Evaluation:
    locked = (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("release__product__vendor", "evaluator", "grant")
        .get(pk=evaluation.pk)
    )
    if locked.state != state:
        raise Conflict(
            f"the evaluation is {locked.get_state_display().lower()}; this needs it {state}"
        )
    return locked
