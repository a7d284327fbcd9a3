"""checkpoint.py: strict C2SP tlog-checkpoint text, read only after the log's signature and
the expected origin are checked; witness cosignatures reported, each attack named."""

from __future__ import annotations

import base64

import pytest

from clearroom.tlog.checkpoint import Checkpoint, Cosignature, open_checkpoint, sign_checkpoint
from clearroom.tlog.errors import (
    InvalidCheckpoint,
    InvalidNote,
    InvalidSignature,
    UnverifiedNote,
    WrongOrigin,
)
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.merkle import MemoryTree
from clearroom.tlog.note import CosignatureSigner, Signer, open_note, sign, signature_lines

ORIGIN = "example.com/behind-the-sofa"
# The example note text of C2SP tlog-checkpoint and tlog-cosignature.
SPEC_TEXT = f"{ORIGIN}\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

LOG = Signer(ORIGIN, b"\x11" * 32)
OTHER_LOG = Signer("example.com/other", b"\x22" * 32)
W1 = CosignatureSigner("witness.example/w1", b"\x33" * 32, clock=lambda: 1_679_315_147)
W2 = CosignatureSigner("witness.example/w2", b"\x44" * 32, clock=lambda: 1_679_315_150)
ROOT = MemoryTree(leaf_hash(bytes([i])) for i in range(5)).root()
CP = Checkpoint(ORIGIN, 5, ROOT)


# --- text ----------------------------------------------------------------------------------


def test_the_spec_example_round_trips():
    cp = Checkpoint.parse(SPEC_TEXT)
    assert (cp.origin, cp.size, cp.extensions) == (ORIGIN, 20852163, ())
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.to_text() == SPEC_TEXT


def test_extension_lines_round_trip():
    cp = Checkpoint(ORIGIN, 0, ROOT, ("ext one", "ext two"))
    assert cp.to_text().endswith("\next one\next two\n")
    assert Checkpoint.parse(cp.to_text()) == cp


ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_B64 = base64.urlsafe_b64encode(b"\xff" * 32).decode()  # "_" and "-" are not standard


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"{ORIGIN}\n5\n{ROOT_B64}", "end with a newline"),
        (f"{ORIGIN}\n5\n", "needs origin, size and root"),
        (f"\n5\n{ROOT_B64}\n", "origin is empty"),
        (f"{ORIGIN}\n05\n{ROOT_B64}\n", "leading zeros"),
        (f"{ORIGIN}\n00\n{ROOT_B64}\n", "leading zeros"),
        (f"{ORIGIN}\n+5\n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n-5\n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n 5\n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n5 \n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n\u0665\n{ROOT_B64}\n", "not a decimal"),  # ARABIC-INDIC DIGIT FIVE
        (f"{ORIGIN}\n0x5\n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n\n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n18446744073709551616\n{ROOT_B64}\n", "outside 0..2\\^64-1"),
        (f"{ORIGIN}\n5\n{ROOT_B64[:-1]}\n", "not base64"),
        (f"{ORIGIN}\n5\n{ROOT_B64} \n", "not base64"),
        (f"{ORIGIN}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n", "31 bytes"),
        (f"{ORIGIN}\n5\n{base64.b64encode(ROOT + b'x').decode()}\n", "33 bytes"),
        (f"{ORIGIN}\n5\n{URLSAFE_B64}\n", "not base64"),
        (f"{ORIGIN}\n5\n{ROOT_B64}\n\n", "extension line is empty"),
        (f"{ORIGIN}\n5\n{ROOT_B64}\next\n\n", "extension line is empty"),
    ],
)
def test_malformed_checkpoints_are_refused(text, reason):
    with pytest.raises(InvalidCheckpoint, match=reason):
        Checkpoint.parse(text)


def test_non_canonical_base64_roots_are_refused():
    canonical = base64.b64encode(b"\x00" * 32).decode()  # ends "AA=": 2 unused bits
    assert Checkpoint.parse(f"{ORIGIN}\n1\n{canonical}\n").root_hash == b"\x00" * 32
    with pytest.raises(InvalidCheckpoint, match="not base64"):
        Checkpoint.parse(f"{ORIGIN}\n1\n{canonical[:-2]}B=\n")


def test_the_constructor_checks_what_parse_checks():
    for args, reason in [
        (("", 1, ROOT), "origin is empty"),
        (("a\nb", 1, ROOT), "control characters"),
        ((ORIGIN, -1, ROOT), "outside"),
        ((ORIGIN, 1 << 64, ROOT), "outside"),
        ((ORIGIN, 1, ROOT[:16]), "16 bytes"),
        ((ORIGIN, 1, ROOT, ("",)), "extension line is empty"),
        ((ORIGIN, 1, ROOT, ("a\nb",)), "control characters"),
    ]:
        with pytest.raises(InvalidCheckpoint, match=reason):
            Checkpoint(*args)


# --- signing and opening -------------------------------------------------------------------


def test_sign_and_open_round_trip():
    signed = sign_checkpoint(CP, LOG)
    assert signed.startswith(CP.to_text().encode() + b"\n\xe2\x80\x94 " + ORIGIN.encode() + b" ")
    assert open_checkpoint(signed, LOG.verifier()) == (CP, ())
    assert open_checkpoint(signed, LOG.verifier(), origin=ORIGIN) == (CP, ())


