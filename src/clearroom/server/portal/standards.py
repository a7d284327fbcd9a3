"""A control catalogue's page: its controls, grouped as published, with the OSCAL document to
download and the logged fact that fixes its digest."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clearroom.server.authz import Permission
from clearroom.server.authz.routes import allow, authorized
from clearroom.server.pagecache.cache import anonymous_cache
from clearroom.server.portal.errors import portal_view
from clearroom.server.standards import services


@require_GET
@anonymous_cache
@portal_view()
@allow(Permission.PUBLIC_READ, "organisation")
def catalogue(request: HttpRequest, org: str, slug: str, version: str) -> HttpResponse:
    organisation = authorized(request).resource.organisation
    found = services.get(organisation, slug, version)
    names = {"org": org, "slug": slug, "version": version}
    context = {
        "organisation": organisation,
        "catalogue": found,
        "controls": found.controls.all(),
        "versions": services.catalogues(organisation).filter(slug=slug),
        "api_url": reverse("api:catalogue", kwargs=names),
        "oscal_url": reverse("api:catalogue-oscal", kwargs=names),
    }
    return render(request, "portal/catalogue.html", context)
