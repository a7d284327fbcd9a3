"""One in-memory shape for every SBOM format, so that matching, scoring and display never care
whether a supplier sent CycloneDX or SPDX.

The parsers fill these frozen objects leniently: what a document gets wrong becomes a line in
:attr:`Sbom.warnings`, never an exception, because a real SBOM we cannot read is our bug.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from heapq import heappop, heappush
from itertools import count
from typing import Literal

MAX_PATHS = 10
""":meth:`Sbom.paths_to` returns at most this many paths, shortest first."""
MAX_PATH_STEPS = 100_000
"""...and gives up after this many partial paths, whatever the graph's shape..."""
MAX_PATH_LENGTH = 256
"""...and ignores paths longer than this (real dependency chains are far shorter)."""


@dataclass(frozen=True, slots=True)
class Component:
    """A package, library, file, device... that the SBOM lists. ``ref`` is unique in its SBOM."""

    ref: str
    name: str
    version: str | None = None
    group: str | None = None
    """CycloneDX ``group`` (Maven groupId, npm scope); None elsewhere."""
    purl: str | None = None
    """A purl that parsed; a malformed one is dropped with a warning."""
    cpes: tuple[str, ...] = ()
    hashes: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Algorithm (lower-case: ``sha256``, ``sha3-512``, ``blake2b-256``) to hex digest."""
    licences: tuple[str, ...] = ()
    """SPDX ids, SPDX expressions or free-text licence names, as the document gives them."""
    supplier: str | None = None
    type: str | None = None
    """CycloneDX component type or SPDX primary purpose (``library``, ``application``...)."""
    scope: str | None = None
    """CycloneDX scope (``required``, ``optional``, ``excluded``); None when not stated."""
    filename: str | None = None
    swid: str | None = None
    """A SWID tag id, the third kind of unique identifier NTIA accepts."""


@dataclass(frozen=True)
class Sbom:
    """A parsed SBOM. ``dependencies`` maps a ref to the refs it depends on (or contains)."""

    format: Literal["cyclonedx", "spdx"]
    spec_version: str
    serial: str | None = None
    """CycloneDX serialNumber or SPDX document namespace / id."""
    created: datetime | None = None
    authors: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    subject: Component | None = None
    """What the SBOM describes (CycloneDX metadata.component, the SPDX described package)."""
    components: tuple[Component, ...] = ()
    """Everything else it lists, nested components flattened; the subject is not repeated."""
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    warnings: tuple[str, ...] = ()
    vulnerabilities: int = 0
    """How many vulnerability entries the document carries (BSI TR-03183-2 wants none)."""

    def component(self, ref: str) -> Component | None:
        """The component (or subject) with this ref."""
        return self._by_ref.get(ref)

    @cached_property
    def _by_ref(self) -> dict[str, Component]:
        found = {c.ref: c for c in self.components}
        if self.subject is not None:
            found.setdefault(self.subject.ref, self.subject)
        return found

    @cached_property
    def _parents(self) -> dict[str, list[str]]:
        parents: dict[str, list[str]] = {}
        for ref, children in self.dependencies.items():
            for child in children:
                parents.setdefault(child, []).append(ref)
        return parents

    @cached_property
    def roots(self) -> frozenset[str]:
        """Where dependency paths start: the subject, and every ref nothing depends on."""
        parents = self._parents
        roots = {ref for ref in self.dependencies if ref not in parents}
        if self.subject is not None:
            roots.add(self.subject.ref)
        return frozenset(roots)

    @cached_property
    def _depth(self) -> dict[str, int]:
        """Each reachable ref's distance from the nearest root (breadth-first)."""
        depth = dict.fromkeys(self.roots, 0)
        queue = deque(self.roots)
        while queue:
            ref = queue.popleft()
            for child in self.dependencies.get(ref, ()):
                if child not in depth:
                    depth[child] = depth[ref] + 1
                    queue.append(child)
        return depth

    def paths_to(self, ref: str, *, limit: int = MAX_PATHS) -> list[list[str]]:
        """The dependency paths (root first, ``ref`` last) that pull ``ref`` in, shortest first.

        A best-first walk back from ``ref``, guided by each ref's distance from a root, so even
        a dense graph yields its first paths at once. Cycles are safe (a path never repeats a
        ref); the walk stops after ``limit`` paths or :data:`MAX_PATH_STEPS` steps. A ref no
        root reaches within :data:`MAX_PATH_LENGTH` refs gives ``[]``.
        """
        roots, parents, depth = self.roots, self._parents, self._depth
        if depth.get(ref, MAX_PATH_LENGTH) >= MAX_PATH_LENGTH:
            return []
        found: list[list[str]] = []
        order = count()
        heap: list[tuple[int, int, tuple[str, ...]]] = [(depth[ref], 0, (ref,))]
        steps = 0
        while heap and len(found) < limit and steps < MAX_PATH_STEPS:
            _, _, path = heappop(heap)
            if path[0] in roots:
                found.append(list(path))
                continue
            for parent in parents.get(path[0], ()):
                steps += 1
                too_long = len(path) + depth.get(parent, MAX_PATH_LENGTH) >= MAX_PATH_LENGTH
                if not too_long and parent not in path:
                    # length so far + the shortest way on to a root; ties: deepest first
                    estimate = len(path) + depth[parent]
                    heappush(heap, (estimate, -next(order), (parent, *path)))
        return found
