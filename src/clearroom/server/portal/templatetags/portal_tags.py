"""Template filters for presenting facts: file sizes in IEC units and in exact bytes."""

from __future__ import annotations

from django import template

register = template.Library()
UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


@register.filter
def human_size(size: int) -> str:
    """``1536`` → ``1.5 KiB``; sizes under 1 KiB in bytes."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in UNITS:
        value /= 1024
        if value < 1024 or unit == UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


@register.filter
def exact_bytes(size: int) -> str:
    """``1536`` → ``1,536 bytes``."""
    return "1 byte" if size == 1 else f"{size:,} bytes"
