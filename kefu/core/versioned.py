"""Per-process copies of rarely changing data, kept fresh by version tokens in the shared cache.

Permission sets, data scopes, routing rules, webhook subscriptions and API tokens are read on
nearly every request and change a few times a day. Each kind is cached under a *version
token* kept in Django's cache (Redis in production, shared by every process): whatever changes
the data bumps its token, and a copy made under an older token is never used again.

A request reads every token in one round trip, the first time it needs one (the request's memo,
``kefu.core.context.request_memo``); the copies this process holds under those tokens then cost
nothing. So a change anywhere takes effect on the next request everywhere, for one cache read
per request. Jobs and commands have no memo: they read the tokens on each use.

Without Redis each process has its own cache and its own tokens: a change made in another
process reaches this one when its copy expires, ``LOCAL_TTL`` seconds at most.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from kefu.core.context import request_memo

T = TypeVar("T")

TOKENS = {
    "perms": "kefu:perms:version",  # roles, memberships, teams, departments (kefu.org.apps)
    "rules": "kefu:routing:rules:version",  # routing rules, skills, teams (kefu.routing.apps)
    "webhooks": "kefu:desk:webhooks:version",  # webhook subscriptions (kefu.desk.apps)
    "users": "kefu:users:version",  # users and API tokens (kefu.api.apps, kefu.api.tokens)
}
LOCAL_TTL = 30  # seconds: the most a change can lag in another process, without Redis
SHARED_TTL = 600  # with Redis: a copy is dropped after this even if nothing changed
_MEMO_KEY = "kefu:versions"
_LOCAL_MAX = 10_000  # copies per process before they are all dropped (a bound, not a tuning)
_MISSING = object()

# (kind, token, key) -> (made at, value); one dict per process, shared by its threads
_local: dict[tuple[str, str, str], tuple[float, Any]] = {}


def copy_ttl() -> int:
    """How long a copy lives: short when the cache is this process's own memory."""
    backend = settings.CACHES["default"]["BACKEND"]
    return LOCAL_TTL if backend.endswith("LocMemCache") else SHARED_TTL


def tokens() -> dict[str, str]:
    """Every kind's current token: once per request, afresh outside requests."""
    memo = request_memo()
    if memo is not None:
        found: dict[str, str] | None = memo.get(_MEMO_KEY)
        if found is not None:
            return found
    found = _read_tokens()
    if memo is not None:
        memo[_MEMO_KEY] = found
    return found


def token(kind: str) -> str:
    return tokens()[kind]


def _read_tokens() -> dict[str, str]:
    keys = list(TOKENS.values())
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        # A random token, not a counter: after a cache flush the new token differs from every
        # one a process made copies under. add(): a concurrent first reader's token wins.
        for key in missing:
            cache.add(key, uuid.uuid4().hex, timeout=None)
        found.update(cache.get_many(missing))
    return {kind: str(found.get(key, "")) for kind, key in TOKENS.items()}


def bump(kind: str) -> None:
    """The data behind ``kind`` changed: every copy made under the old token is stale.

    Bumped now (this transaction reads its own change at once) and again when it commits (a
    process that read the old rows between the two made its copy under the first new token)."""

    def renew() -> None:
        cache.set(TOKENS[kind], uuid.uuid4().hex, timeout=None)
        memo = request_memo()
        if memo is not None:
            memo.pop(_MEMO_KEY, None)

    renew()
    transaction.on_commit(renew)


def cached(kind: str, key: str, compute: Callable[[], T], *, shared: bool = True) -> T:
    """``compute()`` under the current token of ``kind``: this process's copy, else the shared
    cache's (``shared``), else computed and kept in both."""
    version = token(kind)
    local_key = (kind, version, key)
    now = time.monotonic()
    ttl = copy_ttl()
    hit = _local.get(local_key)
    if hit is not None and now - hit[0] < ttl:
        value: T = hit[1]
        return value
    shared_key = f"kefu:v:{kind}:{version}:{key}"
    found = cache.get(shared_key, _MISSING) if shared else _MISSING
    if found is _MISSING:
        value = compute()
        if shared:
            cache.set(shared_key, value, timeout=ttl)
    else:
        value = found  # type: ignore[assignment]
    if len(_local) >= _LOCAL_MAX:
        _local.clear()
    _local[local_key] = (now, value)
    return value


def forget_local() -> None:
    """Drop this process's copies (tests, after the shared cache is cleared)."""
    _local.clear()
