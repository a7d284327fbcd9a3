"""note.py: C2SP signed notes, Go-compatible keys, and cosignature/v1, checked against the
vectors of Go's golang.org/x/mod/sumdb/note tests and transparency-dev/formats' cosignature
tests (key strings and signed notes copied as data) and against hostile inputs."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from clearroom.tlog.errors import InvalidKey, InvalidNote, InvalidSignature, UnverifiedNote
from clearroom.tlog.note import (
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    CosignatureSigner,
    CosignatureVerifier,
    Signature,
    Signer,
    Verifier,
    cosignature_message,
    cosignature_timestamp,
    generate_key,
    key_id,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign,
    signature_lines,
)

# From golang.org/x/mod/sumdb/note/note_test.go (BSD-3-Clause): keys, text, signed lines.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngot"
    "pRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33"
    "WWd1RvMc+QQ=\n"
)
# From transparency-dev/formats note/note_cosigv1_test.go (Apache-2.0).
REMORA_COSIG_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
PLUS_IN_BASE64_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
COSIG_B64 = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBY"
    "JXORmnFBOBA=="
)

PETER = parse_verifier_key(PETER_VKEY)
ENOCH = parse_verifier_key(ENOCH_VKEY)


def opened(message: str, *verifiers: Verifier):
    return open_note(message.encode(), verifiers)


# --- keys ----------------------------------------------------------------------------------


def test_key_id_is_the_first_four_bytes_of_the_spec_hash():
    pub = PETER.public_key
    digest = hashlib.sha256(b"PeterNeumann\n\x01" + pub).digest()
    assert key_id("PeterNeumann", SIG_ED25519, pub) == int.from_bytes(digest[:4], "big")
    assert key_id("PeterNeumann", SIG_ED25519, pub) == 0xC74F20A3
    assert key_id("PeterNeumann", SIG_COSIGNATURE_V1, pub) != 0xC74F20A3


def test_go_keys_parse_and_print_back():
    signer = parse_signer_key(PETER_SKEY)
    assert type(signer) is Signer
    assert (signer.name, signer.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert signer.to_key() == PETER_SKEY
    assert signer.verifier() == PETER
    assert PETER.to_key() == PETER_VKEY
    assert Verifier.from_key(PETER_VKEY) == PETER


def test_verifier_keys_split_on_the_first_two_plus_signs_only():
    v = parse_verifier_key(PLUS_IN_BASE64_VKEY)
    assert (type(v), v.name, v.key_id) == (Verifier, "TEST", 0x7997405C)
    assert v.to_key() == PLUS_IN_BASE64_VKEY


def test_cosignature_keys_have_type_0x04():
    v = parse_verifier_key(REMORA_COSIG_VKEY)
    assert (type(v), v.name, v.key_id) == (CosignatureVerifier, "remora.n621.de", 0xDA77ADE7)
    assert CosignatureVerifier.from_key(REMORA_COSIG_VKEY) == v
    with pytest.raises(InvalidKey, match="has type 0x04, not 0x01"):
        Verifier.from_key(REMORA_COSIG_VKEY)
    with pytest.raises(InvalidKey, match="has type 0x01, not 0x04"):
        CosignatureVerifier.from_key(PETER_VKEY)


def test_every_mangled_verifier_key_is_refused():
    """Go's TestNewVerifier: every proper substring and every one-byte change fails."""
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(InvalidKey):
                    parse_verifier_key(PETER_VKEY[i:j])
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(InvalidKey):
            parse_verifier_key(mangled)
    for bad in [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # length
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown type
        "",
        "a+b",
        "rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!",
    ]:
        with pytest.raises(InvalidKey):
            parse_verifier_key(bad)


def test_every_mangled_signer_key_is_refused():
    """Go's TestNewSigner: every proper substring and every one-byte change fails."""
    for i in range(len(PETER_SKEY) + 1):
        for j in range(i + 1, len(PETER_SKEY) + 1):
            if (i, j) != (0, len(PETER_SKEY)):
                with pytest.raises(InvalidKey):
                    parse_signer_key(PETER_SKEY[i:j])
    for i in range(len(PETER_SKEY)):
        mangled = PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :]
        with pytest.raises(InvalidKey):
            parse_signer_key(mangled)


def test_keys_refuse_bad_names_lengths_and_key_ids():
    pub = PETER.public_key
    for name in ["", "a b", "a+b", "a\u00a0b", "a\tb", "a\nb"]:
        with pytest.raises(InvalidKey, match="invalid key name"):
            Verifier(name, 0, pub)
        with pytest.raises(InvalidKey, match="invalid key name"):
            Signer(name, b"\x01" * 32)
    with pytest.raises(InvalidKey, match="does not match"):
        Verifier("PeterNeumann", 0xC74F20A4, pub)
    with pytest.raises(InvalidKey, match="32 bytes, not 31"):
        Verifier("PeterNeumann", 0xC74F20A3, pub[:31])
    with pytest.raises(InvalidKey, match="seed is 32 bytes"):
        Signer("PeterNeumann", b"\x01" * 31)


