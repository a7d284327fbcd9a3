"""A fresh SoftHSM2 token per test (Debian's ``softhsm2``), for the tests of keys held on a
PKCS#11 token: the centre's attestation key and the log's checkpoint key."""

from __future__ import annotations

import glob
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

# Debian's softhsm2 installs the module in the multiarch directory and links it from here.
MODULES = [
    "/usr/lib/softhsm/libsofthsm2.so",
    *sorted(glob.glob("/usr/lib/*/softhsm/libsofthsm2.so")),
]
LABEL = "clearroom-test"
PIN = "1234"


@dataclass(frozen=True)
class Token:
    module: str
    label: str
    pin: str

    def uri(self, obj: str, **query: str) -> str:
        query = {"module-path": self.module, "pin-value": self.pin, **query}
        path = f"token={quote(self.label, safe='')};object={quote(obj, safe='')}"
        return f"pkcs11:{path}?" + "&".join(f"{k}={quote(v, safe='/:')}" for k, v in query.items())


@pytest.fixture
def softhsm(tmp_path, monkeypatch) -> Token:
    """A fresh, empty SoftHSM2 token in tmp_path, user PIN 1234."""
    module = next((m for m in MODULES if Path(m).is_file()), None)
    if module is None or shutil.which("softhsm2-util") is None:
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            LABEL,
            "--pin",
            PIN,
            "--so-pin",
            "5678",
        ],
        check=True,
        capture_output=True,
    )
    # SoftHSM2 reads its configuration in C_Initialize; the module stays loaded between tests.
    pkcs11 = pytest.importorskip("pkcs11")
    pkcs11.lib(module).reinitialize()
    return Token(module, LABEL, PIN)
