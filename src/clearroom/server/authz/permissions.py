"""The actions a person or token may be allowed, named ``<resource>:<action>`` — the same
grammar as audit event tags and API token scopes."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    ORGANISATION_MANAGE = "organisation:manage"
    """Change memberships and API tokens of the organisation."""
    PRODUCT_WRITE = "product:write"
    """Create products and edit their description."""
    RELEASE_WRITE = "release:write"
    """Create draft releases and upload their artifacts and documents."""
    RELEASE_PUBLISH = "release:publish"
    """Publish or withdraw a release."""
    CONFIDENTIAL_READ = "confidential:read"
    """Download confidential artifacts and documents."""
    KEYS_MANAGE = "keys:manage"
    """Register the organisation's signing keys (the centre countersigns) and revoke them."""


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "owner": frozenset(Permission),
    "maintainer": frozenset(
        {
            Permission.PRODUCT_WRITE,
            Permission.RELEASE_WRITE,
            Permission.RELEASE_PUBLISH,
            Permission.CONFIDENTIAL_READ,
        }
    ),
    "expert": frozenset({Permission.CONFIDENTIAL_READ}),
    "evaluator": frozenset({Permission.CONFIDENTIAL_READ}),
    "viewer": frozenset({Permission.CONFIDENTIAL_READ}),
}
