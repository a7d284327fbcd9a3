"""The JSON API (django-ninja). OpenAPI at ``/api/openapi.json``, interactive docs at
``/api/docs``. Errors are RFC 9457 problem details."""

from ninja import NinjaAPI

from clearroom import __version__
from clearroom.server.api import (
    attestations,
    audit,
    bodies,
    catalog,
    collaboration,
    files,
    log,
    notifications,
    problems,
    standards,
    vulnerabilities,
)
from clearroom.server.authz.permissions import Permission
from clearroom.server.authz.routes import allow

api = NinjaAPI(
    title="Clearroom API",
    version=__version__,
    description=(
        "Publish what you ship and verify what others published. Reads are public for published"
        " releases; writes need an API token (`Authorization: Bearer clr_…`)."
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs_decorator=allow(Permission.PUBLIC_READ),
    parser=bodies.TextOnlyJsonParser(),
)
problems.install(api)
api.add_router("", catalog.router)
api.add_router("", files.router)
api.add_router("", log.router)
api.add_router("", attestations.router)
api.add_router("", vulnerabilities.router)
api.add_router("", audit.router)
api.add_router("", collaboration.router)
api.add_router("", notifications.router)
api.add_router("", standards.router)

__all__ = ["api"]
