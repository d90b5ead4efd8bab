"""Dashboard jobs in the Huey worker (immediate in tests)."""

from __future__ import annotations

from django.conf import settings
from huey.contrib.djhuey import db_periodic_task

from kefu.core.schedules import DASHBOARD_KPIS_WARM


@db_periodic_task(DASHBOARD_KPIS_WARM)  # type: ignore[untyped-decorator]
def dashboard_kpis_warm_task() -> int:
    """Every minute: the KPI cards of the centre and of each team, today and this week, into the
    cache the web processes read. A per-process cache (no Redis) is not theirs: skip."""
    if "locmem" in settings.CACHES["default"]["BACKEND"].lower():
        return 0
    from kefu.dashboard.selectors import dashboard_kpis_warm

    return dashboard_kpis_warm()
