"""``/.well-known/csaf/…`` (CSAF 2.0 provider: metadata, the TLP:WHITE folder with index.txt,
changes.csv, documents, hashes and signatures, the OpenPGP key) and ``/.well-known/security.txt``
(RFC 9116). All public, all plain files to a consumer; the TLP folder and its year folders
answer with an HTML directory listing (CSAF 2.0 requirement 14, section 7.1.14)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_safe

from clearroom.server.authz.permissions import Permission
from clearroom.server.authz.routes import allow
from clearroom.server.csaf import provider, signing

public = allow(Permission.PUBLIC_READ)


def _base() -> str:
    return settings.CONFIG.base_url.rstrip("/")


def _text(body: str | bytes, content_type: str = "text/plain; charset=utf-8") -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
@public
def provider_metadata(request: HttpRequest) -> JsonResponse:
    found = provider.advisories()
    fingerprint = signing.fingerprint()
    updated = found[0].current_release_date if found else timezone.now().isoformat()
    metadata = {
        "canonical_url": _base() + reverse("csaf-provider"),
        "distributions": [{"directory_url": provider.url()}],
        "last_updated": updated,
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "public_openpgp_keys": [
            {
                "fingerprint": fingerprint,
                "url": _base() + reverse("csaf-key", args=[fingerprint]),
            }
        ],
        "publisher": {
            "category": "coordinator",
            "name": settings.CONFIG.centre_name,
            "namespace": _base(),
        },
        "role": "csaf_trusted_provider",
    }
    response = JsonResponse(metadata, json_dumps_params={"indent": 2})
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
@public
def openpgp_key(request: HttpRequest, fingerprint: str) -> HttpResponse:
    if fingerprint != signing.fingerprint():
        raise Http404("no such key")
    return _text(signing.public_key(), "application/pgp-keys")


@require_safe
@public
def folder_file(request: HttpRequest, tlp: str, name: str) -> HttpResponse:
    if tlp != provider.TLP_FOLDER:
        raise Http404("the centre publishes TLP:WHITE (TLP:CLEAR) documents only")
    found = provider.advisories()
    years = {a.path.split("/", 1)[0] for a in found}
    if name == "":
        return _listing(request.path, ["changes.csv", "index.txt", *(f"{y}/" for y in years)])
    if name.endswith("/") and name[:-1] in years:
        files = [a.path.split("/", 1)[1] for a in found if a.path.startswith(name)]
        suffixes = ("", ".asc", ".sha256", ".sha512")
        return _listing(request.path, [f + s for f in files for s in suffixes])
    if name in years:
        return HttpResponsePermanentRedirect(request.path + "/")
    if name == "index.txt":
        return _text("".join(f"{a.path}\n" for a in found))
    if name == "changes.csv":
        return _text("".join(f'"{a.path}","{a.current_release_date}"\n' for a in found), "text/csv")
    stem, _, suffix = name.rpartition(".json")
    wanted = name if not suffix else stem + ".json"
    advisory = next((a for a in found if a.path == wanted), None)
    if advisory is None:
        raise Http404("no such CSAF document")
    leaf = wanted.rsplit("/", 1)[-1]
    if suffix == ".sha256":
        return _text(f"{advisory.sha256}  {leaf}\n")
    if suffix == ".sha512":
        return _text(f"{hashlib.sha512(advisory.body).hexdigest()}  {leaf}\n")
    if suffix == ".asc":
        return _text(signing.sign(advisory.body, advisory.sha256), "application/pgp-signature")
    if suffix:
        raise Http404("no such file")
    response = HttpResponse(advisory.body, content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _listing(path: str, entries: list[str]) -> HttpResponse:
    """An HTML directory listing of ``entries`` (names relative to ``path``), sorted."""
    items = format_html_join(
        "\n", '<li><a href="{}">{}</a></li>', ((e, e) for e in sorted(entries))
    )
    page = format_html(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Index of {}'
        "</title></head>\n<body><h1>Index of {}</h1>\n<ul>\n"
        '<li><a href="../">../</a></li>\n{}\n</ul></body></html>\n',
        path,
        path,
        items,
    )
    return _text(page, "text/html; charset=utf-8")


@require_safe
@public
def security_txt(request: HttpRequest) -> HttpResponse:
    config = settings.CONFIG
    expires = (timezone.now() + timedelta(days=180)).replace(microsecond=0)
    lines = [
        f"Contact: {config.security_contact}",
        f"Expires: {expires.isoformat().replace('+00:00', 'Z')}",
        "Preferred-Languages: en",
        f"Canonical: {_base()}{reverse('security-txt')}",
        f"Policy: {_base()}{reverse('portal:help')}#security",
        f"CSAF: {_base()}{reverse('csaf-provider')}",
    ]
    return _text("\n".join(lines) + "\n")
