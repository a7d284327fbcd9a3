"""``clearroom verify ARTIFACT --bundle B --policy P``: the offline verifier's command.

Why argparse and not Typer: a verifier runs in scripts and on every download, so start-up to
verdict must stay under 300 ms, interpreter included. This module imports the attest core
(``cryptography`` and the standard library), and Rich only to draw the verdict table; the
``clearroom`` entry point hands ``verify`` straight here before loading anything else.

Every input is read with a cap and a deadline (`clearroom.untrusted`, and for ``--online``
the log client's capped `HttpFetcher`): ``/dev/zero``, a FIFO or a server that streams forever
are refused within seconds and a few tens of MB.

Exit codes: 0 verified; 1 usage (missing file, unreachable or too slow server); 2 malformed,
oversized or too deeply nested bundle or policy, unknown policy key; 10 digest; 11 signature;
12 key validity; 13 log inclusion; 14 checkpoint; 15 consistency (rollback, split view);
16 witnesses; 17 policy; 18 release status (missing, untrusted, for another release, or
older than the policy's max_status_age).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from clearroom.attest.bundle import MAX_BUNDLE_BYTES, Bundle, BundleError
from clearroom.attest.policy import Policy, PolicyError
from clearroom.attest.seen import SeenCheckpoints
from clearroom.attest.verify import Failure, Verdict, sha256_file, verify
from clearroom.tlog.checkpoint import Checkpoint
from clearroom.tlog.errors import FetchError, ObjectMissing, ResponseTooLarge, TlogError
from clearroom.untrusted import InputError, InputTooLarge, read_capped

ONLINE_TIMEOUT = 30
"""Seconds to connect to the centre and between two reads of its answer."""
ONLINE_DEADLINE = 120
"""Seconds for the whole answer: a server that drips bytes is given up on."""


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "clearroom" / "verify"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clearroom verify",
        description="Verify an artifact offline against its release bundle and a trust policy.",
    )
    parser.add_argument("artifact", type=Path, help="the file to verify")
    parser.add_argument("--bundle", type=Path, help="the release bundle (JSON)")
    parser.add_argument("--policy", type=Path, required=True, help="the trust policy (TOML/JSON)")
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help=f"checkpoints seen before (default {default_state_dir()})",
    )
    parser.add_argument("--no-state", action="store_true", help="do not check or keep state")
    parser.add_argument("--online", metavar="URL", help="fetch a fresh bundle from this centre")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    return parser


class _Usage(Exception):
    def __init__(self, failure: Failure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


def _fetch_bundle(url: str, digest: str, seen: SeenCheckpoints | None, origin: str) -> bytes:
    query = {"sha256": digest}
    note = seen.load(origin) if seen else None
    if note is not None:
        try:
            text = note.decode()
            query["since"] = str(Checkpoint.parse(text[: text.index("\n\n") + 1]).size)
        except (ValueError, TlogError):  # UnicodeDecodeError is a ValueError
            pass  # the verifier reports a bad remembered checkpoint itself
    target = f"{url.rstrip('/')}/api/bundles?{urllib.parse.urlencode(query)}"
    from clearroom.tlog.client import HttpFetcher  # loads httpx: only when going online

    try:
        with (
            _alarm(ONLINE_DEADLINE, f"--online: no complete answer from {url} within"),
            HttpFetcher(
                url, timeout=ONLINE_TIMEOUT, deadline=ONLINE_DEADLINE, user_agent="clearroom-verify"
            ) as http,
        ):
            return http.fetch_url(target, MAX_BUNDLE_BYTES)
    except ResponseTooLarge as exc:
        raise BundleError(f"bundle: {exc.location}: {exc.reason}") from None
    except ObjectMissing:
        raise _Usage(
            Failure.USAGE,
            f"--online: {url} holds no published release with a public file of this SHA-256"
            " (HTTP 404)",
        ) from None
    except FetchError as exc:
        raise _Usage(
            Failure.USAGE, f"--online: cannot fetch {exc.location}: {exc.reason}"
        ) from None
    except TlogError as exc:
        raise _Usage(Failure.USAGE, f"--online: {exc}") from None


@contextlib.contextmanager
def _alarm(seconds: float, message: str) -> Iterator[None]:
    """End what runs inside after ``seconds`` with a usage error, even a read the HTTP client
    is blocked in (a server sending its headers a byte at a time is bounded by the per-read
    timeout only). SIGALRM: the main thread on POSIX; elsewhere the fetcher's own deadline."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _Usage(Failure.USAGE, f"{message} {seconds:g} s; gave up")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run(args: argparse.Namespace) -> tuple[Verdict | None, str | None, Failure | None]:
    """The verdict, or (None, why, failure class) when verification could not start."""
    try:
        if not args.artifact.is_file():
            raise _Usage(Failure.USAGE, f"{args.artifact} is not a file")
        policy = Policy.load(args.policy)
        seen = None if args.no_state else SeenCheckpoints(args.state or default_state_dir())
        digest = sha256_file(args.artifact)
        if args.online:
            data = _fetch_bundle(args.online, digest, seen, policy.origin)
        elif args.bundle is None:
            raise _Usage(Failure.USAGE, "give --bundle FILE, or --online URL to fetch one")
        else:
            data = read_capped(args.bundle, MAX_BUNDLE_BYTES, what="bundle")
        bundle = Bundle.parse(data)
    except InputTooLarge as exc:
        return None, str(exc), Failure.BUNDLE
    except InputError as exc:
        return None, str(exc), Failure.USAGE
    except (BundleError, PolicyError) as exc:
        return None, str(exc), Failure.BUNDLE
    except _Usage as exc:
        return None, str(exc), exc.failure
    return verify(digest, bundle, policy, seen), None, None


def _print_table(verdict: Verdict, artifact: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    if verdict.ok:
        title = (
            f"[bold green]VERIFIED[/] {artifact.name}: {verdict.artifact_name} of {verdict.release}"
        )
    else:
        reason = verdict.failure.name.lower() if verdict.failure else ""
        title = f"[bold red]NOT VERIFIED[/] ({reason}) {artifact.name}"
    table = Table(title=title, title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in verdict.checks:
        table.add_row(check.name, "[green]ok[/]" if check.ok else "[red]FAILED[/]", check.detail)
    Console().print(table)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    verdict, error, failure = run(args)
    if verdict is None:
        assert failure is not None
        if args.json:
            doc = {"verified": False, "failure": failure.name.lower(), "error": error}
            sys.stdout.write(json.dumps(doc) + "\n")
        else:
            sys.stderr.write(f"error: {error}\n")
        return int(failure)
    if args.json:
        sys.stdout.write(json.dumps(verdict.to_dict(), indent=2) + "\n")
    else:
        _print_table(verdict, args.artifact)
    return 0 if verdict.ok else int(verdict.failure or Failure.USAGE)


if __name__ == "__main__":
    sys.exit(main())
