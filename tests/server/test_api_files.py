"""Uploading, listing and downloading artifacts and documents through the API, and every way an
upload can be wrong."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.test.client import FakePayload
from tests.server.conftest import RELEASE, put

from clearroom.server.audit.models import AuditEvent
from clearroom.server.authz import Actor
from clearroom.server.catalog import services
from clearroom.server.catalog.models import Artifact, Document
from clearroom.server.services import blob_store

FIRMWARE = b"\x7fELF firmware image " * 5000


def stored_blobs() -> list[Path]:
    root = Path(settings.CONFIG.effective_blob_store_url)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_raw_put_stores_the_bytes_under_their_digest(world):
    client = world.client(world.token)
    response = put(client, "fw.img", FIRMWARE)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(FIRMWARE).hexdigest()
    assert body["size"] == len(FIRMWARE)
    assert body["confidentiality"] == "public"
    assert blob_store().read_bytes(body["sha256"]) == FIRMWARE


def test_download_streams_the_bytes_with_their_digest(world):
    client = world.client(world.token)
    put(client, "fw.img", FIRMWARE)
    response = client.get(f"{RELEASE}/artifacts/fw.img/content")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == FIRMWARE
    assert response["ETag"] == f'"{hashlib.sha256(FIRMWARE).hexdigest()}"'
    assert response["Repr-Digest"].startswith("sha-256=:")
    assert 'filename="fw.img"' in response["Content-Disposition"]


def test_sha256_query_parameter_is_an_alternative_declaration(world):
    response = put(
        world.client(world.token),
        "fw.img",
        FIRMWARE,
        digest=None,
        query=f"?sha256={hashlib.sha256(FIRMWARE).hexdigest()}",
    )
    assert response.status_code == 201


def test_digest_mismatch_is_rejected_and_nothing_is_stored(world):
    response = put(
        world.client(world.token), "fw.img", FIRMWARE, digest=None, query="?sha256=" + "0" * 64
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("#digest-mismatch")
    assert not Artifact.objects.exists()
    assert stored_blobs() == []


def test_upload_without_a_declared_digest_is_refused(world):
    response = put(world.client(world.token), "fw.img", FIRMWARE, digest=None)
    assert response.status_code == 422
    assert response.json()["type"].endswith("#digest-required")
    assert stored_blobs() == []


@pytest.mark.parametrize("header", ["sha-256=abc", "sha-256=:bm90IDMyIGJ5dGVz:", "sha-512=:AAAA:"])
def test_malformed_content_digest_is_refused(world, header):
    response = put(world.client(world.token), "fw.img", FIRMWARE, digest=header)
    assert response.status_code == 422
    assert "Content-Digest" in response.json()["detail"]


def test_upload_over_the_limit_gets_413_and_leaves_nothing(world, settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, max_upload_bytes=1000)
    response = put(world.client(world.token), "fw.img", FIRMWARE)
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert stored_blobs() == []
    assert not Artifact.objects.exists()


def test_multipart_upload_over_the_limit_gets_413_and_leaves_nothing(world, settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, max_upload_bytes=70_000)
    response = world.client(world.token).post(
        f"{RELEASE}/artifacts", {"file": io.BytesIO(FIRMWARE * 2)}, format="multipart"
    )
    assert response.status_code == 413
    assert stored_blobs() == []


def test_multipart_upload_streams_into_the_store(world):
    upload = io.BytesIO(FIRMWARE)
    upload.name = "fw.img"
    sha = hashlib.sha256(FIRMWARE).hexdigest()
    response = world.client(world.token).post(f"{RELEASE}/artifacts?sha256={sha}", {"file": upload})
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "fw.img"
    assert response.json()["sha256"] == sha


def test_multipart_digest_mismatch_leaves_nothing(world):
    upload = io.BytesIO(FIRMWARE)
    upload.name = "fw.img"
    response = world.client(world.token).post(
        f"{RELEASE}/artifacts?sha256={'1' * 64}", {"file": upload}
    )
    assert response.status_code == 422
    assert stored_blobs() == []
    assert not Artifact.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["..", "..evil", "a%5Cb", "bad%01name", "tab%09name", "%E2%80%AEtxt.exe", "%20lead"],
)
def test_unsafe_file_names_are_rejected_before_any_byte_is_stored(world, name):
    response = put(world.client(world.token), name, FIRMWARE)
    assert response.status_code == 422, (name, response.content)
    assert response.json()["detail"].startswith("name:")
    assert stored_blobs() == []


def test_a_path_separator_never_reaches_the_store(world):
    response = put(world.client(world.token), "a%2Fb", FIRMWARE)
    assert response.status_code in {404, 422}
    assert response["Content-Type"] == "application/problem+json"
    assert stored_blobs() == []


def test_same_name_twice_is_a_conflict_and_the_first_file_stays(world):
    client = world.client(world.token)
    assert put(client, "fw.img", FIRMWARE).status_code == 201
    again = put(client, "fw.img", b"other bytes")
    assert again.status_code == 409
    assert Artifact.objects.get(name="fw.img").sha256 == hashlib.sha256(FIRMWARE).hexdigest()


def test_identical_bytes_are_stored_once(world):
    client = world.client(world.token)
    put(client, "a.img", FIRMWARE)
    put(client, "b.img", FIRMWARE)
    assert Artifact.objects.count() == 2
    assert len(stored_blobs()) == 1


class VanishingStoredCopy(FakePayload):
    """A request body that, once the upload has started, deletes the copy already stored."""

    def __init__(self, data: bytes, sha256: str) -> None:
        super().__init__(data)
        self.sha256 = sha256

    def read(self, *args, **kwargs):
        blob_store().delete(self.sha256)
        return super().read(*args, **kwargs)


def test_second_organisation_uploading_identical_bytes_does_the_full_write(world):
    """Dedup timing: if an upload announcing a digest the store holds skipped the write, its
    speed would tell one vendor that another already holds that confidential file. The second
    upload must store every byte itself: it still succeeds when the first copy vanishes."""
    first = put(
        world.client(world.token), "fw.img", FIRMWARE, query="?confidentiality=confidential"
    )
    sha = first.json()["sha256"]
    product = services.create_product(
        Actor(world.outsider), world.outsider_org, slug="cam", name="Cam", category="iot"
    )
    services.create_release(Actor(world.outsider), product, version="2.0")
    other = world.client(world.token_for(world.outsider, world.outsider_org))
    response = other.put(
        f"/api/products/other/cam/releases/2.0/artifacts/copy.img?sha256={sha}",
        data=FIRMWARE,
        content_type="application/octet-stream",
        **{"wsgi.input": VanishingStoredCopy(FIRMWARE, sha)},
    )
    assert response.status_code == 201, response.content
    assert blob_store().read_bytes(sha) == FIRMWARE
    assert len(stored_blobs()) == 1


def test_documents_need_a_kind(world):
    client = world.client(world.token)
    sbom = b'{"bomFormat": "CycloneDX", "specVersion": "1.6"}'
    assert put(client, "x.cdx.json", sbom, collection="documents").status_code == 422
    response = put(client, "x.cdx.json", sbom, collection="documents", query="?kind=sbom")
    assert response.status_code == 201
    assert Document.objects.get().kind == "sbom"


def test_files_cannot_be_added_to_a_published_release(world):
    client = world.client(world.token)
    put(client, "fw.img", FIRMWARE)
    assert client.post(f"{RELEASE}/publish").status_code == 200
    assert put(client, "late.img", b"late").status_code == 409


def test_find_by_digest_answers_whether_an_image_was_published(world):
    client = world.client(world.token)
    put(client, "fw.img", FIRMWARE)
    sha = hashlib.sha256(FIRMWARE).hexdigest()
    anonymous = world.client()
    assert anonymous.get(f"/api/files?sha256={sha}").json() == []  # still a draft
    client.post(f"{RELEASE}/publish")
    found = anonymous.get(f"/api/files?sha256={sha}").json()
    assert [(f["name"], f["release_state"]) for f in found] == [("fw.img", "published")]
    client.post(f"{RELEASE}/withdraw", {"reason": "recalled"}, content_type="application/json")
    assert anonymous.get(f"/api/files?sha256={sha}").json()[0]["release_state"] == "withdrawn"
    assert anonymous.get("/api/files?sha256=xyz").status_code == 422


class TestConfidentialArtifacts:
    @pytest.fixture
    def published(self, world):
        client = world.client(world.token)
        put(client, "fw.img", FIRMWARE)
        put(client, "src.tar.gz", b"secret sources", query="?confidentiality=confidential")
        client.post(f"{RELEASE}/publish")
        return world

    def test_outsider_gets_404_and_the_attempt_is_audited(self, published):
        world = published
        client = world.client(world.token_for(world.outsider, world.outsider_org))
        response = client.get(f"{RELEASE}/artifacts/src.tar.gz/content")
        assert response.status_code == 404
        missing = client.get(f"{RELEASE}/artifacts/no-such-file/content")
        assert response.json()["detail"].replace("src.tar.gz", "X") == missing.json()[
            "detail"
        ].replace("no-such-file", "X")
        event = AuditEvent.objects.get(outcome="denied")
        assert event.actor == world.outsider
        assert event.target.endswith("artifacts/src.tar.gz")

    def test_anonymous_does_not_see_it_listed(self, published):
        names = [a["name"] for a in published.client().get(f"{RELEASE}/artifacts").json()]
        assert names == ["fw.img"]

    def test_vendor_member_and_grantee_may_download_and_are_audited(self, published):
        world = published
        for user, org in [(world.viewer, world.vendor), (world.evaluator, world.lab)]:
            client = world.client(world.token_for(user, org, scopes=["material:confidential:read"]))
            response = client.get(f"{RELEASE}/artifacts/src.tar.gz/content")
            assert response.status_code == 200
            assert b"".join(response.streaming_content) == b"secret sources"
            assert response["Cache-Control"] == "private, no-store"
        assert AuditEvent.objects.filter(outcome="allowed").count() == 2

    def test_a_token_without_the_scope_cannot_read_it(self, published):
        world = published
        client = world.client(
            world.token_for(world.viewer, world.vendor, scopes=["vendor:release:write"])
        )
        assert client.get(f"{RELEASE}/artifacts/src.tar.gz/content").status_code == 404


def test_corrupted_blob_is_never_served_as_good(world):
    client = world.client(world.token)
    sha = put(client, "fw.img", FIRMWARE).json()["sha256"]
    path = blob_store().local_path(sha)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    response = client.get(f"{RELEASE}/artifacts/fw.img/content")
    with pytest.raises(Exception, match=r"(?i)corrupt|match"):
        b"".join(response.streaming_content)
