"""The one error SBOM parsing raises: the input is not an SBOM we can read at all (not JSON/XML,
truncated, an XML attack, too large). Everything less serious is a warning on the Sbom."""

from __future__ import annotations

from clearroom.errors import ClearroomError


class SbomError(ClearroomError):
    """Messages read "SBOM: <reason>"."""
