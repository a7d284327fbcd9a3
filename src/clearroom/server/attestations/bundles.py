"""Release bundles, assembled from what is logged: the release's signed statements, the key
events of the vendor and of every organisation that signed one of them, the centre's
publication and withdrawal records of the release and its newest signed release status, each
with its entry and a receipt against the published checkpoint, and a consistency proof from
the size the reader saw last (``since``)."""

from __future__ import annotations

from clearroom.attest.bundle import Bundle, BundleItem, Consistency, LoggedFact
from clearroom.attest.dsse import Envelope
from clearroom.attest.predicates import KEY_EVENT, RELEASE_STATUS
from clearroom.server.attestations.models import Attestation
from clearroom.server.catalog.models import Release
from clearroom.server.errors import Invalid, NotFound
from clearroom.server.transparency import services as log
from clearroom.server.transparency.identity import public_files
from clearroom.tlog import facts
from clearroom.tlog.merkle import consistency_proof
from clearroom.tlog.tiles import TileReader


def release_bundle(release: Release, since: int | None = None) -> Bundle:
    state = log.log_state()
    if state is None:
        raise NotFound("nothing has been logged yet")
    size = state.checkpoint.size
    if since is not None and not 0 <= since <= size:
        raise Invalid(f"since must be between 0 and the log's size {size}")

    def items(rows: object) -> list[BundleItem]:
        found = []
        for a in rows:  # type: ignore[attr-defined]
            receipt = log.receipt(a.log_entry, state)
            if receipt is not None:
                entry = bytes(a.log_entry.entry)
                found.append(BundleItem(Envelope.from_json(bytes(a.envelope)), entry, receipt))
        return found

    logged = Attestation.objects.select_related("log_entry").filter(
        log_entry__index__isnull=False, log_entry__index__lt=size
    )
    about = logged.filter(release=release)
    statements = items(about.exclude(predicate_type=RELEASE_STATUS).order_by("log_entry__index"))
    if not statements:
        raise NotFound(
            "this release has no signed statement in the log yet (a vendor signs its release"
            " manifest with `clearroom sign` or `clearroom publish --sign-with`)"
        )
    # The newest status the checkpoint covers; a verifier refuses a bundle without one.
    newest_status = about.filter(predicate_type=RELEASE_STATUS).order_by("-log_entry__index")
    statements += items(newest_status[:1])
    signers = {release.product.vendor_id, *about.values_list("organisation_id", flat=True)}
    key_events = items(
        logged.filter(organisation__in=signers, predicate_type=KEY_EVENT).order_by(
            "log_entry__index"
        )
    )
    release_facts = [
        LoggedFact(bytes(row.entry), receipt)
        for row in release.log_entries.filter(
            fact=facts.RELEASE, index__isnull=False, index__lt=size
        ).order_by("index")
        if (receipt := log.receipt(row, state)) is not None
    ]
    consistency = None
    if since is not None and 0 < since < size:
        proof = consistency_proof(TileReader(public_files(), size), since, size)
        consistency = Consistency(since, size, tuple(proof))
    p = release.product
    return Bundle(
        {"vendor": p.vendor.slug, "product": p.slug, "version": release.version},
        tuple(statements),
        tuple(key_events),
        consistency,
        tuple(release_facts),
    )
