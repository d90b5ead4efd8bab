"""Core jobs in the Huey worker (immediate in tests)."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task

from kefu.core.schedules import DATABASE_ANALYZE, NOTICES_SWEEP


@db_periodic_task(NOTICES_SWEEP)  # type: ignore[untyped-decorator]
def notices_sweep_task() -> dict[str, dict[str, int]]:
    """Every minute: messages stuck in "sending" after a worker died go back to the queue (or
    are given up after their last attempt); see kefu.core.sweeps."""
    from kefu.core.sweeps import sweep_all

    return sweep_all()


@db_periodic_task(DATABASE_ANALYZE)  # type: ignore[untyped-decorator]
def database_analyze_task() -> str:
    """Nightly: the query planner's statistics on SQLite (kefu.core.statistics)."""
    from kefu.core.statistics import planner_statistics_refresh

    return planner_statistics_refresh()