def test_generated_keys_round_trip_and_keep_secrets_out_of_repr():
    for generate, signer_type, verifier_type in [
        (generate_key, Signer, Verifier),
        (lambda name: generate_key(name, cosignature=True), CosignatureSigner, CosignatureVerifier),
    ]:
        skey, vkey = generate("example.com/w1")
        signer, verifier = parse_signer_key(skey), parse_verifier_key(vkey)
        assert (type(signer), type(verifier)) == (signer_type, verifier_type)
        assert signer.verifier() == verifier
        assert open_note(sign("hi\n", [signer]).encode(), [verifier]).text == "hi\n"
        assert skey.split("+", 4)[4][:12] not in repr(signer)
        assert skey.startswith("PRIVATE+KEY+example.com/w1+")


# --- signing and opening: Go's vectors -----------------------------------------------------


def test_sign_matches_go():
    assert sign(TEXT, [parse_signer_key(PETER_SKEY)]) == TEXT + "\n" + PETER_SIG


def test_open_sorts_known_and_unknown_signatures():
    note = opened(TEXT + "\n" + PETER_SIG + ENOCH_SIG, PETER)
    assert note.text == TEXT
    assert [s.key for s in note.verified_signatures] == ["PeterNeumann+c74f20a3"]
    assert [s.key for s in note.unverified] == ["EnochRoot+af0cfe78"]
    assert note.verified_signatures[0].line() == PETER_SIG
    note = opened(TEXT + "\n" + PETER_SIG + ENOCH_SIG, PETER, ENOCH)
    assert [s.name for s in note.verified_signatures] == ["PeterNeumann", "EnochRoot"]
    assert note.unverified == ()


def test_a_note_without_a_known_signer_is_unverified():
    with pytest.raises(UnverifiedNote, match="no signature from a trusted key") as caught:
        opened(TEXT + "\n" + PETER_SIG + ENOCH_SIG)
    assert caught.value.signers == ("PeterNeumann+c74f20a3", "EnochRoot+af0cfe78")
    assert caught.value.text == TEXT


def test_duplicates_are_kept_once_and_a_duplicated_verifier_is_harmless():
    note = opened(TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG, PETER, PETER)
    assert len(note.verified_signatures) == 1
    assert len(note.unverified) == 1


def test_too_many_signatures_are_refused_before_verifying():
    assert opened(TEXT + "\n" + PETER_SIG * 100, PETER).text == TEXT
    for verifiers in [(PETER,), ()]:
        with pytest.raises(InvalidNote, match="101 signatures"):
            opened(TEXT + "\n" + PETER_SIG * 101, *verifiers)


def test_a_note_over_the_size_limit_is_refused():
    big = "x" * 2_000_000 + "\n"
    with pytest.raises(InvalidNote, match="over the 1048576-byte limit"):
        opened(big + "\n" + PETER_SIG, PETER)
    with pytest.raises(InvalidNote, match="limit"):
        open_note((TEXT + "\n" + PETER_SIG).encode(), [PETER], max_size=100)


def test_a_signature_that_does_not_verify_rejects_the_note():
    forged = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(InvalidSignature, match="PeterNeumann\\+c74f20a3") as caught:
        opened(TEXT + "\n" + forged, PETER)
    assert (caught.value.name, caught.value.key_id) == ("PeterNeumann", 0xC74F20A3)
    # A second, bad signature by a known key is not skipped as a duplicate.
    with pytest.raises(InvalidSignature):
        opened(TEXT + "\n" + PETER_SIG + forged, PETER)
    # An unknown key's garbage is only kept, never trusted.
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = opened(TEXT + "\n" + PETER_SIG + enoch_abcd, PETER)
    assert len(note.unverified) == 1


def test_signature_over_different_text_fails():
    for i in range(len(TEXT) - 1):
        if TEXT[i] == "\n":
            continue
        altered = TEXT[:i] + chr(ord(TEXT[i]) ^ 1) + TEXT[i + 1 :]
        with pytest.raises(InvalidSignature):
            opened(altered + "\n" + PETER_SIG, PETER)


