"""OpenPGP signatures for the CSAF provider (CSAF 2.0 requirement 19: ``.asc`` detached
signatures, the key listed in provider-metadata.json), made with GnuPG - the tool every CSAF
consumer checks them with. The key is generated once under ``data_dir/csaf-gnupg`` (mode
0700); signatures are kept beside it, one per document digest, so a document is signed once.

gpg starts a ``gpg-agent`` daemon for its home that outlives it (and the server that ran it).
Every use of the home therefore holds a lock on it (threads and worker processes alike) and
ends with ``gpgconf --kill gpg-agent``: no agent is left running when nothing is signing."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from django.conf import settings

from clearroom.server.errors import Unavailable

_lock = threading.Lock()
TIMEOUT = 60


def _home() -> Path:
    home = settings.CONFIG.data_dir / "csaf-gnupg"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


@contextlib.contextmanager
def _using_home() -> Iterator[Path]:
    """The GnuPG home, for this caller alone; its agent stopped afterwards."""
    home = _home()
    with _lock, (home / ".lock").open("ab") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes
        try:
            yield home
        finally:
            _stop_agent(home)


def _stop_agent(home: Path) -> None:
    program = shutil.which("gpgconf")
    if program is None:
        return
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(  # noqa: S603 - fixed arguments
            [program, "--homedir", str(home), "--kill", "gpg-agent"],
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )


def _gpg(home: Path, *args: str, data: bytes | None = None) -> bytes:
    program = shutil.which("gpg")
    if program is None:
        raise Unavailable("csaf: GnuPG is not installed; install the gpg package")
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, the data on stdin
            [program, "--batch", "--homedir", str(home), "--no-tty", *args],
            input=data,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(
            f"csaf: GnuPG is not usable here ({exc}); install the gpg package"
        ) from None
    if done.returncode != 0:
        raise Unavailable(
            f"csaf: gpg {args[0]} failed: {done.stderr.decode(errors='replace')[-300:]}"
        )
    return done.stdout


@cache
def fingerprint() -> str:
    """The signing key's fingerprint, generating the key on first use."""
    with _using_home() as home:
        listed = _gpg(home, "--with-colons", "--list-secret-keys").decode()
        found = re.search(r"^fpr:+([0-9A-F]{40}):", listed, re.M)
        if found is None:
            host = settings.CONFIG.base_url.split("://")[-1].split("/")[0].split(":")[0]
            uid = f"Clearroom CSAF provider <csaf@{host or 'localhost'}>"
            _gpg(home, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
            listed = _gpg(home, "--with-colons", "--list-secret-keys").decode()
            found = re.search(r"^fpr:+([0-9A-F]{40}):", listed, re.M)
            assert found is not None
        return found.group(1)


def public_key() -> bytes:
    key = fingerprint()
    with _using_home() as home:
        return _gpg(home, "--armor", "--export", key)


def sign(data: bytes, digest: str) -> bytes:
    """The armored detached signature of ``data`` (whose SHA-256 is ``digest``)."""
    cached = _home() / f"{digest}.asc"
    if cached.exists():
        return cached.read_bytes()
    key = fingerprint()
    with _using_home() as home:
        signature = _gpg(home, "--armor", "--detach-sign", "--local-user", key, data=data)
    temporary = cached.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(signature)
    temporary.replace(cached)
    return signature
