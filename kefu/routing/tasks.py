"""Routing jobs in the Huey worker (immediate in tests): each calls a service."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task

from kefu.core.schedules import PRESENCE_EXPIRE


@db_periodic_task(PRESENCE_EXPIRE)  # type: ignore[untyped-decorator]
def presence_expire_task() -> int:
    """Every minute: online and busy agents not seen for KEFU_PRESENCE_TIMEOUT_MINUTES go
    offline ("超时自动下线")."""
    from kefu.routing.services import presence_expire

    return presence_expire()
