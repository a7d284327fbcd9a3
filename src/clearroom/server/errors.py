"""Errors the service layer raises; the API turns each into RFC 9457 problem details with its
status, and the portal into a page. Messages say what is wrong and what to do."""

from __future__ import annotations

from typing import Any

from clearroom.errors import ClearroomError


class ServiceError(ClearroomError):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer must carry besides the problem body."""
        return {}


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class Forbidden(ServiceError):
    status = 403
    title = "Forbidden"


class Unauthenticated(ServiceError):
    status = 401
    title = "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="clearroom"'}


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class Invalid(ServiceError):
    status = 422
    title = "Invalid input"


class TooLarge(ServiceError):
    status = 413
    title = "Content too large"


class Unavailable(ServiceError):
    """The service is healthy but behind (the transparency log's backlog is full): come back
    after ``retry_after`` seconds. Nothing was changed."""

    status = 503
    title = "Service unavailable"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
