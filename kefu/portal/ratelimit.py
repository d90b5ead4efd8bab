"""A per-address rate limit for the public pages (KEFU_PORTAL_RATE, e.g. "5/h").

A fixed window counted in Django's cache: ``cache.add`` then ``cache.incr`` are atomic on
Redis and within one process on the local-memory cache. Without Redis every web process
counts on its own, so the effective limit is the rate times the number of processes; with
KEFU_REDIS_URL it is exact. (django-ratelimit does the same thing but refuses to start on the
local-memory cache, which is the default here.)
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.core.cache import cache

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


def parse_rate(rate: str) -> tuple[int, int]:
    """ "5/h" → (5, 3600); "10/15m" → (10, 900). ValueError for anything else."""
    match = _RATE.match(rate or "")
    if match is None:
        raise ValueError(f"invalid rate {rate!r}: use N/s, N/m, N/h, N/d or N/<k><unit>")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNITS[unit]


def rate_exceeded(*, scope: str, address: str | None, rate: str | None = None) -> bool:
    """Count one request from ``address`` under ``scope``; True when it is over the limit."""
    limit, period = parse_rate(rate or settings.PORTAL_RATE)
    window = int(time.time() // period)
    key = f"kefu:portal:rate:{scope}:{address or '-'}:{window}"
    cache.add(key, 0, timeout=period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=period + 5)
        count = 1
    return int(count) > limit
