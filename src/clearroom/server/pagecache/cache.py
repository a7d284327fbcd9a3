"""Copies of anonymous GET answers, in each process's memory, least recently used out first.

Each process keeps its own copies (no shared cache to run or to trust); they stay correct
across processes and machines because every copy is filed under the database's generation.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers

from clearroom.server.ops.metrics import PAGE_CACHE
from clearroom.server.pagecache.generation import current

MiB = 1024 * 1024
_OWN_HEADER = "cache-status"
"""Set on every answer by :func:`anonymous_cache` itself, so not kept with a copy."""

View = TypeVar("View", bound=Callable[..., Any])
Key = tuple[int, str, str]


@dataclass(frozen=True)
class Page:
    content: bytes
    headers: tuple[tuple[str, str], ...]
    made: float
    """``time.monotonic()`` when rendered."""

    @property
    def size(self) -> int:
        return len(self.content) + sum(len(k) + len(v) for k, v in self.headers) + 200

    def response(self) -> HttpResponse:
        return HttpResponse(self.content, headers=dict(self.headers))


class PageCache:
    """At most ``budget`` bytes of pages, each served for at most ``max_age`` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: OrderedDict[Key, Page] = OrderedDict()
        self._size = 0

    def get(self, key: Key, max_age: float) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if time.monotonic() - page.made > max_age:
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: Key, page: Page, budget: int) -> None:
        if page.size > budget // 16:  # one huge page must not push out everything else
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = page
            self._size += page.size
            while self._size > budget:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._size = 0

    def _drop(self, key: Key) -> None:
        self._size -= self._pages.pop(key).size


PAGES = PageCache()


def _anonymous_get(request: HttpRequest) -> bool:
    """No credentials and no cookie but the CSRF one: the answer is everyone's answer."""
    return (
        request.method == "GET"
        and "authorization" not in request.headers
        and all(name == settings.CSRF_COOKIE_NAME for name in request.COOKIES)
    )


def _storable(response: HttpResponseBase, request: HttpRequest) -> TypeGuard[HttpResponse]:
    control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and isinstance(response, HttpResponse)
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # the page holds a CSRF token
        and "no-store" not in control
        and "private" not in control
    )


def anonymous_cache(view: View) -> View:
    """Serve ``view``'s answers to anonymous GETs from the cache while the generation and
    ``page_cache_seconds`` allow; everyone else, and every non-200 answer, goes to ``view``.
    The answer says which in an RFC 9211 ``Cache-Status`` header."""

    @functools.wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        config = settings.CONFIG
        budget = config.page_cache_mb * MiB
        generation = current() if budget and _anonymous_get(request) else None
        response: HttpResponseBase
        if generation is None:
            response = view(request, *args, **kwargs)
            status = "fwd=bypass"
        else:
            key = (generation, request.get_full_path(), request.headers.get("Accept", ""))
            page = PAGES.get(key, config.page_cache_seconds)
            if page is not None:
                response, status = page.response(), "hit"
            else:
                response, status = view(request, *args, **kwargs), "fwd=uri-miss"
                if _storable(response, request):
                    kept = tuple(
                        (k, v) for k, v in response.headers.items() if k.lower() != _OWN_HEADER
                    )
                    PAGES.put(key, Page(response.content, kept, time.monotonic()), budget)
                    status += "; stored"
        PAGE_CACHE.labels(status.split(";")[0]).inc()
        response["Cache-Status"] = f"clearroom; {status}"
        patch_vary_headers(response, ("Cookie", "Authorization"))
        return response

    return answer  # type: ignore[return-value]
