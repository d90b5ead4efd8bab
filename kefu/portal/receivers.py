"""What the portal does when the desk creates or moves a ticket (kefu.desk.signals)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from kefu.desk.models import Ticket
from kefu.desk.workflow import machine_for
from kefu.portal.models import CustomerNotice

# A ticket recorded long after the fact (the demo seeder's year, an import) gets no message:
# telling a customer today that last spring's ticket was registered helps nobody.
NOTICE_STALE_AFTER = timedelta(hours=24)


def _stale(moment: datetime | None) -> bool:
    return moment is not None and timezone.now() - moment > NOTICE_STALE_AFTER


def on_ticket_created(sender: Any, ticket: Ticket, actor: Any = None, **kwargs: Any) -> None:
    """Every ticket, whatever its channel, gets its status link in the create's own
    transaction (one INSERT: a new ticket has no link to revoke), and the "registered" notice
    carrying it is queued once the create commits (sending talks to the outside world).
    ``robust``: a failure to queue is logged and never turns the committed create into an
    error; the notice row, not the queue, is what makes a retry safe."""
    from kefu.portal.services import TOKEN_ATTRIBUTE, access_issue

    token, _revoked = access_issue(ticket=ticket, fresh=True)
    setattr(ticket, TOKEN_ATTRIBUTE, token)
    if not _stale(ticket.created_at):
        transaction.on_commit(partial(_after_create, ticket.pk, token), robust=True)


def _after_create(ticket_id: int, token: str) -> None:
    from kefu.portal.tasks import notices_send_task

    notices_send_task(ticket_id, CustomerNotice.Kind.REGISTERED.value, token)


def on_ticket_transitioned(
    sender: Any, ticket: Ticket, source: str, to: str, **kwargs: Any
) -> None:
    """The status entered the lifecycle's resolved set: tell the customer, once per round. The
    round is the ticket's reopen count, so a reopened ticket resolved again is announced again
    (its notice says so), while the same transition's signal or task run twice finds the same
    (ticket, kind, round) rows and sends nothing more."""
    from kefu.portal.tasks import notices_send_task

    resolved = machine_for(ticket.type).resolved
    if to in resolved and source not in resolved and not _stale(ticket.resolved_at):
        transaction.on_commit(
            partial(
                notices_send_task,
                ticket.pk,
                CustomerNotice.Kind.RESOLVED.value,
                "",
                ticket.reopen_count,
            ),
            robust=True,
        )


def on_customer_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A customer's personal data erased (kefu.customers.privacy.subject_erase sets
    ``erased_at`` once): the names and addresses the portal keeps on their tickets go too,
    in the same transaction. The tickets, notices' kinds and dates stay (statistics)."""
    if instance.erased_at is None or not update_fields or "erased_at" not in update_fields:
        return
    from kefu.portal.models import TicketRequester

    now = timezone.now()
    TicketRequester.objects.filter(ticket__customer_id=instance.pk).update(
        name="", mobile="", email="", company="", ip=None, updated_at=now
    )
    CustomerNotice.objects.filter(ticket__customer_id=instance.pk).update(
        recipient="", body="", updated_at=now
    )
