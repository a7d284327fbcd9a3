"""Independent verification: a log written by Clearroom is checked by the Go checksum database's
own packages (``golang.org/x/mod/sumdb/note`` and ``sumdb/tlog`` from Debian), which nobody at
Clearroom wrote. The Go program (``goverify/main.go``) opens the signed checkpoint, re-derives the
tree hash from the C2SP tiles, re-hashes every entry bundle, checks our inclusion and consistency
proofs and compares them with the proofs it generates itself."""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from clearroom.blobs import LocalObjectStore
from clearroom.tlog import merkle
from clearroom.tlog.checkpoint import Checkpoint, sign_checkpoint
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.note import generate_key, parse_signer_key
from clearroom.tlog.tiles import TileLog, TileReader

pytestmark = pytest.mark.slow
GOVERIFY = Path(__file__).parent / "goverify"
X_MOD = Path("/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog")
ORIGIN = "clearroom.test/log"


@pytest.fixture(scope="module")
def goverify(tmp_path_factory) -> Path:
    if shutil.which("go") is None or not X_MOD.is_dir():
        pytest.skip(
            "needs Debian's golang-go and golang-golang-x-mod-dev (scripts/test installs them)"
        )
    out = tmp_path_factory.mktemp("go")
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": "/usr/share/gocode",
        "GOCACHE": str(out / "cache"),
        "GOFLAGS": "",
    }
    subprocess.run(
        ["go", "build", "-o", str(out / "goverify"), "."],
        cwd=GOVERIFY,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out / "goverify"


def build_log(
    root: Path, batches: list[int]
) -> tuple[LocalObjectStore, str, list[bytes], dict[int, bytes]]:
    """A log of random entries appended in ``batches``; returns the store, the verifier key, the
    leaf hashes and the root at the end of every batch."""
    rng = random.Random(7)
    store = LocalObjectStore(root)
    log = TileLog(store)
    signer_key, verifier_key = generate_key(ORIGIN)
    signer = parse_signer_key(signer_key)
    size, leaves, roots = 0, [], {}
    for count in batches:
        entries = [rng.randbytes(rng.randrange(1, 300)) for _ in range(count)]
        size, root = log.append(size, entries)
        leaves.extend(leaf_hash(e) for e in entries)
        roots[size] = root
    store.put("checkpoint", sign_checkpoint(Checkpoint(ORIGIN, size, roots[size]), signer))
    return store, verifier_key, leaves, roots


def proofs_file(
    path: Path, store: LocalObjectStore, leaves: list[bytes], roots: dict[int, bytes]
) -> Path:
    size = len(leaves)
    reader = TileReader(store, size)
    b64 = lambda h: base64.b64encode(h).decode()  # noqa: E731
    wanted = {
        0,
        1,
        255,
        256,
        257,
        65535,
        65536,
        size - 1,
        *random.Random(1).sample(range(size), 40),
    }
    indexes = sorted(i for i in wanted if i < size)
    document = {
        "inclusion": [
            {
                "index": i,
                "leaf_hash": b64(leaves[i]),
                "proof": [b64(h) for h in merkle.inclusion_proof(reader, size, i)],
            }
            for i in indexes
        ],
        "consistency": [
            {
                "old_size": old,
                "old_root": b64(root),
                "proof": [b64(h) for h in merkle.consistency_proof(reader, old, size)],
            }
            for old, root in roots.items()
            if old < size
        ],
    }
    path.write_text(json.dumps(document))
    return path


def run(
    goverify: Path, store_root: Path, verifier_key: str, proofs: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(goverify), str(store_root), verifier_key, str(proofs)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def written_log(tmp_path_factory):
    root = tmp_path_factory.mktemp("log")
    # batch ends at tile edges and beyond 65,536 leaves, so level-1 and level-2 tiles exist
    store, vkey, leaves, roots = build_log(root, [1, 254, 1, 1000, 64280, 5000, 3])
    proofs = proofs_file(root.parent / "proofs.json", store, leaves, roots)
    return root, vkey, proofs


def test_go_verifies_clearroom_tiles_bundles_checkpoint_and_proofs(goverify, written_log):
    root, vkey, proofs = written_log
    result = run(goverify, root, vkey, proofs)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok 70539 entries")


def test_go_rejects_a_checkpoint_signed_by_another_key(goverify, written_log):
    root, _, proofs = written_log
    _, other_key = generate_key(ORIGIN)
    result = run(goverify, root, other_key, proofs)
    assert result.returncode != 0 and "signature" in result.stderr


def test_go_detects_a_bit_flipped_tile(goverify, tmp_path):
    store, vkey, leaves, roots = build_log(tmp_path / "log", [600])
    proofs = proofs_file(tmp_path / "proofs.json", store, leaves, roots)
    tile = tmp_path / "log" / "tile" / "0" / "002.p" / "88"
    data = bytearray(tile.read_bytes())
    data[5] ^= 1
    tile.chmod(0o644)
    tile.write_bytes(bytes(data))
    result = run(goverify, tmp_path / "log", vkey, proofs)
    assert result.returncode != 0
    assert "tree hash from tiles" in result.stderr or "root" in result.stderr
