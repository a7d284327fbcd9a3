"""URL map: the portal at ``/``, the JSON API at ``/api/``, the operators' admin at ``/admin/``,
the transparency log's static files at ``/log/`` (its page is the portal's ``/log/``), and the
operational endpoints."""

from django.contrib import admin
from django.urls import include, path

from clearroom.server.api import api
from clearroom.server.ops import views as ops

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("healthz", ops.health, name="health"),
    path("metrics", ops.metrics, name="metrics"),
    path("log/", include("clearroom.server.transparency.urls")),
    path(".well-known/", include("clearroom.server.csaf.urls")),
    path("", include("clearroom.server.portal.urls")),
]

handler404 = "clearroom.server.ops.errors.not_found"
handler500 = "clearroom.server.ops.errors.server_error"
