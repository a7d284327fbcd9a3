"""The deployment's log: its signing key (made once, mode 0600, like the secret key), its name
(the origin every checkpoint carries) and the object store its public files are written to."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from django.conf import settings

from clearroom.blobs import ObjectStore, open_object_store
from clearroom.errors import ClearroomError
from clearroom.server.config import Config, parse_witness
from clearroom.server.keyfiles import create_once
from clearroom.tlog.note import (
    CosignatureSigner,
    LogSigner,
    Verifier,
    generate_key,
    parse_signer_key,
    parse_verifier_key,
)
from clearroom.tlog.witness_client import WitnessEndpoint


def default_origin(config: Config) -> str:
    """``<host[:port]>/log`` of the service's base URL: a schema-less URL, as C2SP asks."""
    return f"{urlsplit(config.base_url).netloc or 'clearroom'}/log"


def load_signer(config: Config) -> LogSigner:
    """The log's key, generated on first use. A configured origin must match the key's name:
    a log cannot be renamed, since every signed checkpoint names it. ``tlog_key_file`` may be
    a ``pkcs11:`` URI (RFC 7512) naming an Ed25519 key on a token; then ``tlog_origin`` names
    the log."""
    if config.tlog_key_file.startswith("pkcs11:"):
        return _token_signer(config)
    path = config.effective_tlog_key_file
    if not path.exists():
        signer_key, _ = generate_key(config.tlog_origin or default_origin(config))
        create_once(path, (signer_key + "\n").encode())
    try:
        signer = parse_signer_key(path.read_text().strip())
    except OSError as exc:
        raise ClearroomError(f"log: cannot read the log key {path}: {exc.strerror}") from None
    if isinstance(signer, CosignatureSigner):
        raise ClearroomError(f"log: {path} is a witness key; the log needs an Ed25519 note key")
    _check_published_key(config, signer.verifier())
    if config.tlog_origin and config.tlog_origin != signer.name:
        raise ClearroomError(
            f"log: tlog_origin is {config.tlog_origin!r} but the key {path} signs for"
            f" {signer.name!r}; a log keeps its name for life (unset tlog_origin, or point"
            " tlog_key_file at the key made for that origin)"
        )
    return signer


def _token_signer(config: Config) -> LogSigner:
    from clearroom.attest.pkcs11 import note_signer, open_pkcs11_signer

    if not config.tlog_origin:
        raise ClearroomError(
            "log: with a PKCS#11 log key, set tlog_origin (the log's name) explicitly"
        )
    token_signer = note_signer(open_pkcs11_signer(config.tlog_key_file), config.tlog_origin)
    _check_published_key(config, token_signer.verifier())
    return token_signer


def _check_published_key(config: Config, public: Verifier) -> None:
    if config.tlog_verifier_key and config.tlog_verifier_key != public.to_key():
        raise ClearroomError(
            f"log: the log key is not the one tlog_verifier_key names"
            f" ({config.tlog_verifier_key}); the web machines would publish the wrong key"
        )


@cache
def signer() -> LogSigner:
    return load_signer(settings.CONFIG)


@cache
def verifier() -> Verifier:
    """The log's public key: configured, so a web machine needs no private key; or derived
    from the key file on the machine that writes the log."""
    if settings.CONFIG.tlog_verifier_key:
        return parse_verifier_key(settings.CONFIG.tlog_verifier_key)
    return signer().verifier()


@cache
def witnesses() -> list[WitnessEndpoint]:
    """The configured witnesses (``tlog_witnesses``: ``URL VERIFIER-KEY`` each)."""
    return [parse_witness(w) for w in settings.CONFIG.tlog_witnesses]


@cache
def public_files() -> ObjectStore:
    """Tiles, entry bundles and the checkpoint, as served at ``/log/``."""
    return open_object_store(settings.CONFIG.effective_tlog_tiles_url)
