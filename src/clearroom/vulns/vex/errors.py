"""The one error VEX parsing raises: the message names the format and what is wrong."""

from __future__ import annotations

from clearroom.errors import ClearroomError


class VexError(ClearroomError):
    """A VEX document that cannot be read: "<format>: <reason>"."""
