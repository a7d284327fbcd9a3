"""How the audit trail is made tamper-evident, with no Django in it, so a vendor or an
evaluator holding an exported trail can check it with this module and the log alone.

Each record has one canonical form (:func:`record_bytes`: RFC 8785 JSON of its fields, times
in UTC to the microsecond). Records are sealed in batches: the batch's ``root`` is the RFC 6962
Merkle root over the records' leaf hashes in id order, and each batch names the root of the
one before (``previous``), so a batch cannot be dropped or reordered either. The batch itself
is a fact in the transparency log (``clearroom.dev/audit-batch/v1``). Changing, adding or
deleting a record of a sealed batch changes its root, which then no longer matches the logged
one; an export carries each record's inclusion proof so a subset can be checked without the
other parties' records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearroom.tlog.errors import InvalidInput, InvalidProof
from clearroom.tlog.facts import canonical_json
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.merkle import MemoryTree, verify_inclusion

FIELDS = (
    "id",
    "time",
    "action",
    "outcome",
    "actor",
    "token",
    "organisation",
    "actor_organisation",
    "target",
    "ip",
    "request_id",
    "details",
)
"""A record's fields in its canonical form (the columns that never change after writing)."""


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """The canonical bytes of one record (exactly :data:`FIELDS`)."""
    missing = set(FIELDS) - set(record)
    if missing:
        raise ValueError(f"audit: record lacks {', '.join(sorted(missing))}")
    return canonical_json({name: record[name] for name in FIELDS})


def record_leaf(record: Mapping[str, Any]) -> bytes:
    return leaf_hash(record_bytes(record))


@dataclass(frozen=True)
class Sealed:
    """A batch's root over ``records`` (in id order) and each record's inclusion proof."""

    root: str
    proofs: tuple[tuple[bytes, ...], ...]


def seal(records: Sequence[Mapping[str, Any]], *, with_proofs: bool = False) -> Sealed:
    if not records:
        raise ValueError("audit: a batch holds at least one record")
    tree = MemoryTree(record_leaf(r) for r in records)
    proofs = tuple(tuple(tree.inclusion_proof(i)) for i in range(tree.size)) if with_proofs else ()
    return Sealed(tree.root().hex(), proofs)


def check_member(
    record: Mapping[str, Any], position: int, count: int, proof: Sequence[bytes], root: str
) -> bool:
    """Is ``record`` the ``position``-th of the ``count`` records under ``root``?"""
    try:
        verify_inclusion(record_leaf(record), position, count, list(proof), bytes.fromhex(root))
    except (InvalidProof, InvalidInput, ValueError):
        return False
    return True
