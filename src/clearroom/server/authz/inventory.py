"""The route inventory: every URL the service answers, with the permission it declares (see
:mod:`.routes`). The authorization matrix test walks it, and the help page shows it, so a
reader can see what each route asks of whom."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from clearroom.server.authz.routes import Declaration, declaration_of

EXEMPT: dict[str, str] = {
    "admin/login/": "only sends the admin's sign-in to the portal's (lockout, second factor)",
    "admin/": "Django's admin site: centre staff only, checked by Django's own staff login",
    "api/": "the API's root: answers 404 and names nothing",
}
"""Routes without a declaration, and why (``admin/`` with everything under it). Nothing else
may lack one."""


@dataclass(frozen=True)
class Route:
    path: str
    """Django's pattern, for example ``api/products/<org>/<product>``."""
    methods: tuple[str, ...]
    """HTTP methods for an API operation; ``()`` for a portal view (its decorators decide)."""
    view: str
    declaration: Declaration | None
    exempt: str = ""


def routes() -> list[Route]:
    """Each route once (django-ninja repeats a path's pattern for each of its methods)."""
    return list(dict.fromkeys(_walk(get_resolver().url_patterns, "")))


def _walk(patterns: list[Any], prefix: str) -> Iterator[Route]:
    for pattern in patterns:
        path = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            reason = EXEMPT.get(path) if path == "admin/" else None
            if reason is not None:
                yield Route(path, (), path, None, reason)
            else:
                yield from _walk(pattern.url_patterns, path)
            continue
        assert isinstance(pattern, URLPattern)
        if path in EXEMPT:
            yield Route(path, (), path, None, EXEMPT[path])
            continue
        path_view = _ninja_path_view(pattern.callback)
        if path_view is None:
            view = pattern.callback
            name = getattr(view, "__qualname__", repr(view))
            yield Route(path, (), f"{view.__module__}.{name}", declaration_of(view))
            continue
        for operation in path_view.operations:
            declared = [getattr(cb, "declaration", None) for cb in operation.auth_callbacks]
            yield Route(
                path,
                tuple(sorted(operation.methods)),
                f"{operation.view_func.__module__}.{operation.view_func.__qualname__}",
                declared[0] if len(declared) == 1 else None,
            )


def _ninja_path_view(callback: Any) -> Any:
    """The django-ninja PathView behind a URL pattern's view, if it is one."""
    try:
        found = inspect.getclosurevars(callback).nonlocals.get("self")
    except TypeError:
        return None
    return found if hasattr(found, "operations") else None
