"""Mail jobs in the Huey worker (immediate in tests): load by id, call the service."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.core.schedules import MAIL_FETCH

SEND_RETRIES = 7  # with retry_delay 30 s and backoff ×2: about an hour in all


@db_periodic_task(MAIL_FETCH)  # type: ignore[untyped-decorator]
def mail_fetch_task() -> dict[str, int]:
    """Every minute: new mail from the IMAP mailbox, failed messages retried (does nothing
    without KEFU_MAIL_IMAP_HOST). Lost replies are the sweeper's (kefu sweep_notices)."""
    from kefu.mail.fetch import mail_fetch

    return mail_fetch()


@db_task(retries=SEND_RETRIES, retry_delay=30, retry_backoff=2)  # type: ignore[untyped-decorator]
def outbound_send_task(outbound_id: int) -> str:
    from kefu.mail.services import outbound_send

    return outbound_send(outbound_id)
