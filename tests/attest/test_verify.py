"""The offline verifier end to end over a real log: a release verifies, and each tampering
fails with its own reason (the failure class is also `clearroom verify`'s exit code)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest

from clearroom.attest.bundle import Bundle, BundleError, BundleItem
from clearroom.attest.dsse import Envelope
from clearroom.attest.entries import attestation_entry
from clearroom.attest.keys import FileSigner
from clearroom.attest.predicates import SLSA_VSA, make_claim, make_vsa
from clearroom.attest.seen import SeenCheckpoints
from clearroom.attest.statement import Statement, Subject
from clearroom.attest.verify import Failure, verify
from clearroom.tlog.note import generate_key
from clearroom.tlog.receipt import Receipt
from tests.attest.centre import EPOCH, FIRMWARE, Centre, Logged, manifest_for, sign

DIGEST = hashlib.sha256(FIRMWARE).hexdigest()


@pytest.fixture
def centre(tmp_path):
    c = Centre(tmp_path / "centre")
    yield c
    c.close()


@pytest.fixture
def seen(tmp_path):
    return SeenCheckpoints(tmp_path / "client-state")


def _failure(verdict):
    return verdict.failure, verdict.checks[-1].detail


def test_a_signed_logged_release_verifies(centre, seen):
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    bundle = Bundle.parse(centre.bundle([manifest]).to_json())  # through its file format
    verdict = verify(DIGEST, bundle, centre.policy(), seen)
    assert verdict.ok, verdict.checks
    assert verdict.artifact_name == "router.img"
    assert [c.name for c in verdict.checks] == [
        "checkpoint",
        "consistency",
        "log inclusion",
        "vendor keys",
        "release manifest",
        "artifact digest",
        "release state",
    ]
    assert json.loads(json.dumps(verdict.to_dict()))["exit_code"] == 0


def test_a_changed_artifact_byte_fails_on_the_digest(centre):
    bundle = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    changed = bytearray(FIRMWARE)
    changed[10] ^= 1
    verdict = verify(hashlib.sha256(changed).hexdigest(), bundle, centre.policy())
    assert _failure(verdict)[0] == Failure.DIGEST


def _replace_envelope(bundle: Bundle, envelope: Envelope) -> Bundle:
    item = bundle.attestations[0]
    return Bundle(
        bundle.release, (BundleItem(envelope, item.entry, item.receipt),), bundle.key_events
    )


def test_a_changed_manifest_field_fails_on_the_signature(centre):
    bundle = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    envelope = bundle.attestations[0].envelope
    doc = json.loads(envelope.payload)
    doc["predicate"]["release"]["version"] = "2.4.2"
    changed = Envelope(envelope.payload_type, json.dumps(doc).encode(), envelope.signatures)
    verdict = verify(DIGEST, _replace_envelope(bundle, changed), centre.policy())
    failure, detail = _failure(verdict)
    assert failure == Failure.SIGNATURE and "not signed by any trusted key" in detail


def test_a_signature_by_another_key_fails_on_the_signature(centre):
    bundle = centre.bundle([centre.log(sign(manifest_for(), FileSigner.generate()))])
    assert _failure(verify(DIGEST, bundle, centre.policy()))[0] == Failure.SIGNATURE


def test_a_payload_type_other_than_the_signed_one_fails_on_the_signature(centre):
    bundle = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    envelope = bundle.attestations[0].envelope
    relabelled = Envelope("application/json", envelope.payload, envelope.signatures)
    failure, detail = _failure(
        verify(DIGEST, _replace_envelope(bundle, relabelled), centre.policy())
    )
    assert failure == Failure.SIGNATURE and "payload type" in detail


def test_a_signed_but_unlogged_envelope_fails_on_inclusion(centre):
    bundle = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    other = sign(manifest_for(), centre.vendor, FileSigner.generate())  # valid, never logged
    failure, detail = _failure(verify(DIGEST, _replace_envelope(bundle, other), centre.policy()))
    assert failure == Failure.INCLUSION and "another envelope" in detail


def test_a_revoked_key_fails_on_the_key(centre):
    new = FileSigner.generate()
    events = [
        centre.add_key(new, centre.vendor),
        centre.revoke_key(new.public_key, centre.vendor),
    ]
    manifest = centre.log(sign(manifest_for(), new))
    failure, detail = _failure(verify(DIGEST, centre.bundle([manifest], events), centre.policy()))
    assert failure == Failure.KEY and "revoked" in detail


def test_a_key_used_outside_its_validity_window_fails_on_the_key(centre):
    new = FileSigner.generate()
    events = [centre.add_key(new, centre.vendor, valid_until=EPOCH + timedelta(days=30))]
    late = centre.log(sign(manifest_for(), new), moment=EPOCH + timedelta(days=31))
    failure, detail = _failure(verify(DIGEST, centre.bundle([late], events), centre.policy()))
    assert failure == Failure.KEY and "expired" in detail


def test_a_rotated_key_verifies_from_the_root_and_the_centre_can_introduce_keys(centre):
    rotated = FileSigner.generate()
    events = [centre.add_key(rotated, centre.vendor)]  # introduced under the old key
    manifest = centre.log(sign(manifest_for(), rotated))
    assert verify(DIGEST, centre.bundle([manifest], events), centre.policy()).ok

    first = FileSigner.generate()
    introduced = [centre.add_key(first, centre.key)]  # the centre vouches for a first key
    signed = centre.log(sign(manifest_for(), first))
    policy = centre.policy(
        vendor={"organisation": "acme", "centre_keys": [centre.key.public_key.to_pem()]}
    )
    assert verify(DIGEST, centre.bundle([signed], introduced), policy).ok
    unauthorised = FileSigner.generate()
    bad = [centre.add_key(unauthorised, FileSigner.generate())]
    failure, detail = _failure(verify(DIGEST, centre.bundle([signed], [*introduced, *bad]), policy))
    assert failure == Failure.KEY and "not signed by a valid key" in detail


def test_a_swapped_proof_element_fails_on_inclusion(centre):
    logged = [centre.log(sign(manifest_for(), centre.vendor)) for _ in range(5)]
    bundle = centre.bundle([logged[2]])
    item = bundle.attestations[0]
    proof = list(item.receipt.proof)
    proof[0], proof[1] = proof[1], proof[0]
    swapped = Receipt(item.receipt.index, tuple(proof), item.receipt.checkpoint)
    bad = Bundle(bundle.release, (BundleItem(item.envelope, item.entry, swapped),))
    assert _failure(verify(DIGEST, bad, centre.policy()))[0] == Failure.INCLUSION


def test_a_checkpoint_from_another_log_fails_on_the_checkpoint(centre):
    bundle = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    _, other_key = generate_key("other.test/log")
    failure, detail = _failure(verify(DIGEST, bundle, centre.policy(log__key=other_key)))
    assert failure == Failure.CHECKPOINT and "no signature from a trusted key" in detail
    wrong_origin = centre.policy(log__origin="elsewhere.test/log")
    assert _failure(verify(DIGEST, bundle, wrong_origin))[0] == Failure.CHECKPOINT


def test_an_older_checkpoint_than_one_seen_is_a_rollback(centre, seen):
    old = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    newer = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    assert verify(DIGEST, newer, centre.policy(), seen).ok
    failure, detail = _failure(verify(DIGEST, old, centre.policy(), seen))
    assert failure == Failure.CONSISTENCY and "rollback" in detail


def test_another_history_of_the_same_size_is_a_split_view(centre, seen, tmp_path):
    bundle = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    assert verify(DIGEST, bundle, centre.policy(), seen).ok
    # The same log key signs a second history (a forked or lying log).
    forked = Centre(tmp_path / "fork", vendor=centre.vendor)
    forked.log_vkey = centre.log_vkey
    forked.sequencer.close()
    from clearroom.tlog.note import parse_signer_key
    from clearroom.tlog.sequencer import Sequencer, SequencerOptions

    forked.sequencer = Sequencer(
        tmp_path / "fork" / "seq2",
        forked.tiles,
        parse_signer_key(centre.sequencer._signer.to_key()),
        options=SequencerOptions(batch_wait=0.001),
    )
    try:
        fork = forked.bundle(
            [forked.log(sign(manifest_for(), centre.vendor), moment=EPOCH + timedelta(1))]
        )
        failure, detail = _failure(verify(DIGEST, fork, centre.policy(), seen))
    finally:
        forked.close()
    assert failure == Failure.CONSISTENCY and "split view" in detail


def test_a_newer_checkpoint_needs_a_proof_or_witnesses(centre, seen):
    first = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    assert verify(DIGEST, first, centre.policy(), seen).ok
    later = [centre.log(sign(manifest_for(), centre.vendor)) for _ in range(3)]
    unproven = centre.bundle(later)
    failure, detail = _failure(verify(DIGEST, unproven, centre.policy(), seen))
    assert failure == Failure.CONSISTENCY and "--online" in detail
    proven = centre.bundle(later, since=first.attestations[0].receipt.index + 1)
    verdict = verify(DIGEST, proven, centre.policy(), seen)
    assert verdict.ok and "proven" in verdict.checks[1].detail


def test_a_missing_required_witness_fails_on_witnesses(centre):
    bundle = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    _, witness = generate_key("witness.test/w1", cosignature=True)
    policy = centre.policy(log__witnesses=[witness], log__quorum=1)
    assert _failure(verify(DIGEST, bundle, policy))[0] == Failure.WITNESSES


def _vsa(lab: FileSigner, result: str = "PASSED"):
    statement = make_vsa(
        subjects=[Subject("router.img", {"sha256": DIGEST})],
        verifier_id="https://lab.test/clearroom",
        time_verified=EPOCH,
        resource_uri="https://centre.test/orgs/acme/router/2.4.1/",
        policy_uri="https://lab.test/policy/v1",
        policy_digest=None,
        input_attestations=[],
        result=result,
        verified_levels=["SLSA_BUILD_LEVEL_3"],
    )
    return sign(statement, lab)


def test_a_required_vsa_from_the_lab(centre):
    lab = FileSigner.generate()
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    requirement = {
        "predicate_type": SLSA_VSA,
        "signers": [lab.public_key.to_pem()],
        "result": "PASSED",
        "levels": ["SLSA_BUILD_LEVEL_3"],
    }
    policy = centre.policy(require=[requirement])
    failure, detail = _failure(verify(DIGEST, centre.bundle([manifest]), policy))
    assert failure == Failure.POLICY and "no verification_summary PASSED" in detail
    failed = centre.log(_vsa(lab, "FAILED"), organisation="lab")
    verdict = verify(DIGEST, centre.bundle([manifest, failed]), policy)
    assert verdict.failure == Failure.POLICY and "result is FAILED" in verdict.checks[-1].detail
    passed = centre.log(_vsa(lab), organisation="lab")
    assert verify(DIGEST, centre.bundle([manifest, failed, passed]), policy).ok


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", b'{"mediaType": "x"}', b'{"mediaType": "application/vnd.cl'],
)
def test_a_truncated_or_non_json_bundle_is_refused(data):
    with pytest.raises(BundleError):
        Bundle.parse(data)


def test_truncated_parts_of_a_bundle_are_refused(centre):
    data = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))]).to_json()
    with pytest.raises(BundleError, match="not JSON"):
        Bundle.parse(data[: len(data) // 2])
    doc = json.loads(data)
    doc["attestations"][0]["receipt"] = doc["attestations"][0]["receipt"][:-30]
    verdict = verify(DIGEST, Bundle.parse(json.dumps(doc).encode()), centre.policy())
    assert verdict.failure == Failure.CHECKPOINT
    doc["attestations"][0]["receipt"] = "index 0\n\n"
    with pytest.raises(BundleError, match=r"attestations\[0\]"):
        Bundle.parse(json.dumps(doc).encode())
    doc = json.loads(data)
    doc["attestations"][0]["entry"] = base64.b64encode(b"x").decode()[:-1]
    with pytest.raises(BundleError, match=r"attestations\[0\]"):
        Bundle.parse(json.dumps(doc).encode())


def test_an_entry_relabelled_as_a_vsa_does_not_meet_a_vsa_requirement(centre):

    lab = FileSigner.generate()
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    claim = make_claim(
        subjects=[Subject("router.img", {"sha256": DIGEST})], claim="looked at it", claimant="lab"
    )
    envelope = sign(claim, lab)
    vsa_statement = _vsa(lab)  # the entry claims a VSA; the signed statement is a claim

    _, entry = attestation_entry(
        envelope,
        Statement.parse(vsa_statement.payload),
        organisation="lab",
        signers=[lab.public_key.keyid],
        moment=EPOCH,
    )
    forged = Logged(envelope, entry, centre.sequencer.add(entry))
    requirement = {"predicate_type": SLSA_VSA, "signers": [lab.public_key.to_pem()]}
    verdict = verify(
        DIGEST, centre.bundle([manifest, forged]), centre.policy(require=[requirement])
    )
    assert (
        verdict.failure == Failure.POLICY and "signed as another kind" in verdict.checks[-1].detail
    )
