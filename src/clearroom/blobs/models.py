"""Values returned by the blob stores."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """A stored blob: its SHA-256 (lowercase hex), its size, and whether this call stored it.

    ``created`` is ``False`` when the content was already present (de-duplication) and for
    ``stat``/``verify`` results.
    """

    sha256: str
    size: int
    created: bool = False
