from __future__ import annotations

from typing import Any

from huey.contrib.djhuey import db_periodic_task

from kefu.core.schedules import TIERS_RECOMPUTE


@db_periodic_task(TIERS_RECOMPUTE)  # type: ignore[untyped-decorator]
def tiers_recompute_task() -> dict[str, Any]:
    """Nightly tier recompute, with hysteresis (downgrades wait two low quarters). Tiers do not
    follow orders_changed: see kefu.tiering.services."""
    from kefu.tiering.services import tiers_recompute

    return tiers_recompute(hysteresis=True).as_dict()
