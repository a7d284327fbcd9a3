"""The shared proof-vector suite (../shared/data/tlog-vectors/testdata, transparency-dev's
Apache-2.0 vectors): every inclusion and consistency case, positive and negative, through
merkle.py's verifiers; the happy paths are also regenerated with MemoryTree.

The suite's ``subtreeinclusion``/``subtreeconsistency`` folders test the subtree proofs of the
Merkle Tree Certificates draft, an API merkle.py does not offer; they are not run here."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from clearroom.tlog.errors import InvalidProof
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.merkle import MemoryTree, verify_consistency, verify_inclusion
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.conformance

VECTORS = SHARED_DATA / "tlog-vectors" / "testdata"


def _cases(kind: str) -> list[str]:
    if not VECTORS.is_dir():
        return ["(absent)"]  # the shared_data fixture skips it
    return sorted(str(p.relative_to(VECTORS)) for p in (VECTORS / kind).rglob("*.json"))


DEVIATIONS: dict[str, str] = {}
"""Vectors Clearroom answers differently from the suite, with the reason: none."""

# The leaves the numbered vector folders were generated from (RFC 6962's reference tree).
REFERENCE_TREE = MemoryTree(
    leaf_hash(data)
    for data in [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        bytes(range(0x50, 0x58)),
        bytes(range(0x60, 0x70)),
    ]
)


def _load(shared_data: Path, name: str) -> dict[str, object]:
    case = json.loads((shared_data / "tlog-vectors" / "testdata" / name).read_text())
    assert isinstance(case, dict)
    return case


def _hashes(values: object) -> list[bytes]:
    assert values is None or isinstance(values, list)
    return [base64.b64decode(v) for v in values or []]


def _check(name: str, want_err: object, run: object) -> None:
    assert callable(run)
    if name in DEVIATIONS:
        with pytest.raises(InvalidProof, match=DEVIATIONS[name]):
            run()
    elif want_err:
        with pytest.raises(InvalidProof):
            run()
    else:
        run()


def test_the_suite_is_complete(shared_data):
    assert len(_cases("inclusion")) == 98
    assert len(_cases("consistency")) == 98


@pytest.mark.parametrize("name", _cases("inclusion"))
def test_inclusion_vector(shared_data, name):
    c = _load(shared_data, name)
    leaf, root, proof = (
        base64.b64decode(str(c["leafHash"])),
        base64.b64decode(str(c["root"])),
        _hashes(c["proof"]),
    )
    index, size = c["leafIdx"], c["treeSize"]
    assert isinstance(index, int) and isinstance(size, int)
    _check(name, c["wantErr"], lambda: verify_inclusion(leaf, index, size, proof, root))
    if not c["wantErr"] and name.split("/")[1].isdigit():
        assert REFERENCE_TREE.inclusion_proof(index, size) == proof
        assert REFERENCE_TREE.root(size) == root


@pytest.mark.parametrize("name", _cases("consistency"))
def test_consistency_vector(shared_data, name):
    c = _load(shared_data, name)
    old, new = base64.b64decode(str(c["root1"])), base64.b64decode(str(c["root2"]))
    proof, m, n = _hashes(c["proof"]), c["size1"], c["size2"]
    assert isinstance(m, int) and isinstance(n, int)
    _check(name, c["wantErr"], lambda: verify_consistency(m, n, proof, old, new))
    if not c["wantErr"] and name.split("/")[1].isdigit():
        assert REFERENCE_TREE.consistency_proof(m, n) == proof
        assert REFERENCE_TREE.root(m) == old
        assert REFERENCE_TREE.root(n) == new
