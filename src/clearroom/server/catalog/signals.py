"""``release_facts_changed``: something the centre knows about releases changed - an SBOM was
read, their vulnerabilities evaluated, a fact about them recorded, their facts logged.

Why a signal: the services that learn these things (vulnerabilities, the transparency log and
its writer) sit below the ones that present them (an evaluation's automated checks), and must
not import them. Receivers get ``releases`` (primary keys) and must be cheap; they run in the
sender's transaction, each in a savepoint of its own, and a receiver that fails is logged
without undoing what the sender did (the log's writer must never stall on a page's
bookkeeping).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.dispatch import Signal

_log = logging.getLogger(__name__)
release_facts_changed = Signal()


def announce(releases: Iterable[int | None]) -> None:
    """Tell the receivers that facts about ``releases`` changed (None and repeats ignored)."""
    wanted = sorted({pk for pk in releases if pk is not None})
    if not wanted:
        return
    for receiver, outcome in release_facts_changed.send_robust(None, releases=wanted):
        if isinstance(outcome, Exception):
            _log.error(
                "%s failed on releases %s",
                getattr(receiver, "__qualname__", receiver),
                wanted,
                exc_info=outcome,
            )
