"""What ``clearroom demo`` runs beside the centre (a witness that cosigns its log) and prints:
where to look, how to sign in, and how to check the log without trusting the centre."""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from clearroom.errors import ClearroomError

if TYPE_CHECKING:  # the witness starts before Django is set up
    from clearroom.server.demo import DemoInfo


def _command() -> str:
    """How this command was invoked (``.venv/bin/clearroom`` when not on PATH)."""
    invoked = Path(sys.argv[0])
    if invoked.name == "clearroom" and shutil.which("clearroom") != str(invoked.resolve()):
        return str(invoked)
    return "clearroom"


@dataclass(frozen=True)
class DemoWitness:
    url: str
    verifier_key: str
    log_key: str
    """The verifier key of the demo centre's log, which the witness cosigns."""


def start_witness(data_dir: Path) -> DemoWitness:
    """Run ``clearroom witness serve`` as a child process on a free port, trusting the demo
    log's key (made here if this is the first run). It stops when the demo stops."""
    from clearroom.server.config import load_config
    from clearroom.server.transparency.identity import load_signer
    from clearroom.tlog.note import generate_key

    log_key = load_signer(load_config()).verifier().to_key()
    folder = data_dir / "witness"
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "witness.key"
    if not key_file.exists():
        skey, _ = generate_key("demo-witness.clearroom.localhost", cosignature=True)
        key_file.touch(mode=0o600)
        key_file.write_text(skey + "\n")
    command = [sys.executable, "-m", "clearroom.cli.witness", "serve", "--key-file", str(key_file)]
    command += ["--log", log_key, "--state", str(folder / "state"), "--port", "0"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command,
        stdout=subprocess.PIPE,
        stderr=(folder / "witness.log").open("a"),
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("CLEARROOM_")},
    )
    atexit.register(_stop_witness, process, os.getpid())
    assert process.stdout is not None
    verifier_key = process.stdout.readline().strip()
    address = process.stdout.readline().strip().rsplit(" at ", 1)[-1]
    if not verifier_key or not address.startswith("http://"):
        raise ClearroomError("demo: the witness did not start; see the messages above")
    return DemoWitness(address.rstrip("/"), verifier_key, log_key)


def _stop_witness(process: subprocess.Popen[str], owner: int) -> None:
    """At the demo's exit: SIGTERM the witness and wait for it (SIGKILL after 10 s). Only in
    the process that started it: gunicorn's workers are forks of the demo and run its exit
    handlers too, and a worker restarting must not stop the witness."""
    if os.getpid() != owner:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def show(
    info: DemoInfo,
    *,
    base_url: str,
    witness: DemoWitness | None,
    policy: Path,
    console: Console,
) -> None:
    table = Table(title="Demo sign-ins (for this demo only)", title_justify="left")
    for column in ("user", "password", "organisation", "role"):
        table.add_column(column)
    for user in info.users:
        table.add_row(user.username, user.password, user.organisation, user.role)
    console.print(table)
    from clearroom.server import demo_standards

    release = f"{base_url}/orgs/{info.vendor}/{info.product}/{info.version}/"
    forum = demo_standards.ORGANISATION
    console.print(
        Panel.fit(
            f"Portal:        [bold]{base_url}/[/]\n"
            f"Demo release:  [bold]{release}[/]\n"
            f"Log:           {base_url}/log/\n"
            f"API docs:      {base_url}/api/docs\n"
            f"Admin:         {base_url}/admin/"
            + (f"\nWitness:       {witness.url}/" if witness else ""),
            title="Clearroom demo",
        )
    )
    if witness is not None:
        # The state file keeps the last verified checkpoint, so the next run proves the log
        # only grew since: without it every run would trust the log anew and miss a fork.
        state = shlex.quote(str(policy.parent / "monitor-state.json"))
        console.print(
            "Check the centre's transparency log yourself (a monitor; run it again later:"
            " it proves the log only grew since the last run):"
        )
        console.print(
            f"  {_command()} log monitor {base_url}/log/ --key '{witness.log_key}'"
            f" --cosigner '{witness.verifier_key}' --state {state}",
            soft_wrap=True,
            highlight=False,
        )
    api = f"{base_url}/api/products/{info.vendor}/{info.product}/releases/{info.version}"
    image = f"{info.product}-{info.version}.img"
    _commands(
        console,
        "Verify the demo release offline, as a customer would (exit code 0 = verified):",
        f"curl -so release.bundle.json {api}/bundle",
        f"curl -so {image} {api}/artifacts/{image}/content",
        f"{_command()} verify {image} --bundle release.bundle.json --policy {policy}",
    )
    _commands(
        console,
        "See the parties at work on the release (sign in with the users above):",
        f"regulator:    the evaluation against the forum's catalogue, its checks, verdicts and"
        f" finding - {release}",
        f"expert:       the finding and the customer's question - {base_url}/-/notifications/",
        f"vendor-owner: who read the confidential sources - {base_url}/orgs/{info.vendor}/-/audit/",
        f"anyone:       the vendor's showcase (the lab's matching rebuild is its binary"
        f" equivalence) - {base_url}/orgs/{info.vendor}/-/showcase/",
        f"anyone:       the standards body's catalogue - {base_url}/orgs/{forum}/-/catalogues/"
        f"{demo_standards.SLUG}/{demo_standards.VERSION}/",
        "then check that trail against the log:",
        f"  CLEARROOM_DATA_DIR={policy.parent} {_command()} audit verify",
    )
    _commands(
        console,
        "Sign and publish a release of your own with the vendor's key and API token:",
        f"{_command()} publish DIR --url {base_url} --product {info.vendor}/{info.product}"
        f" --version 9.9.9 --token {info.token} --sign-with {info.vendor_key} --publish",
    )


def _commands(console: Console, title: str, *lines: str) -> None:
    console.print(title)
    for line in lines:
        console.print(f"  {line}", soft_wrap=True, highlight=False)
