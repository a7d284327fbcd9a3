"""Large local blobs are written by a thread, with direct I/O where the file system allows it:
every size around the block and alignment edges must come back byte for byte."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from clearroom.blobs import LocalBlobStore
from clearroom.blobs._direct import ALIGN, BLOCK, DirectWriter, open_direct
from clearroom.blobs._pipeline import BackgroundWriter
from clearroom.blobs._staging import PIPELINE_AFTER, StagedFile


def payload(size: int) -> bytes:
    return os.urandom(size)


@pytest.mark.parametrize(
    "size",
    [
        PIPELINE_AFTER - 1,
        PIPELINE_AFTER,
        PIPELINE_AFTER + 1,
        PIPELINE_AFTER + BLOCK,
        PIPELINE_AFTER + BLOCK + ALIGN - 1,
        PIPELINE_AFTER + 5 * BLOCK + 12345,
    ],
)
@pytest.mark.parametrize("chunk", [65537, 3 * BLOCK + 7])
def test_sizes_around_every_edge_round_trip(tmp_path, size, chunk):
    data = payload(size)
    store = LocalBlobStore(tmp_path)
    with store.open_writer() as writer:
        buffer = bytearray(chunk)  # one reused, mutable buffer, as a socket reader would use
        for start in range(0, size, chunk):
            piece = data[start : start + chunk]
            buffer[: len(piece)] = piece
            writer.write(memoryview(buffer)[: len(piece)])
        info = writer.commit()
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert store.local_path(info.sha256).read_bytes() == data
    assert list((tmp_path / ".incoming").iterdir()) == []


def _pipeline_kind(directory: Path) -> type:
    staged = StagedFile(directory)
    try:
        staged.write(memoryview(b"\0" * (PIPELINE_AFTER + 1)))
        return type(staged._pipe)
    finally:
        staged.discard()


def test_direct_io_is_used_where_the_file_system_supports_it(tmp_path):
    probe = tmp_path / "probe"
    probe.touch()
    fd = open_direct(probe)
    if fd is None:
        pytest.skip(f"{tmp_path} does not support O_DIRECT")
    os.close(fd)
    assert _pipeline_kind(tmp_path) is DirectWriter


def test_file_systems_without_direct_io_get_buffered_writes(tmp_path, monkeypatch):
    # Some file systems (older tmpfs, several network file systems) refuse O_DIRECT.
    monkeypatch.setattr("clearroom.blobs._staging.open_direct", lambda path: None)
    assert _pipeline_kind(tmp_path) is BackgroundWriter
    store = LocalBlobStore(tmp_path / "store")
    data = payload(PIPELINE_AFTER + 3 * BLOCK + 1)
    info = store.put_bytes(data)
    assert store.read_bytes(info.sha256) == data


def test_an_abandoned_large_upload_leaves_nothing(tmp_path):
    store = LocalBlobStore(tmp_path)
    with pytest.raises(RuntimeError), store.open_writer() as writer:
        writer.write(payload(PIPELINE_AFTER + 2 * BLOCK))
        raise RuntimeError("client went away")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
