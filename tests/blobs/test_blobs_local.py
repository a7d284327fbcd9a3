"""What only the local directory backend promises: file layout, permissions, crash-safe staging."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

import pytest

from clearroom.blobs import InvalidKey, LocalBlobStore, LocalObjectStore
from clearroom.blobs._pipeline import BackgroundWriter
from clearroom.blobs._staging import PIPELINE_AFTER

MiB = 1 << 20


def test_blob_file_is_read_only_and_served_from_its_layout_path(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    info = store.put_bytes(b"sbom")
    path = store.local_path(info.sha256)
    assert path == tmp_path / info.sha256[:2] / info.sha256[2:4] / info.sha256
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert path.read_bytes() == b"sbom"
    assert list((tmp_path / ".incoming").iterdir()) == []


def test_upload_is_staged_in_incoming_until_commit(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with store.open_writer() as writer:
        writer.write(b"half")
        staged = list((tmp_path / ".incoming").iterdir())
        assert len(staged) == 1 and staged[0].read_bytes() == b"half"
        assert [p for p in tmp_path.iterdir() if p.name != ".incoming"] == []
        info = writer.commit()
    assert list((tmp_path / ".incoming").iterdir()) == []
    assert store.read_bytes(info.sha256) == b"half"


def test_large_upload_through_the_background_writer(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    threads_before = threading.active_count()
    digest = hashlib.sha256()
    with store.open_writer() as writer:
        for i in range(3 * PIPELINE_AFTER // MiB):
            chunk = bytes([i % 251]) * MiB
            digest.update(chunk)
            writer.write(chunk)
        info = writer.commit()
    assert info.sha256 == digest.hexdigest()
    assert info.size == 3 * PIPELINE_AFTER
    store.verify(info.sha256)
    assert threading.active_count() == threads_before


def test_abort_during_a_large_upload_removes_everything(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    threads_before = threading.active_count()
    with pytest.raises(RuntimeError), store.open_writer() as writer:
        for _ in range(2 * PIPELINE_AFTER // MiB):
            writer.write(os.urandom(MiB))
        raise RuntimeError("upload interrupted")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert threading.active_count() == threads_before


def test_background_write_failure_is_raised(tmp_path: Path) -> None:
    path = tmp_path / "readonly"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)
    try:
        pipe = BackgroundWriter(fd, offset=0)
        pipe.submit(b"x" * 100, 100)
        with pytest.raises(OSError, match="background write failed"):
            pipe.finish()
    finally:
        os.close(fd)


def test_object_and_directory_may_not_share_a_name(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("tile/0/000", b"tile")
    with pytest.raises(InvalidKey):
        store.put("tile/0/000/x", b"under a file")
    with pytest.raises(InvalidKey):
        store.put("tile/0", b"over a directory")
    with pytest.raises(InvalidKey):
        store.put("tile/0", b"over a directory", overwrite=False)
    assert store.get("tile/0/000") == b"tile"
    assert list(store.list()) == ["tile/0/000"]
    assert list((tmp_path / ".incoming").iterdir()) == []


def test_stores_create_their_root(tmp_path: Path) -> None:
    LocalBlobStore(tmp_path / "a" / "b")
    LocalObjectStore(str(tmp_path / "c"))
    assert (tmp_path / "a" / "b" / ".incoming").is_dir()
    assert (tmp_path / "c" / ".incoming").is_dir()
