"""The centre's keys on a PKCS#11 token (SoftHSM2 in CI): the log signs its checkpoints and the
centre countersigns a vendor's first key without either private key ever leaving the token."""

from __future__ import annotations

import dataclasses
import hashlib

from tests.server.conftest import RELEASE, _member, put
from tests.server.test_attestations import _envelope, _key_event, _manifest

from clearroom.attest.bundle import Bundle
from clearroom.attest.keys import FileSigner
from clearroom.attest.pkcs11 import generate_on_token
from clearroom.attest.policy import Policy
from clearroom.attest.verify import verify
from clearroom.server.attestations import centre
from clearroom.server.transparency import identity
from clearroom.server.transparency import services as log
from clearroom.server.transparency.keeper import LogKeeper
from clearroom.tlog.checkpoint import open_checkpoint


def test_log_and_centre_keys_on_a_token(world, own_log, settings, softhsm):
    for label in ("log", "centre"):
        generate_on_token(softhsm.module, softhsm.label, label, softhsm.pin).close()
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG,
        tlog_key_file=softhsm.uri("log"),
        tlog_origin="hsm.test/log",
        attest_key=softhsm.uri("centre"),
    )
    for cached in (identity.signer, identity.verifier, centre.centre_signer):
        cached.cache_clear()
    assert not (own_log.data_dir / "log" / "log.key").exists()

    owner = world.client(world.token_for(_member("owner", world.vendor, "owner"), world.vendor))
    vendor = FileSigner.generate()
    registered = owner.post(
        "/api/organisations/acme/keys",
        data=_envelope(_key_event(vendor), vendor),
        content_type="application/json",
    )
    assert registered.status_code == 201, registered.content
    assert registered.json()["authorised_by"] == centre.centre_key().keyid  # the token's key
    client = world.client(world.token)
    put(client, "fw.bin", b"firmware")
    client.post(
        f"{RELEASE}/attestations",
        data=_envelope(_manifest(("fw.bin", b"firmware")), vendor),
        content_type="application/json",
    )
    assert client.post(f"{RELEASE}/publish").status_code == 200

    keeper = LogKeeper()
    sequencer = keeper.open_sequencer()
    try:
        while keeper.pump(sequencer):
            pass
        sequencer.wait_for(sequencer.sequenced - 1, timeout=30)
    finally:
        sequencer.close()
    state = log.log_state()
    checkpoint, _ = open_checkpoint(state.note, identity.verifier(), origin="hsm.test/log")
    assert checkpoint.size == 5  # key, release, file, manifest, the centre's release status
    policy = Policy.from_dict(
        {
            "log": {"origin": "hsm.test/log", "key": identity.verifier().to_key()},
            "vendor": {"organisation": "acme", "centre_keys": [centre.centre_key().to_pem()]},
        }
    )
    bundle = Bundle.parse(world.client().get(f"{RELEASE}/bundle").content)
    assert verify(hashlib.sha256(b"firmware").hexdigest(), bundle, policy).ok
