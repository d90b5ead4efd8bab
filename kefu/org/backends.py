"""Django's ModelBackend with each user's permission sets cached across requests.

Every API call checks a few permissions; ModelBackend loads them with two joined queries per
request (it caches them on the user object only, and the user is loaded anew each request).
Here the two sets are cached under the "perms" version token of kefu.core.versioned, which any
change to roles bumps (a user's groups or own permissions, a group's permissions, a group or
permission deleted: see ``bump_permissions_version``), so a change takes effect on the next
request. The data scopes (kefu.org.access) are cached under the same token.

With Redis (KEFU_REDIS_URL) the token is shared by every process. Without it each process has
its own memory cache, so another process sees a change only when its copy expires:
``LOCAL_TTL`` seconds. Inactive users get nothing, as in ModelBackend.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from kefu.core import versioned
from kefu.core.versioned import LOCAL_TTL, SHARED_TTL

__all__ = [
    "LOCAL_TTL",
    "SHARED_TTL",
    "CachedModelBackend",
    "bump_permissions_version",
    "permissions_ttl",
    "permissions_version",
]


def permissions_ttl() -> int:
    return versioned.copy_ttl()


def permissions_version() -> str:
    """The token the permission data is cached under (read once per request)."""
    return versioned.token("perms")


def bump_permissions_version(**kwargs: Any) -> None:
    """Signal receiver: roles changed somewhere; every cached permission set is stale."""
    versioned.bump("perms")


class CachedModelBackend(ModelBackend):
    def _get_permissions(self, user_obj: Any, obj: Any, from_name: str) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        attribute = f"_{from_name}_perm_cache"  # ModelBackend's per-object cache, kept
        if hasattr(user_obj, attribute):
            return set(getattr(user_obj, attribute))
        perms = versioned.cached(
            "perms",
            f"{from_name}:{user_obj.pk}",
            lambda: super(CachedModelBackend, self)._get_permissions(user_obj, obj, from_name),  # type: ignore[misc]
        )
        setattr(user_obj, attribute, perms)
        return set(perms)
