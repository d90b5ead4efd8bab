"""Work order jobs in the Huey worker (immediate in tests)."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task

from kefu.core.schedules import WORKORDERS_OVERDUE_CHECK


@db_periodic_task(WORKORDERS_OVERDUE_CHECK)  # type: ignore[untyped-decorator]
def workorders_overdue_check_task() -> int:
    """Every five minutes: announce each open work order past its deadline, once."""
    from kefu.dispatch.services import workorders_overdue_notify

    return workorders_overdue_notify()
