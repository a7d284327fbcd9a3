"""URL map: the portal at ``/``, the JSON API at ``/api/``, the operators' admin at ``/admin/``,
the transparency log's static files at ``/log/`` (its page is the portal's ``/log/``), and the
operational endpoints."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe

from clearroom.server.api import api
from clearroom.server.ops import views as ops


@require_safe
def _admin_login(request: HttpRequest) -> HttpResponse:
    """The admin site signs in through the portal, so its lockout and second factor apply to
    the centre's staff too (Django's own admin login has neither)."""
    target = request.GET.get("next", "/admin/")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()})
    return redirect_to_login(target if safe else "/admin/", login_url=reverse("portal:login"))


urlpatterns = [
    path("admin/login/", _admin_login),
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
