"""Reading and parsing untrusted input: capped before it is read, with a deadline, strictly.

Why one module: a file named on the command line may be ``/dev/zero``, a FIFO nobody writes,
a directory or binary junk; JSON may nest 100,000 levels deep or spell a number ``"21"``;
text may spell a decimal with Arabic-Indic digits (``str.isdigit``/``int`` accept ``٦``, ``_``,
signs and spaces). Every command-line input of the verifier and the log tools goes through
`read_capped`, every JSON document through `parse_json`, and every decimal parsed from
untrusted text through `parse_decimal`, so each rule is written, and tested, once. Standard
library only: the offline verifier imports it at start-up.
"""

from __future__ import annotations

import json
import os
import select
import stat
import time
from pathlib import Path
from typing import Any

from clearroom.errors import ClearroomError

CHUNK = 1 << 20
DEFAULT_DEADLINE = 60.0
"""Seconds to read one input; a FIFO or pipe that stays silent longer is refused."""
MAX_JSON_DEPTH = 32
"""Nesting of arrays and objects; Clearroom's documents need fewer than 10 levels."""
MAX_JSON_INT_DIGITS = 20
"""Enough for any unsigned 64-bit number; longer integers are refused before int() sees them."""
MAX_UINT64 = (1 << 64) - 1
MAX_KEY_FILE_BYTES = 64 << 10
"""A key (PEM or a note verifier key) is at most a few hundred bytes; a larger key file is
refused unread."""


class InputError(ClearroomError):
    """An input could not be read: missing, a directory, unreadable, or silent past its deadline."""


class InputTooLarge(InputError):
    """An input is larger than its cap; reading stopped at the cap."""


class MalformedInput(ClearroomError):
    """An input was read but is not what it claims to be (not UTF-8, not JSON, nested too deep)."""


def read_capped(
    source: str | Path, cap: int, *, what: str, deadline: float = DEFAULT_DEADLINE
) -> bytes:
    """The bytes of a file (``-`` is standard input), at most ``cap`` of them: reading stops
    at ``cap + 1`` bytes with `InputTooLarge`, or after ``deadline`` seconds with `InputError`,
    whatever the source is (a regular file, ``/dev/zero``, a FIFO, a pipe)."""
    name = str(source)
    if name == "-":
        return _read_fd(0, cap, what, "standard input", deadline)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags)  # non-blocking: opening a FIFO does not wait for a writer
    except FileNotFoundError:
        raise InputError(f"{what}: {name} does not exist") from None
    except OSError as exc:
        raise InputError(f"{what}: cannot read {name}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{what}: {name} is a directory, not a file")
        if stat.S_ISREG(info.st_mode) and info.st_size > cap:
            raise InputTooLarge(
                f"{what}: {name} is {info.st_size:,} bytes, over the limit of {cap:,}; refused"
            )
        return _read_fd(fd, cap, what, name, deadline)
    finally:
        os.close(fd)


def _read_fd(fd: int, cap: int, what: str, name: str, deadline: float) -> bytes:
    give_up = time.monotonic() + deadline
    chunks: list[bytes] = []
    total = 0
    poller = select.poll() if hasattr(select, "poll") else None
    if poller is not None:
        poller.register(fd, select.POLLIN)
    while True:
        left = give_up - time.monotonic()
        if left <= 0 or (poller is not None and not poller.poll(left * 1000)):
            raise InputError(f"{what}: {name} was not complete within {deadline:g} s; gave up")
        try:
            chunk = os.read(fd, min(CHUNK, cap + 1 - total))
        except BlockingIOError:
            continue
        except OSError as exc:
            raise InputError(f"{what}: cannot read {name}: {exc.strerror or exc}") from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > cap:
            raise InputTooLarge(
                f"{what}: {name} is larger than the limit of {cap:,} bytes; refused"
            )


def decode_utf8(data: bytes, *, what: str) -> str:
    """``data`` as UTF-8 text, or `MalformedInput` saying where it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInput(f"{what}: not UTF-8 text (byte {exc.start:,} is invalid)") from None


_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


def json_depth(data: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest, counted without parsing it, in C
    speed string operations: escaped backslashes and quotes are dropped, then every other
    segment between quotes is inside a string. For a text that is not valid JSON the count
    may be off after the first error, where any parser stops anyway."""
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.split(b'"')[::2]).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for char in brackets:
        if char in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json(data: bytes, *, what: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON document, strictly: UTF-8, nested at most ``max_depth`` deep (checked before the
    parser runs), no duplicate member names, no NaN or Infinity, integers of at most 20 digits.
    Anything else raises `MalformedInput`."""
    text = decode_utf8(data, what=what)
    if json_depth(data) > max_depth:
        raise MalformedInput(f"{what}: JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(
            text,
            object_pairs_hook=lambda pairs: _object(pairs, what),
            parse_constant=lambda name: _refuse(f"{what}: {name} is not a JSON number"),
            parse_int=lambda digits: _json_int(digits, what),
        )
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"{what}: not JSON ({exc})") from None
    except RecursionError:  # unreachable after the depth check; kept as a last line
        raise MalformedInput(f"{what}: JSON nested too deeply") from None


def _object(pairs: list[tuple[str, Any]], what: str) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name, value in pairs:
        if name in doc:
            raise MalformedInput(f"{what}: the member {name!r} appears twice in one object")
        doc[name] = value
    return doc


def _json_int(digits: str, what: str) -> int:
    if len(digits.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise MalformedInput(f"{what}: a number of {len(digits):,} digits is too long")
    return int(digits)


def _refuse(message: str) -> Any:
    raise MalformedInput(message)


def parse_decimal(text: str, *, limit: int = MAX_UINT64, canonical: bool = True) -> int | None:
    """The value of ``text`` if it is a decimal of ASCII digits 0-9 only (no sign, space,
    underscore or other script's digits), at most ``limit``, and with ``canonical`` no leading
    zero; else None. Use it wherever untrusted text holds a number."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    if canonical and len(text) > 1 and text[0] == "0":
        return None
    if len(text.lstrip("0")) > len(str(limit)):
        return None  # refused before int() is asked to convert a huge string
    value = int(text)
    return value if value <= limit else None
