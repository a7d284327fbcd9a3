"""The centre operators' admin for organisations, people and tokens."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from clearroom.server.accounts.models import ApiToken, Membership, Organisation, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(User)
class ClearroomUserAdmin(UserAdmin):
    search_fields = ["username", "email", "first_name", "last_name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their users; operators can see and revoke them, never read secrets."""

    list_display = [
        "name",
        "key_id",
        "user",
        "organisation",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["organisation"]
    readonly_fields = [
        "key_id",
        "user",
        "organisation",
        "product",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
    ]
    fields = [*readonly_fields, "name", "revoked_at"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
