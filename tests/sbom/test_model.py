"""Sbom.paths_to: which dependency path pulled a component in, safe on cycles and bounded."""

from __future__ import annotations

import itertools

from clearroom.sbom.model import MAX_PATH_LENGTH, Component, Sbom


def _sbom(edges: dict[str, tuple[str, ...]], subject: str | None = "app") -> Sbom:
    refs = set(edges) | {r for targets in edges.values() for r in targets}
    return Sbom(
        format="cyclonedx",
        spec_version="1.6",
        subject=Component(ref=subject, name=subject) if subject else None,
        components=tuple(Component(ref=r, name=r) for r in sorted(refs - {subject})),
        dependencies=edges,
    )


def test_paths_to_follow_a_cycle_without_looping():
    sbom = _sbom({"app": ("a",), "a": ("b",), "b": ("c", "a"), "c": ("a",)})
    assert sbom.paths_to("c") == [["app", "a", "b", "c"]]
    assert sbom.paths_to("a") == [["app", "a"]]
    assert sbom.paths_to("app") == [["app"]]


def test_paths_to_lists_every_route_shortest_first():
    sbom = _sbom({"app": ("a", "b"), "a": ("log4j",), "b": ("c",), "c": ("log4j",)})
    assert sbom.paths_to("log4j") == [["app", "a", "log4j"], ["app", "b", "c", "log4j"]]


def test_paths_to_an_unreachable_cycle_is_empty():
    sbom = _sbom({"app": ("a",), "x": ("y",), "y": ("x",)})
    assert sbom.paths_to("y") == []
    assert sbom.paths_to("not-listed") == []


def test_without_a_subject_the_roots_are_what_nothing_depends_on():
    sbom = _sbom({"r1": ("a",), "r2": ("a",)}, subject=None)
    assert sbom.roots == frozenset({"r1", "r2"})
    assert sorted(sbom.paths_to("a")) == [["r1", "a"], ["r2", "a"]]


def test_paths_to_is_bounded_on_a_dense_graph():
    layers = [[f"n{layer}-{i}" for i in range(8)] for layer in range(12)]
    edges: dict[str, tuple[str, ...]] = {"app": tuple(layers[0])}
    for upper, lower in itertools.pairwise(layers):
        edges.update({node: tuple(lower) for node in upper})
    edges.update(dict.fromkeys(layers[-1], ("target",)))
    sbom = _sbom(edges)  # 8**12 distinct paths
    paths = sbom.paths_to("target", limit=5)
    assert len(paths) == 5
    assert all(p[0] == "app" and p[-1] == "target" and len(p) == 14 for p in paths)


def test_component_lookup_includes_the_subject():
    sbom = _sbom({"app": ("a",)})
    assert sbom.component("app") is sbom.subject
    assert sbom.component("a") == Component(ref="a", name="a")
    assert sbom.component("zzz") is None


def test_paths_longer_than_the_cap_are_not_followed():
    chain = [f"r{i}" for i in range(MAX_PATH_LENGTH + 20)]
    sbom = _sbom(dict(zip(["app", *chain], [(c,) for c in chain], strict=False)))
    assert sbom.paths_to(chain[-1]) == []
    assert sbom.paths_to(chain[10]) == [["app", *chain[:11]]]
