"""A small client for Clearroom's JSON API that turns problem details into readable errors."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from clearroom.errors import ClearroomError

CHUNK = 1 << 20


class ApiError(ClearroomError):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"server: {title} ({status}): {detail}")
        self.status = status


class Client:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api",
            headers=headers,
            timeout=httpx.Timeout(timeout, write=None, read=None),
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check(self, response: httpx.Response) -> Any:
        if response.is_success:
            return response.json() if response.content else None
        try:
            body = response.json()
            title, detail = body.get("title", "error"), body.get("detail", response.text)
        except ValueError:
            title, detail = response.reason_phrase, response.text[:200]
        raise ApiError(response.status_code, title, detail)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self._check(self.http.request(method, path, **kwargs))
        except httpx.TransportError as exc:
            raise ClearroomError(
                f"client: cannot reach {self.http.base_url}: {exc}; is the server running?"
            ) from None

    def get_or_none(self, path: str) -> Any:
        try:
            return self.request("GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def upload(
        self,
        release_path: str,
        collection: str,
        path: Path,
        *,
        sha256: str,
        params: dict[str, str],
        on_progress: Callable[[int], None] | None = None,
    ) -> Any:
        """PUT the file's bytes, streamed, declaring their SHA-256 (RFC 9530 Content-Digest)."""

        def body() -> Iterator[bytes]:
            with path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    if on_progress:
                        on_progress(len(chunk))
                    yield chunk

        digest = base64.b64encode(bytes.fromhex(sha256)).decode()
        return self.request(
            "PUT",
            f"{release_path}/{collection}/{quote(path.name, safe='')}",
            params=params,
            content=body(),
            headers={
                "Content-Digest": f"sha-256=:{digest}:",
                "Content-Length": str(path.stat().st_size),
                "Content-Type": "application/octet-stream",
            },
        )
