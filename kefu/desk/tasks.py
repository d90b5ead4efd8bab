"""Desk jobs in the Huey worker (immediate in tests): load by id, call the service."""

from __future__ import annotations

from typing import Any

from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.core.schedules import TICKETS_RETIER, TICKETS_SLA_CHECK
from kefu.desk.webhooks import MAX_ATTEMPTS


@db_periodic_task(TICKETS_SLA_CHECK)  # type: ignore[untyped-decorator]
def tickets_sla_check_task() -> dict[str, Any]:
    """Every minute: warn at 80 %, breach → supervisor, 2 × target → manager (idempotent)."""
    from kefu.desk.escalation import tickets_sla_check

    return tickets_sla_check()


@db_periodic_task(TICKETS_RETIER)  # type: ignore[untyped-decorator]
def tickets_retier_task() -> int:
    """After the nightly tier recompute: open tickets take their customer's new tier's SLA."""
    from kefu.desk.services import tickets_retier

    return tickets_retier()


# Huey retries a failed delivery with exponential backoff: 30 s, 60 s, 120 s, …
@db_task(retries=MAX_ATTEMPTS - 1, retry_delay=30, retry_backoff=2)  # type: ignore[untyped-decorator]
def webhook_deliver_task(delivery_id: int) -> str:
    from kefu.desk.webhooks import webhook_deliver

    return webhook_deliver(delivery_id)
