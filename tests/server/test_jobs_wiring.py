"""The catalogue's jobs, run by the configured backend exactly as a worker would."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from tests.server.conftest import RELEASE, put

from clearroom.jobs import run_worker
from clearroom.server.services import blob_store


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sha512_is_computed_after_the_upload_by_a_job(world, settings):
    # the job runs in a child process, which sees the run's shared data dir, not a tmp_path
    settings.CONFIG = dataclasses.replace(settings.CONFIG, blob_store_url="")
    blob_store.cache_clear()
    data = b"firmware bytes " * 1000
    client = world.client(world.token)
    uploaded = put(client, "fw.img", data).json()
    assert uploaded["sha512"] is None  # never computed on the upload's path
    run_worker(burst=True)
    metadata = client.get(f"{RELEASE}/artifacts/fw.img").json()
    assert metadata["sha512"] == hashlib.sha512(data).hexdigest()