def test_witnessed_checkpoint_reports_the_cosigners_that_verified():
    signed = sign_checkpoint(CP, LOG)
    # The tlog-witness flow: a witness returns signature lines; the log appends them.
    witnessed = signed + signature_lines(CP.to_text(), [W1, W2]).encode()
    cp, cosigs = open_checkpoint(witnessed, LOG.verifier(), cosigners=[W1.verifier()])
    assert cp == CP
    assert cosigs == (Cosignature(W1.name, W1.key_id, 1_679_315_147),)
    _, cosigs = open_checkpoint(witnessed, LOG.verifier(), cosigners=[W2.verifier(), W1.verifier()])
    assert [(c.name, c.timestamp) for c in cosigs] == [
        (W2.name, 1_679_315_150),
        (W1.name, 1_679_315_147),
    ]
    plain = Signer("witness.example/plain", b"\x55" * 32)
    _, cosigs = open_checkpoint(
        signed + signature_lines(CP.to_text(), [plain]).encode(),
        LOG.verifier(),
        cosigners=[plain.verifier(), W1.verifier()],
    )
    assert cosigs == (Cosignature(plain.name, plain.key_id, None),)


def test_unknown_log_key_is_refused():
    signed = sign_checkpoint(CP, OTHER_LOG)
    with pytest.raises(UnverifiedNote, match="no signature from a trusted key"):
        open_checkpoint(signed, LOG.verifier())
    # Same name, different key: still unknown.
    impostor = Signer(ORIGIN, b"\x66" * 32)
    with pytest.raises(UnverifiedNote):
        open_checkpoint(sign_checkpoint(CP, impostor), LOG.verifier())


def test_a_checkpoint_signed_only_by_a_witness_is_refused():
    note = sign(CP.to_text(), [W1]).encode()
    with pytest.raises(UnverifiedNote, match="not signed by the log key") as caught:
        open_checkpoint(note, LOG.verifier(), cosigners=[W1.verifier()])
    assert caught.value.text == CP.to_text()


def test_wrong_origin_is_refused():
    foreign = Checkpoint("example.com/another-log", 5, ROOT)
    signed = sign_checkpoint(foreign, LOG)  # the right key, the wrong log
    with pytest.raises(WrongOrigin, match="another-log") as caught:
        open_checkpoint(signed, LOG.verifier())
    assert (caught.value.expected, caught.value.got) == (ORIGIN, "example.com/another-log")
    with pytest.raises(WrongOrigin):
        open_checkpoint(sign_checkpoint(CP, LOG), LOG.verifier(), origin="example.com/x")
    cp, _ = open_checkpoint(signed, LOG.verifier(), origin="example.com/another-log")
    assert cp == foreign


def test_signature_over_different_text_is_refused():
    signed = sign_checkpoint(CP, LOG)
    text_len = len(CP.to_text())
    for i in range(text_len - 1):
        if signed[i : i + 1] == b"\n":
            continue
        flipped = signed[:i] + bytes([signed[i] ^ 1]) + signed[i + 1 :]
        with pytest.raises((InvalidSignature, InvalidNote)):
            open_checkpoint(flipped, LOG.verifier())


def test_truncated_signature_lines_are_refused():
    signed = sign_checkpoint(CP, LOG)
    for cut in [1, 2, 5, 20, 60]:
        with pytest.raises(InvalidNote):
            open_checkpoint(signed[: -cut - 1] + b"\n", LOG.verifier())
    with pytest.raises(InvalidNote):
        open_checkpoint(signed[:-1], LOG.verifier())  # no final newline


def test_extra_blank_lines_are_refused():
    signed = sign_checkpoint(CP, LOG)
    text, sigs = signed.split(b"\n\n")
    for bad in [
        text + b"\n\n\n" + sigs,  # two blank lines before the signatures
        b"\n" + signed,  # a blank line before the origin
        signed + b"\n",  # a blank line after the signatures
        text
        + b"\n\n"
        + sigs
        + signature_lines(CP.to_text(), [W1]).encode().replace(b"\xe2", b"\n\xe2"),
    ]:
        with pytest.raises((InvalidNote, UnverifiedNote, InvalidCheckpoint)):
            open_checkpoint(bad, LOG.verifier(), cosigners=[W1.verifier()])


def test_a_malformed_checkpoint_is_only_parsed_after_the_signature():
    bad_text = f"{ORIGIN}\n05\n{ROOT_B64}\n"
    with pytest.raises(UnverifiedNote):  # unsigned garbage is not even read
        open_checkpoint(sign(bad_text, [OTHER_LOG]).encode(), LOG.verifier())
    with pytest.raises(InvalidCheckpoint, match="leading zeros"):
        open_checkpoint(sign(bad_text, [LOG]).encode(), LOG.verifier())


def test_a_bad_cosignature_from_a_trusted_witness_rejects_the_checkpoint():
    signed = sign_checkpoint(CP, LOG)
    stale = signature_lines(Checkpoint(ORIGIN, 4, ROOT).to_text(), [W1]).encode()
    with pytest.raises(InvalidSignature, match=r"witness\.example/w1"):
        open_checkpoint(signed + stale, LOG.verifier(), cosigners=[W1.verifier()])
    # Not trusted, not checked: the same line is ignored without the witness's key.
    assert open_checkpoint(signed + stale, LOG.verifier())[0] == CP


def test_checkpoint_notes_open_as_plain_notes_too():
    note = open_note(sign_checkpoint(CP, LOG), [LOG.verifier()])
    assert Checkpoint.parse(note.text) == CP
