"""Portal jobs in the Huey worker (immediate in tests): load by id, call the service."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

NOTICE_RETRIES = 6  # 1, 2, 4, 8, 16, 32 minutes: about an hour of SMS gateway or SMTP outage


@db_task(retries=NOTICE_RETRIES, retry_delay=60, retry_backoff=2)  # type: ignore[untyped-decorator]
def notices_send_task(ticket_id: int, kind: str, token: str = "", round: int = 0) -> dict[str, str]:
    """Send the ticket's notices of ``kind`` and ``round``; rows already sent are skipped, so
    a retry never sends twice. The status link's token travels only in the task's arguments."""
    from kefu.portal.notices import notices_send

    return notices_send(ticket_id=ticket_id, kind=kind, token=token, round=round)