@pytest.mark.parametrize(
    "message",
    [
        TEXT,  # no signatures
        TEXT + "\n",  # empty signature block
        TEXT + "\n" + PETER_SIG[:-1],  # last line not newline-terminated
        "\x01" + TEXT + "\n" + PETER_SIG,  # control character
        TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
        "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG + "\n",  # trailing blank line
        TEXT + "\n" + PETER_SIG.replace("=\n", "\n"),  # truncated base64 (padding dropped)
        TEXT + "\n" + PETER_SIG[:40] + "\n",  # truncated signature line
        TEXT + "\n" + "— PeterNeumann\n",  # no signature at all
        TEXT + "\n" + "— PeterNeumann AAAA\n",  # shorter than a key ID and one byte
        TEXT + "\n" + PETER_SIG.replace("—", "-"),  # hyphen, not em dash
        TEXT + "\n" + PETER_SIG.replace("x08go", "x08g!"),  # not base64
        TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),  # non-canonical base64 (padding bits)
    ],
)
def test_malformed_notes_are_refused(message):
    with pytest.raises(InvalidNote):
        opened(message, PETER)


def test_invalid_utf8_is_refused():
    with pytest.raises(InvalidNote, match="UTF-8"):
        open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [PETER])


def test_blank_lines_in_the_text_are_fine_but_extra_ones_around_signatures_are_not():
    signer = parse_signer_key(PETER_SKEY)
    text = "first\n\nthird\n"
    assert opened(sign(text, [signer]), PETER).text == text
    with pytest.raises(InvalidSignature):  # the text gains a trailing empty line
        opened(TEXT + "\n\n" + PETER_SIG, PETER)
    with pytest.raises(UnverifiedNote):  # the "text" now ends with Peter's line
        opened(TEXT + "\n" + PETER_SIG + "\n" + ENOCH_SIG, PETER)


def test_sign_refuses_texts_it_could_not_open():
    signer = parse_signer_key(PETER_SKEY)
    for text in ["", "no newline", "bell\x07\n", "tab\there\n"]:
        with pytest.raises(InvalidNote):
            sign(text, [signer])
    with pytest.raises(InvalidNote, match="at least one signer"):
        sign(TEXT, [])


# --- cosignature/v1 ------------------------------------------------------------------------


def test_cosignature_layout_and_signed_message():
    signer = CosignatureSigner("witness.example/w1", b"\x07" * 32, clock=lambda: 1_700_000_000.9)
    assert signer.key_id == key_id("witness.example/w1", 0x04, signer.public_key)
    line = signature_lines(TEXT, [signer])
    name, b64 = line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = base64.b64decode(b64)
    assert name == "witness.example/w1"
    assert len(raw) == 4 + 8 + 64
    assert int.from_bytes(raw[:4], "big") == signer.key_id
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    message = b"cosignature/v1\ntime 1700000000\n" + TEXT.encode()
    assert cosignature_message(TEXT.encode(), 1_700_000_000) == message
    Ed25519PublicKey.from_public_bytes(signer.public_key).verify(raw[12:], message)


def test_cosignatures_open_with_cosignature_verifiers_only():
    log = parse_signer_key(PETER_SKEY)
    witness = CosignatureSigner("witness.example/w1", b"\x07" * 32, clock=lambda: 1_700_000_000)
    message = sign(TEXT, [log, witness])
    note = opened(message, PETER, witness.verifier())
    assert [cosignature_timestamp(s) for s in note.verified_signatures[1:]] == [1_700_000_000]
    # The same key as a plain Ed25519 verifier has another key ID: the line is just unknown.
    plain = Verifier.for_public_key("witness.example/w1", witness.public_key)
    assert [s.name for s in opened(message, PETER, plain).unverified] == ["witness.example/w1"]
    # A cosignature over other text, or with another timestamp, does not verify.
    other = signature_lines("other\n", [witness])
    with pytest.raises(InvalidSignature):
        opened(TEXT + "\n" + other, witness.verifier())
    raw = bytearray(base64.b64decode(signature_lines(TEXT, [witness]).split(" ")[2]))
    raw[11] ^= 1
    retimed = f"— witness.example/w1 {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(InvalidSignature):
        opened(TEXT + "\n" + retimed, witness.verifier())


def test_cosignature_timestamps_beyond_2_63_are_refused():
    too_late = CosignatureSigner("w", b"\x07" * 32, clock=lambda: float(1 << 63))
    with pytest.raises(InvalidKey, match="timestamp"):
        too_late.sign(b"text\n")
    v = CosignatureSigner("w", b"\x07" * 32).verifier()
    assert not v.verify(b"x\n", (1 << 63).to_bytes(8, "big") + b"\0" * 64)
    assert not v.verify(b"x\n", b"\0" * 64)  # a plain signature is not a cosignature


def test_cosignature_timestamp_of_the_formats_vector():
    raw = base64.b64decode(COSIG_B64)
    sig = Signature("w", int.from_bytes(raw[:4], "big"), raw[4:])
    assert cosignature_timestamp(sig) == 1727964367
    with pytest.raises(InvalidNote, match="not a cosignature"):
        cosignature_timestamp(Signature("w", 0, b"\0" * 64))
