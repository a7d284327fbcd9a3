"""Shared reading helpers: strict JSON, typed getters that explain bad input, timestamps."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from packageurl import PackageURL

from .errors import VexError
from .model import ProductRef


def parse_json(data: bytes, subsystem: str = "VEX") -> Any:
    """JSON with duplicate keys and NaN/Infinity refused: both let two readers see two documents."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise VexError(f"{subsystem}: duplicate key {key!r} in a JSON object")
            result[key] = value
        return result

    def constant(name: str) -> Any:
        raise VexError(f"{subsystem}: {name} is not valid JSON")

    try:
        return json.loads(data, object_pairs_hook=pairs, parse_constant=constant)
    except RecursionError:
        raise VexError(f"{subsystem}: JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise VexError(f"{subsystem}: not valid JSON ({error})") from None


class Reader:
    """Typed access to untrusted JSON, gathering warnings; ``fmt`` prefixes every message."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(f"{self.fmt}: {message}")

    def error(self, message: str) -> VexError:
        return VexError(f"{self.fmt}: {message}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(f"{where} must be an object, not {type(value).__name__}")
        return value

    def items(self, parent: dict[str, Any], key: str, where: str) -> list[Any]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(f"{where}.{key} must be a list, not {type(value).__name__}")
        return value

    def text(self, parent: dict[str, Any], key: str, where: str) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(f"{where}.{key} must be a string, not {type(value).__name__}")
        text = str(value).strip()
        return text or None

    def time(self, parent: dict[str, Any], key: str, where: str) -> datetime | None:
        text = self.text(parent, key, where)
        if text is None:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            self.warn(f"{where}.{key} {text!r} is not an ISO 8601 timestamp; ignored")
            return None
        if value.tzinfo is None:
            self.warn(f"{where}.{key} {text!r} has no time zone; read as UTC")
            value = value.replace(tzinfo=UTC)
        return value

    def purl(self, value: str | None, where: str) -> str | None:
        if value is not None:
            try:
                PackageURL.from_string(value)
            except ValueError:
                self.warn(f"{where} {value!r} is not a valid package URL")
        return value


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def merge_products(products: list[ProductRef]) -> tuple[ProductRef, ...]:
    """Products that differ only in their subcomponents become one product listing them all."""
    merged: list[ProductRef] = []
    for product in products:
        for i, seen in enumerate(merged):
            if product.subcomponents and seen.subcomponents and seen.base == product.base:
                subs = seen.subcomponents + tuple(
                    s for s in product.subcomponents if s not in seen.subcomponents
                )
                merged[i] = replace(seen, subcomponents=subs)
                break
        else:
            if product not in merged:
                merged.append(product)
    return tuple(merged)
