"""The centre operators' admin for the catalogue. Releases and files are facts: the admin shows
them but does not let anyone rewrite digests."""

from django.contrib import admin

from clearroom.server.catalog.models import AccessGrant, Artifact, Document, Product, Release

FILE_FIELDS = [
    "release",
    "name",
    "media_type",
    "size",
    "sha256",
    "sha512",
    "confidentiality",
    "uploaded_by",
    "created_at",
]


class FactAdmin(admin.ModelAdmin):
    """Releases and their files are facts others rely on: withdraw a release, never delete."""

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "category", "created_at"]
    list_filter = ["category"]
    search_fields = ["name", "slug", "vendor__name"]


@admin.register(Release)
class ReleaseAdmin(FactAdmin):
    list_display = ["product", "version", "state", "published_at", "support_until"]
    list_filter = ["state"]
    search_fields = ["version", "product__name"]
    readonly_fields = [
        "product",
        "version",
        "state",
        "created_at",
        "created_by",
        "published_at",
        "withdrawn_at",
    ]


@admin.register(Artifact)
class ArtifactAdmin(FactAdmin):
    list_display = ["name", "release", "size", "confidentiality", "sha256"]
    search_fields = ["name", "sha256"]
    readonly_fields = FILE_FIELDS


@admin.register(Document)
class DocumentAdmin(FactAdmin):
    list_display = ["name", "kind", "release", "size", "confidentiality", "sha256"]
    list_filter = ["kind"]
    search_fields = ["name", "sha256"]
    readonly_fields = [*FILE_FIELDS, "kind"]


@admin.register(AccessGrant)
class AccessGrantAdmin(admin.ModelAdmin):
    list_display = ["product", "grantee", "created_at", "expires_at", "revoked_at"]
