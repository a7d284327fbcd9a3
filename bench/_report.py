"""What every benchmark prints and records: a Markdown table, and its section of
docs/PERFORMANCE.md stamped with the machine, the date and the command that produced it."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

PERFORMANCE = Path(__file__).resolve().parents[1] / "docs" / "PERFORMANCE.md"


def table(rows: list[tuple[str, str, str]], heading: str = "measure") -> str:
    width = max(len(heading), *(len(r[0]) for r in rows))
    lines = [f"| {heading:<{width}} | value | goal |", f"|{'-' * (width + 2)}|---|---|"]
    lines += [f"| {a:<{width}} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def record(script: str, markdown: str, command: str) -> None:
    """Replace the section between ``<!-- <script> begin -->`` and its end marker."""
    begin, end = f"<!-- {script} begin -->", f"<!-- {script} end -->"
    section = (
        f"{begin}\nMeasured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} cores of {_cpu()},"
        f" Python {platform.python_version()}, {platform.system()} {platform.release()};"
        f" command: `{command}`\n\n{markdown}\n{end}"
    )
    text = PERFORMANCE.read_text()
    if begin in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text += "\n" + section + "\n"
    PERFORMANCE.write_text(text)
