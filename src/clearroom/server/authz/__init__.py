"""Authorization: one rule, stored as data (roles → permissions, grants), asked from one place."""

from clearroom.server.authz.permissions import ROLE_PERMISSIONS, Permission
from clearroom.server.authz.rules import (
    Actor,
    active_grant_q,
    may_read_file,
    release_files,
    visible_files,
    visible_releases,
)

__all__ = [
    "ROLE_PERMISSIONS",
    "Actor",
    "Permission",
    "active_grant_q",
    "may_read_file",
    "release_files",
    "visible_files",
    "visible_releases",
]
