"""Django's ModelBackend with each user's permission sets cached across requests.

Every API call checks a few permissions; ModelBackend loads them with two joined queries per
request (it caches them on the user object only, and the user is loaded anew each request).
Here the two sets are kept in Django's cache under a version number that any change to roles
bumps (a user's groups or own permissions, a group's permissions, a group or permission
deleted: see ``bump_permissions_version``), so a change takes effect on the next request.

With Redis (KEFU_REDIS_URL) the cache and its version are shared by every process. Without it
each process has its own memory cache, so another process sees a change only when its entry
expires: ``LOCAL_TTL`` seconds. Inactive users get nothing, as in ModelBackend.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from kefu.core.context import request_memo

VERSION_KEY = "kefu:perms:version"
LOCAL_TTL = 30  # seconds: the most a permission change can lag in another process, without Redis
SHARED_TTL = 600


def permissions_ttl() -> int:
    backend = settings.CACHES["default"]["BACKEND"]
    return LOCAL_TTL if backend.endswith("LocMemCache") else SHARED_TTL


def permissions_version() -> int:
    """The version the cached permission data is kept under: read once per request (the
    request's memo), afresh in jobs and commands."""
    memo = request_memo()
    if memo is not None and VERSION_KEY in memo:
        return int(memo[VERSION_KEY])
    version = cache.get(VERSION_KEY)
    if version is None:
        version = 1
        cache.add(VERSION_KEY, version, timeout=None)
    if memo is not None:
        memo[VERSION_KEY] = version
    return int(version)


def bump_permissions_version(**kwargs: Any) -> None:
    """Signal receiver: roles changed somewhere; every cached permission set is stale."""
    memo = request_memo()
    if memo is not None:
        memo.pop(VERSION_KEY, None)  # this request reads the new version too
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value invalidates the old keys
        cache.set(VERSION_KEY, 2, timeout=None)


class CachedModelBackend(ModelBackend):
    def _get_permissions(self, user_obj: Any, obj: Any, from_name: str) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        attribute = f"_{from_name}_perm_cache"  # ModelBackend's per-object cache, kept
        if hasattr(user_obj, attribute):
            return set(getattr(user_obj, attribute))
        # Both sets in one round trip: a permission check asks for the user's and the groups'.
        version = permissions_version()
        keys = {name: f"kefu:perms:{version}:{name}:{user_obj.pk}" for name in ("user", "group")}
        found = cache.get_many(list(keys.values()))
        for name, key in keys.items():
            if key in found and not hasattr(user_obj, f"_{name}_perm_cache"):
                setattr(user_obj, f"_{name}_perm_cache", found[key])
        perms = found.get(keys[from_name]) if from_name in keys else None
        if perms is None:
            perms = super()._get_permissions(user_obj, obj, from_name)  # type: ignore[misc]
            cache.set(f"kefu:perms:{version}:{from_name}:{user_obj.pk}", perms, permissions_ttl())
        setattr(user_obj, attribute, perms)
        return set(perms)
