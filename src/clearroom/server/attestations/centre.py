"""The centre's own attestation key: it countersigns the first key of a vetted vendor (and
revocations an owner asks for), and will sign the centre's verification summaries. A key file
(generated once, mode 0600) or a key on a PKCS#11 token (``attest_key = "pkcs11:…"``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings

from clearroom.attest.keys import FileSigner, PublicKey, Signer
from clearroom.server.config import Config
from clearroom.server.keyfiles import create_once


def load_centre_signer(config: Config) -> Signer:
    if config.attest_key.startswith("pkcs11:"):
        from clearroom.attest.pkcs11 import open_pkcs11_signer

        return open_pkcs11_signer(config.attest_key)
    path = Path(config.attest_key) if config.attest_key else config.data_dir / "attest.pem"
    if not path.exists():
        create_once(path, FileSigner.generate().to_pem())
    return FileSigner.from_file(path)


@cache
def centre_signer() -> Signer:
    return load_centre_signer(settings.CONFIG)


def centre_key() -> PublicKey:
    return centre_signer().public_key
