"""One conformance suite for every BlobStore and ObjectStore backend (local directory, S3)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from clearroom.blobs import (
    BlobCorrupted,
    BlobError,
    BlobInfo,
    BlobNotFound,
    BlobTooLarge,
    DigestMismatch,
    InvalidDigest,
    InvalidKey,
    ObjectExists,
    ObjectNotFound,
)

if TYPE_CHECKING:
    from conftest import Backend

MiB = 1 << 20


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chunked(data: bytes, size: int) -> Iterator[memoryview]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield view[start : start + size]


# --- blobs: writing ---------------------------------------------------------------------------


def test_round_trip(backend: Backend) -> None:
    data = os.urandom(100_000)
    with backend.blobs.open_writer() as writer:
        for chunk in chunked(data, 7_000):
            writer.write(chunk)
        assert writer.size == len(data)
        info = writer.commit()
    assert info == BlobInfo(sha(data), len(data), created=True)
    assert backend.blobs.exists(info.sha256)
    assert backend.blobs.stat(info.sha256) == BlobInfo(info.sha256, len(data))
    assert backend.blobs.read_bytes(info.sha256) == data
    assert backend.blobs.verify(info.sha256) == BlobInfo(info.sha256, len(data))
    key = backend.blobs.path_for(info.sha256)
    assert key == f"{info.sha256[:2]}/{info.sha256[2:4]}/{info.sha256}"
    assert backend.stored_blobs() == [key]


def test_put_stream_accepts_file_objects_iterables_and_empty_content(backend: Backend) -> None:
    data = os.urandom(3 * MiB + 5)
    assert backend.blobs.put_stream(io.BytesIO(data), chunk_size=MiB).sha256 == sha(data)
    assert backend.blobs.put_stream(chunked(data, 4096)).created is False
    empty = backend.blobs.put_bytes(b"")
    assert empty == BlobInfo(sha(b""), 0, created=True)
    assert backend.blobs.read_bytes(empty.sha256) == b""


def test_reused_mutable_buffer_is_stored_as_it_was_at_each_write(backend: Backend) -> None:
    """A caller that refills one bytearray must not see later contents leak into earlier chunks."""
    buffer = bytearray(MiB)
    expected = hashlib.sha256()
    with backend.blobs.open_writer() as writer:
        for i in range(20):  # 20 MiB: past the local background-writer threshold and S3 parts
            buffer[:] = bytes([i]) * MiB
            expected.update(buffer)
            writer.write(buffer)
        info = writer.commit()
    assert info.sha256 == expected.hexdigest()
    backend.blobs.verify(info.sha256)


def test_duplicate_content_is_stored_once(backend: Backend) -> None:
    data = os.urandom(50_000)
    first = backend.blobs.put_bytes(data)
    second = backend.blobs.put_stream(chunked(data, 1000))
    assert (first.created, second.created) == (True, False)
    assert first.sha256 == second.sha256
    assert backend.stored_blobs() == [backend.blobs.path_for(first.sha256)]


def test_announced_digest_of_a_stored_blob_still_stores_every_byte(backend: Backend) -> None:
    """Deduplication must not show in the work an upload does (its timing would tell one
    organisation that another holds the same confidential file): announcing the digest of a
    stored blob still stages and publishes every byte, so the upload stands on its own even
    when the stored copy vanishes meanwhile."""
    data = os.urandom(20_000)
    stored = backend.blobs.put_bytes(data)
    with backend.blobs.open_writer(expected_sha256=stored.sha256) as writer:
        writer.write(data[:5_000])
        backend.blobs.delete(stored.sha256)
        writer.write(data[5_000:])
        rewritten = writer.commit()
    assert rewritten == BlobInfo(stored.sha256, len(data), created=True)
    assert backend.blobs.read_bytes(stored.sha256) == data
    again = backend.blobs.put_bytes(data, expected_sha256=stored.sha256)
    assert again == BlobInfo(stored.sha256, len(data), created=False)
    with pytest.raises(DigestMismatch):
        backend.blobs.put_bytes(b"impostor", expected_sha256=stored.sha256)
    assert backend.blobs.read_bytes(stored.sha256) == data
    assert backend.stored_blobs() == [backend.blobs.path_for(stored.sha256)]


def test_digest_mismatch_leaves_nothing(backend: Backend) -> None:
    data = os.urandom(7 * MiB)  # big enough to start a multipart upload on S3
    wrong = sha(b"something else")
    with pytest.raises(DigestMismatch) as caught:
        backend.blobs.put_stream(chunked(data, MiB), expected_sha256=wrong)
    assert (caught.value.expected, caught.value.actual) == (wrong, sha(data))
    assert "blobs: " in str(caught.value)
    assert backend.stored_blobs() == []
    assert not backend.blobs.exists(sha(data))


def test_too_large_fails_at_once_and_leaves_nothing(backend: Backend) -> None:
    with backend.blobs.open_writer(max_bytes=6 * MiB) as writer:
        writer.write(os.urandom(4 * MiB))
        with pytest.raises(BlobTooLarge) as caught:
            writer.write(os.urandom(4 * MiB))
        assert caught.value.limit == 6 * MiB
        with pytest.raises(BlobError):
            writer.write(b"more")
    assert backend.stored_blobs() == []
    with pytest.raises(BlobTooLarge):
        backend.blobs.put_stream(chunked(os.urandom(2000), 100), max_bytes=1999)
    assert backend.blobs.put_stream([b"x" * 2000], max_bytes=2000).size == 2000


@pytest.mark.parametrize("size", [1000, 7 * MiB])
def test_exception_inside_writer_aborts_and_leaves_nothing(backend: Backend, size: int) -> None:
    with pytest.raises(RuntimeError), backend.blobs.open_writer() as writer:
        writer.write(os.urandom(size))
        raise RuntimeError("client went away")
    with backend.blobs.open_writer() as writer:
        writer.write(os.urandom(size))  # left without commit
    assert backend.stored_blobs() == []


def test_writer_is_single_use(backend: Backend) -> None:
    with backend.blobs.open_writer() as writer:
        writer.write(b"once")
        writer.commit()
        with pytest.raises(BlobError):
            writer.write(b"twice")
        with pytest.raises(BlobError):
            writer.commit()


def test_concurrent_writers_of_the_same_content_leave_one_blob(backend: Backend) -> None:
    data = os.urandom(2 * MiB)
    start = threading.Barrier(6)
    results: list[BlobInfo] = []
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            start.wait()
            results.append(backend.blobs.put_stream(chunked(data, 256 * 1024)))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {info.sha256 for info in results} == {sha(data)}
    created = sum(info.created for info in results)
    # os.link is atomic; moto's conditional copy is not (AWS S3's is), so racers may all "create"
    assert created == 1 if backend.name == "local" else created >= 1
    assert backend.stored_blobs() == [backend.blobs.path_for(sha(data))]
    assert backend.blobs.read_bytes(sha(data)) == data


# --- blobs: reading ---------------------------------------------------------------------------


def test_streaming_read_never_exceeds_the_chunk_size(backend: Backend) -> None:
    data = os.urandom(12 * MiB + 3)
    info = backend.blobs.put_stream(chunked(data, MiB))
    for chunk_size in (256 * 1024, MiB):
        digest, total, peak, count = hashlib.sha256(), 0, 0, 0
        with backend.blobs.open_reader(info.sha256, chunk_size=chunk_size) as reader:
            assert (reader.size, reader.sha256) == (len(data), info.sha256)
            for chunk in reader:
                digest.update(chunk)
                total, peak, count = total + len(chunk), max(peak, len(chunk)), count + 1
        assert digest.hexdigest() == info.sha256 and total == len(data)
        assert peak <= chunk_size
        assert count >= len(data) // chunk_size


def test_corruption_is_detected_on_read_and_by_verify(backend: Backend) -> None:
    data = os.urandom(3 * MiB)
    info = backend.blobs.put_bytes(data)
    backend.corrupt(info.sha256)
    with backend.blobs.open_reader(info.sha256, chunk_size=MiB) as reader:
        received = []
        with pytest.raises(BlobCorrupted) as caught:
            for chunk in reader:
                received.append(chunk)
        assert len(b"".join(received)) == len(data)  # the damage shows only at the end
    assert caught.value.sha256 == info.sha256 and caught.value.actual != info.sha256
    with pytest.raises(BlobCorrupted):
        backend.blobs.verify(info.sha256)
    with pytest.raises(BlobCorrupted):
        backend.blobs.read_bytes(info.sha256)


def test_reader_can_be_closed_early(backend: Backend) -> None:
    info = backend.blobs.put_bytes(os.urandom(3 * MiB))
    with backend.blobs.open_reader(info.sha256, chunk_size=MiB) as reader:
        assert len(next(reader)) <= MiB
    reader.close()
    assert list(reader) == []


def test_missing_blob(backend: Backend) -> None:
    missing = sha(b"never stored")
    assert not backend.blobs.exists(missing)
    for call in (
        backend.blobs.stat,
        backend.blobs.open_reader,
        backend.blobs.read_bytes,
        backend.blobs.verify,
    ):
        with pytest.raises(BlobNotFound) as caught:
            call(missing)
        assert caught.value.sha256 == missing
    backend.blobs.delete(missing)  # deleting is idempotent
    if backend.name == "local":
        with pytest.raises(BlobNotFound):
            backend.blobs.local_path(missing)
    else:
        assert backend.blobs.local_path(missing) is None


def test_delete(backend: Backend) -> None:
    info = backend.blobs.put_bytes(b"short-lived")
    backend.blobs.delete(info.sha256)
    assert not backend.blobs.exists(info.sha256)
    assert backend.blobs.put_bytes(b"short-lived").created is True


BAD_DIGESTS = [
    "",
    "abc",
    "A" * 64,
    "g" * 64,
    "0" * 63,
    "0" * 65,
    "0" * 64 + "\n",
    "../../../../etc/passwd",
    "ab/cd/" + "0" * 58,
]


@pytest.mark.parametrize("digest", BAD_DIGESTS)
def test_invalid_digest_is_rejected_everywhere(backend: Backend, digest: str) -> None:
    blobs = backend.blobs
    for call in (
        blobs.exists,
        blobs.stat,
        blobs.open_reader,
        blobs.read_bytes,
        blobs.verify,
        blobs.delete,
        blobs.path_for,
        blobs.local_path,
    ):
        with pytest.raises(InvalidDigest):
            call(digest)
    with pytest.raises(InvalidDigest):
        blobs.open_writer(expected_sha256=digest)
    assert backend.stored_blobs() == []


# --- objects ----------------------------------------------------------------------------------


def test_object_round_trip(backend: Backend) -> None:
    objects = backend.objects
    objects.put("tile/0/x001/234", b"tile bytes")
    assert objects.get("tile/0/x001/234") == b"tile bytes"
    assert objects.exists("tile/0/x001/234")
    assert not objects.exists("tile/0/x001")
    objects.put("checkpoint", b"one")
    objects.put("checkpoint", b"two")  # overwrite is the default
    assert objects.get("checkpoint") == b"two"
    objects.delete("checkpoint")
    objects.delete("checkpoint")
    assert not objects.exists("checkpoint")
    with pytest.raises(ObjectNotFound):
        objects.get("checkpoint")
    with pytest.raises(ObjectNotFound):
        objects.open_read("checkpoint")
    assert backend.stored_objects() == ["tile/0/x001/234"]


def test_overwrite_false_refuses_an_existing_key(backend: Backend) -> None:
    objects = backend.objects
    objects.put("tile/0/000", b"first", overwrite=False)
    with pytest.raises(ObjectExists) as caught:
        objects.put("tile/0/000", b"second", overwrite=False)
    assert caught.value.key == "tile/0/000"
    with objects.open_write("tile/0/000", overwrite=False) as writer:
        writer.write(b"third")
        with pytest.raises(ObjectExists):
            writer.commit()
    assert objects.get("tile/0/000") == b"first"
    assert backend.stored_objects() == ["tile/0/000"]


def test_streamed_object_write_and_read(backend: Backend) -> None:
    data = os.urandom(7 * MiB + 11)
    for key, overwrite in (("big/a", True), ("big/b", False)):
        with backend.objects.open_write(key, overwrite=overwrite) as writer:
            for chunk in chunked(data, MiB):
                writer.write(chunk)
            assert writer.commit() == len(data)
        with backend.objects.open_read(key, chunk_size=512 * 1024) as reader:
            assert reader.size == len(data)
            chunks = list(reader)
        assert max(map(len, chunks)) <= 512 * 1024
        assert b"".join(chunks) == data
    assert backend.stored_objects() == ["big/a", "big/b"]


@pytest.mark.parametrize("overwrite", [True, False])
def test_aborted_object_write_leaves_nothing(backend: Backend, overwrite: bool) -> None:
    backend.objects.put("keep", b"old")
    for key in ("keep", "new"):
        with pytest.raises(RuntimeError), backend.objects.open_write(key, overwrite=overwrite) as w:
            w.write(os.urandom(6 * MiB))
            raise RuntimeError("sequencer crashed")
    assert backend.objects.get("keep") == b"old"
    assert backend.stored_objects() == ["keep"]


def test_list_by_prefix(backend: Backend) -> None:
    keys = [
        "checkpoint",
        "tile/0/000",
        "tile/0/001",
        "tile/0/x001/234",
        "tile/0/x001/234.p/5",
        "tile/01/000",
        "tile/entries/000.p/7",
    ]
    for key in keys:
        backend.objects.put(key, key.encode())
    with backend.objects.open_write("tile/0/002") as pending:  # uncommitted: never listed
        pending.write(b"partial")
        assert sorted(backend.objects.list()) == keys
    level0 = ["tile/0/000", "tile/0/001", "tile/0/x001/234", "tile/0/x001/234.p/5"]
    assert sorted(backend.objects.list("tile/0")) == level0
    assert sorted(backend.objects.list("tile/0/")) == level0
    assert sorted(backend.objects.list("tile/0/x001/234.p")) == ["tile/0/x001/234.p/5"]
    assert list(backend.objects.list("nothing/here")) == []


BAD_KEYS = [
    "",
    "../x",
    "/abs",
    "/etc/passwd",
    "a/../../b",
    "a/./b",
    ".",
    "..",
    "a//b",
    "a/",
    "a\\b",
    "..\\..\\x",
    "a\x00b",
    "a\nb",
    "tile\x7f",
    ".incoming/x",
    "x" * 256,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_are_rejected_and_nothing_is_written(backend: Backend, key: str) -> None:
    objects = backend.objects
    before = backend.everything()
    with pytest.raises(InvalidKey):
        objects.put(key, b"payload")
    with pytest.raises(InvalidKey):
        objects.put(key, b"payload", overwrite=False)
    with pytest.raises(InvalidKey):
        objects.open_write(key)
    for call in (objects.get, objects.exists, objects.delete, objects.open_read):
        with pytest.raises(InvalidKey):
            call(key)
    if key not in ("", "a/"):  # "" lists everything and "a/" is the prefix "a"
        with pytest.raises(InvalidKey):
            list(objects.list(key))
    assert backend.everything() == before
