"""The ``clearroom`` executable. ``clearroom verify`` goes straight to the lean verifier (no
Typer, no Django, no HTTP client loaded), so verifying a download starts in a fraction of a
second; every other command goes to the full command set in :mod:`clearroom.cli.main`."""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "verify":
        from clearroom.cli.verify import main as verify

        sys.exit(verify(sys.argv[2:]))
    from clearroom.cli.main import main as everything

    everything()


if __name__ == "__main__":
    main()
