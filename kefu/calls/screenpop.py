"""Screen pop signalling through the cache: the event handler sets one key per agent, the
browser's poll (every 500 ms, SCREEN_POP_POLL_MS) reads it. Nothing touches the database until
there is a new call.

The "calls" cache alias is shared by every process (Redis when KEFU_REDIS_URL is set, otherwise
files under var/): the event can arrive at one gunicorn worker and the poll at another.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches

POP_TTL = 30 * 60  # a ringing call that never hangs up (lost event) stops popping after this
LINE_TTL = 10 * 60


def pop_cache() -> BaseCache:
    return caches["calls"] if "calls" in settings.CACHES else caches["default"]


def _pop_key(user_id: int) -> str:
    return f"kefu:calls:pop:{user_id}"


def _line_key(user_id: int) -> str:
    return f"kefu:calls:line:{user_id}"


def pop_set(*, user_id: int, call_pk: int) -> None:
    pop_cache().set(_pop_key(user_id), str(call_pk), timeout=POP_TTL)


def pop_clear(*, user_id: int, call_pk: int) -> None:
    """Clear the agent's pop if it still shows this call (a newer call keeps its pop)."""
    cache = pop_cache()
    if cache.get(_pop_key(user_id)) == str(call_pk):
        cache.delete(_pop_key(user_id))


def pop_token(*, user_id: int) -> str | None:
    value: Any = pop_cache().get(_pop_key(user_id))
    return value if isinstance(value, str) else None


def line_cached(user_id: int) -> bool | None:
    value: Any = pop_cache().get(_line_key(user_id))
    return value if isinstance(value, bool) else None


def line_remember(user_id: int, has_line: bool) -> None:
    pop_cache().set(_line_key(user_id), has_line, timeout=LINE_TTL)


def line_forget(user_id: int) -> None:
    pop_cache().delete(_line_key(user_id))
