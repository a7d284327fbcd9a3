"""Clearroom's error base: every user-facing failure is a ClearroomError whose message says what
is wrong and what to do."""


class ClearroomError(Exception):
    """Base of every error a person may see; messages read "<subsystem>: <reason>"."""
