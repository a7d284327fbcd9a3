"""The offline verifier end to end over a real log: a release verifies, and each tampering
fails with its own reason (the failure class is also `clearroom verify`'s exit code)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from clearroom.attest.bundle import Bundle, BundleError, BundleItem
from clearroom.attest.dsse import Envelope
from clearroom.attest.entries import attestation_entry
from clearroom.attest.keys import FileSigner
from clearroom.attest.policy import Policy, PolicyError
from clearroom.attest.predicates import SLSA_VSA, ReleaseStatus, make_claim, make_vsa
from clearroom.attest.seen import SeenCheckpoints
from clearroom.attest.statement import Statement, Subject
from clearroom.attest.verify import Failure, verify
from clearroom.tlog.note import generate_key
from clearroom.tlog.receipt import Receipt
from tests.attest.centre import EPOCH, FIRMWARE, RELEASE, Centre, Logged, manifest_for, sign

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
        "release status",
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
    proven = centre.bundle(later, since=verify(DIGEST, first, centre.policy()).checkpoint_size)
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
    for item in doc["attestations"]:  # every receipt is against the one checkpoint
        item["receipt"] = item["receipt"][:-30]
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


# --- the centre's release status (a withdrawal cannot be hidden by leaving it out) ----------


def test_bundle_with_withdrawal_dropped_fails_on_missing_status(centre):
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    centre.release_status("withdrawn", reason="bricks the device")
    # Whoever hands the bundle over leaves out the withdrawal: the status and the facts.
    stripped = centre.bundle([manifest], status=False)
    failure, detail = _failure(verify(DIGEST, stripped, centre.policy()))
    assert failure == Failure.STATUS and "no release status" in detail
    assert int(Failure.STATUS) == 18


def test_withdrawn_status_fails_unless_the_policy_allows_withdrawn_releases(centre):
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    centre.release_status("withdrawn", reason="bricks the device")
    bundle = centre.bundle([manifest])
    failure, detail = _failure(verify(DIGEST, bundle, centre.policy()))
    assert failure == Failure.POLICY and "withdrew" in detail and "bricks the device" in detail
    verdict = verify(DIGEST, bundle, centre.policy(release={"allow_withdrawn": True}))
    assert verdict.ok, verdict.checks


def test_stale_status_older_than_policy_max_age_fails(centre):
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    now = datetime.now(UTC)
    centre.release_status(as_of=now - timedelta(days=8))
    bundle = centre.bundle([manifest])
    failure, detail = _failure(verify(DIGEST, bundle, centre.policy()))  # default: 7 days
    assert failure == Failure.STATUS and "8 days old" in detail and "at most 7 days" in detail
    assert verify(DIGEST, bundle, centre.policy(release={"max_status_age": "9d"})).ok
    strict = centre.policy(release={"max_status_age": "12h"})
    centre.release_status(as_of=now - timedelta(hours=13))
    failure, detail = _failure(verify(DIGEST, centre.bundle([manifest]), strict))
    assert failure == Failure.STATUS and "at most 12 hours" in detail


def test_status_dated_in_the_verifiers_future_fails(centre):
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    centre.release_status(as_of=datetime.now(UTC) + timedelta(days=2))
    failure, detail = _failure(verify(DIGEST, centre.bundle([manifest]), centre.policy()))
    assert failure == Failure.STATUS and "future" in detail


def test_status_signed_by_a_key_the_policy_does_not_trust_fails(centre):
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    centre.release_status(signer=FileSigner.generate())
    failure, detail = _failure(verify(DIGEST, centre.bundle([manifest]), centre.policy()))
    assert failure == Failure.STATUS and "not signed by any trusted key" in detail
    centre.release_status()
    untrusting = centre.policy(
        vendor={"organisation": "acme", "keys": [centre.vendor.public_key.to_pem()]}
    )
    failure, detail = _failure(verify(DIGEST, centre.bundle([manifest]), untrusting))
    assert failure == Failure.STATUS and "vendor.centre_keys" in detail


def test_status_of_another_release_fails(centre):
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    centre.release_status(release={"vendor": "acme", "product": "router", "version": "1.0.0"})
    failure, detail = _failure(verify(DIGEST, centre.bundle([manifest]), centre.policy()))
    assert failure == Failure.STATUS and "1.0.0" in detail


def test_status_swapped_for_a_signed_but_unlogged_one_fails(centre):
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    bundle = centre.bundle([manifest])
    item = bundle.attestations[-1]
    other = ReleaseStatus(dict(RELEASE), "published", datetime.now(UTC), 99)
    unlogged = BundleItem(sign(other.to_statement(), centre.key), item.entry, item.receipt)
    swapped = Bundle(bundle.release, (*bundle.attestations[:-1], unlogged), bundle.key_events)
    failure, detail = _failure(verify(DIGEST, swapped, centre.policy()))
    assert failure == Failure.STATUS and "another release status" in detail


@pytest.mark.parametrize("age", ["7 days", "0d", "7w", 7, "-1d", ""])
def test_policy_max_status_age_that_is_not_a_duration_is_refused(centre, age):
    with pytest.raises(PolicyError, match=r"release\.max_status_age"):
        centre.policy(release={"max_status_age": age})


def test_bundle_with_a_lab_revocation_dropped_fails_on_the_status_key_event_count(centre):
    lab = FileSigner.generate()
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    added = centre.add_key(lab, centre.key, organisation="lab")
    revoked = centre.revoke_key(lab.public_key, lab, organisation="lab")
    after = centre.log(_vsa(lab), organisation="lab")
    centre.release_status(key_events={"acme": 0, "lab": 2})
    policy = centre.policy(require=[_vsa_requirement(organisation="lab")])
    # Whoever hands the bundle over leaves out the lab's revocation.
    failure, detail = _failure(verify(DIGEST, centre.bundle([manifest, after], [added]), policy))
    assert failure == Failure.STATUS and "carries 1 of the 2 key events of lab" in detail
    failure, detail = _failure(
        verify(DIGEST, centre.bundle([manifest, after], [added, revoked]), policy)
    )
    assert failure == Failure.POLICY and "revoked" in detail


# --- required signers follow their organisation's key history -------------------------------


def _vsa_requirement(**fields):
    return {"predicate_type": SLSA_VSA, "result": "PASSED", **fields}


def test_lab_key_revoked_in_the_log_no_longer_satisfies_the_requirement(centre):
    lab = FileSigner.generate()
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    added = centre.add_key(lab, centre.key, organisation="lab")  # the centre vetted the lab
    before = centre.log(_vsa(lab), organisation="lab")
    revoked = centre.revoke_key(lab.public_key, lab, organisation="lab")
    after = centre.log(_vsa(lab), organisation="lab")
    by_name = centre.policy(require=[_vsa_requirement(organisation="lab")])
    anchored = centre.policy(require=[_vsa_requirement(signers=[lab.public_key.to_pem()])])
    for policy in (by_name, anchored):
        bundle = centre.bundle([manifest, after], [added, revoked])
        failure, detail = _failure(verify(DIGEST, bundle, policy))
        assert failure == Failure.POLICY, detail
        assert f"revoked (log entry {revoked.index}): key compromised" in detail
        # A report logged before the revocation still counts.
        assert verify(DIGEST, centre.bundle([manifest, before], [added, revoked]), policy).ok


def test_a_requirement_naming_an_organisation_accepts_only_its_registered_keys(centre):
    lab, other = FileSigner.generate(), FileSigner.generate()
    manifest = centre.log(sign(manifest_for(), centre.vendor))
    events = [
        centre.add_key(lab, centre.key, organisation="lab"),
        centre.add_key(other, centre.key, organisation="other-lab"),
    ]
    policy = centre.policy(require=[_vsa_requirement(organisation="lab")])
    by_lab = centre.log(_vsa(lab), organisation="lab")
    assert verify(DIGEST, centre.bundle([manifest, by_lab], events), policy).ok
    by_other = centre.log(_vsa(other), organisation="other-lab")
    failure, detail = _failure(verify(DIGEST, centre.bundle([manifest, by_other], events), policy))
    assert failure == Failure.POLICY and "logged for other-lab, not lab" in detail
    relabelled = centre.log(_vsa(other), organisation="lab")  # the key is not the lab's
    failure, detail = _failure(
        verify(DIGEST, centre.bundle([manifest, relabelled], events), policy)
    )
    assert (
        failure == Failure.POLICY
        and f"entry {relabelled.index} of lab is not signed by any trusted key" in detail
    )


def test_a_requirement_by_organisation_alone_needs_centre_keys():
    with pytest.raises(PolicyError, match="centre_keys"):
        Policy.from_dict(
            {
                "log": {"origin": "o", "key": generate_key("o")[1]},
                "vendor": {
                    "organisation": "acme",
                    "keys": [FileSigner.generate().public_key.to_pem()],
                },
                "require": [_vsa_requirement(organisation="lab")],
            }
        )
