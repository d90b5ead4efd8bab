"""Sweepers of messages stuck on their way out (customer notices, mail replies): each context
that sends registers one here, and the periodic task ``notices_sweep_task`` and the command
``kefu sweep_notices`` run them all. A registry, so that core imports none of them.

A sweeper takes the moment to judge staleness by and answers counts ({"requeued": 1, ...}).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

Sweeper = Callable[[datetime], dict[str, int]]

_sweepers: dict[str, Sweeper] = {}


def register_sweeper(name: str, sweeper: Sweeper) -> None:
    """Register in ``AppConfig.ready``; a second registration under one name replaces the
    first (``ready`` may run twice in tests)."""
    _sweepers[name] = sweeper


def sweep_all(now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Run every sweeper once; {name: counts}."""
    now = now or timezone.now()
    return {name: sweeper(now) for name, sweeper in sorted(_sweepers.items())}
