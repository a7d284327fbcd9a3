"""What every ecosystem module shares: the two errors, the length limit, the cached base class
and a helper for keys that need a pairwise comparison."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from clearroom.errors import ClearroomError

MAX_VERSION_LENGTH = 1024
"""Longer strings are refused before any parsing: no registry publishes versions this long."""

KEY_CACHE_SIZE = 65536


class UnparsableVersion(ClearroomError):
    """A version string that the ecosystem's own rules do not accept; carries all three facts."""

    def __init__(self, ecosystem: str, version: str, reason: str) -> None:
        self.ecosystem = ecosystem
        self.version = version
        self.reason = reason
        shown = version if len(version) <= 80 else f"{version[:60]}... ({len(version)} chars)"
        super().__init__(f"vulns: {ecosystem} version {shown!r} is not valid: {reason}")


class UnknownEcosystem(ClearroomError):
    """An ecosystem name that has no version ordering here."""

    def __init__(self, name: str, supported: tuple[str, ...]) -> None:
        self.name = name
        self.supported = supported
        super().__init__(
            f"vulns: no version ordering for ecosystem {name!r}; supported: {', '.join(supported)}"
        )


class VersionScheme:
    """Base of every ecosystem: ``key()`` parses once (cached) and ``compare()`` uses it."""

    name: str
    spec: ClassVar[str] = ""

    def __init__(self, name: str) -> None:
        self.name = name
        self._cached_key = functools.lru_cache(maxsize=KEY_CACHE_SIZE)(self._checked_key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def key(self, version: str) -> Any:
        """A sort key: keys of two versions order as the ecosystem orders the versions."""
        if not isinstance(version, str):
            raise UnparsableVersion(self.name, repr(version), "not a string")
        return self._cached_key(version)

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1 as ``a`` sorts before, level with, or after ``b``."""
        ka, kb = self.key(a), self.key(b)
        return -1 if ka < kb else (1 if kb < ka else 0)

    def fail(self, version: str, reason: str) -> UnparsableVersion:
        return UnparsableVersion(self.name, version, reason)

    def _checked_key(self, version: str) -> Any:
        if not version:
            raise self.fail(version, "empty")
        if len(version) > MAX_VERSION_LENGTH:
            raise self.fail(version, f"longer than {MAX_VERSION_LENGTH} characters")
        if not version.isascii() or not version.isprintable() or any(c.isspace() for c in version):
            raise self.fail(version, "contains whitespace, control or non-ASCII characters")
        return self._parse(version)

    def _parse(self, version: str) -> Any:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


class PairwiseKey:
    """A key for orders defined by a pairwise procedure rather than a tuple; subclasses give
    ``_cmp`` (-1/0/1) and a ``_hash_key`` equal for versions that compare equal."""

    __slots__ = ()

    def _cmp(self, other: Any) -> int:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def _hash_key(self) -> Any:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def __lt__(self, other: Any) -> bool:
        return self._cmp(other) < 0

    def __le__(self, other: Any) -> bool:
        return self._cmp(other) <= 0

    def __gt__(self, other: Any) -> bool:
        return self._cmp(other) > 0

    def __ge__(self, other: Any) -> bool:
        return self._cmp(other) >= 0

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._cmp(other) == 0

    def __hash__(self) -> int:
        return hash(self._hash_key())


def sign(n: int) -> int:
    return (n > 0) - (n < 0)
