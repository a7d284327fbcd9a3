"""The child process of one job attempt: ``python -m clearroom.jobs.child`` reads the job as
JSON on stdin, sets Django up, runs the job function and writes ``{"ok": …, "result": …}`` or
``{"ok": false, "error": …}`` as JSON on stdout. Whatever the job prints goes to stderr."""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import sys
import traceback
from typing import Any

PR_SET_PDEATHSIG = 1


def main() -> int:
    _die_with_parent()
    payload = json.loads(sys.stdin.buffer.read())
    if os.getppid() != payload.get("parent_pid", os.getppid()):
        return 3  # the parent died before we could tie our life to it
    # Keep fd 1 for the result; anything the job prints (or a library logs) goes to stderr.
    result_fd = os.dup(1)
    os.dup2(2, 1)
    code = 0
    try:
        report: dict[str, Any] = {"ok": True, "result": _run(payload)}
        text = json.dumps(report, allow_nan=False)
    except BaseException as exc:  # noqa: BLE001 - every failure is reported to the parent
        traceback.print_exc()
        text = json.dumps({"ok": False, "error": _describe(exc, payload.get("kind", "?"))})
        code = 1
    with os.fdopen(result_fd, "w") as out:
        out.write(text)
    sys.stderr.flush()
    return code


def _run(payload: dict[str, Any]) -> Any:
    missing = [p for p in payload.get("sys_path", []) if p not in sys.path]
    sys.path[:0] = missing
    from django.conf import settings

    for alias, name in payload.get("databases", {}).items():
        if alias in settings.DATABASES:
            settings.DATABASES[alias]["NAME"] = name

    import django

    django.setup()
    from django.db import connections

    from clearroom.jobs import registry

    kind = payload["kind"]
    try:
        importlib.import_module(payload["module"])
        spec = registry.get(kind)
        result = spec.func(**payload["kwargs"])
    finally:
        connections.close_all()
    try:
        json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"jobs: {kind} returned a value that is not JSON: {exc}") from None
    return result


def _describe(exc: BaseException, kind: str) -> str:
    text = str(exc)
    if text.startswith("jobs: "):
        return text
    name = type(exc).__name__
    return f"jobs: {kind} raised {name}: {text}" if text else f"jobs: {kind} raised {name}"


def _die_with_parent() -> None:
    """Linux: be killed when the worker that started us dies (even by SIGKILL), so an attempt
    never outlives its worker and runs twice beside its retry."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
