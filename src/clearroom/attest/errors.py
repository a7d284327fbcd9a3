"""What can be wrong with a signed fact. Each class is one reason a verification fails, so a
caller (and ``clearroom verify``'s exit code) can tell them apart."""

from __future__ import annotations

from clearroom.errors import ClearroomError


class AttestError(ClearroomError):
    """Base of every attest error."""


class BadKey(AttestError):
    """A key cannot be read, or is of an unsupported kind."""


class EnvelopeError(AttestError):
    """A DSSE envelope is malformed, or its signatures do not verify."""


class StatementError(AttestError):
    """A payload is not a valid in-toto Statement v1 or predicate."""
