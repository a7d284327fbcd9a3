"""What ``clearroom demo`` prints: where to look and how to sign in."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from clearroom.server.demo import DemoInfo


def _command() -> str:
    """How this command was invoked (``.venv/bin/clearroom`` when not on PATH)."""
    invoked = Path(sys.argv[0])
    if invoked.name == "clearroom" and shutil.which("clearroom") != str(invoked.resolve()):
        return str(invoked)
    return "clearroom"


def show(info: DemoInfo, *, base_url: str, console: Console) -> None:
    table = Table(title="Demo sign-ins (for this demo only)", title_justify="left")
    for column in ("user", "password", "organisation", "role"):
        table.add_column(column)
    for user in info.users:
        table.add_row(user.username, user.password, user.organisation, user.role)
    console.print(table)
    release = f"{base_url}/orgs/{info.vendor}/{info.product}/{info.version}/"
    console.print(
        Panel.fit(
            f"Portal:        [bold]{base_url}/[/]\n"
            f"Demo release:  [bold]{release}[/]\n"
            f"API docs:      {base_url}/api/docs\n"
            f"Admin:         {base_url}/admin/",
            title="Clearroom demo",
        )
    )
    console.print("Publish a release of your own with the vendor's API token:")
    console.print(
        f"  {_command()} publish DIR --url {base_url} --product {info.vendor}/{info.product}"
        f" --version 9.9.9 --token {info.token}",
        soft_wrap=True,
        highlight=False,
    )
