"""The periodic SLA check (every minute, kefu/core/schedules.py): for each ticket whose next
check point has passed, warn at 80 % (the assignee), report the breach (the team's
supervisors), and at twice the target tell the managers.

Idempotent: each check point has a flag, set under the ticket's row lock in the same
transaction as its notifications, so two workers (or a re-run) never notify twice. Cheap: it
reads only the partial index on ``sla_next_check_at`` (open tickets with a running clock).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.desk import sla
from kefu.desk.models import Notification, Ticket
from kefu.desk.notify import notify_roles, notify_users
from kefu.desk.webhooks import webhook_emit

BATCH = 500

_STEPS = (
    # (clock, point field, flag field, what happens)
    ("response", "response_warn_at", "response_warned", "warn"),
    ("response", "first_response_due", "response_breached", "breach"),
    ("response", "response_escalate_at", "response_escalated", "escalate"),
    ("resolution", "resolution_warn_at", "resolution_warned", "warn"),
    ("resolution", "resolution_due", "resolution_breached", "breach"),
    ("resolution", "resolution_escalate_at", "resolution_escalated", "escalate"),
)


def tickets_sla_check(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    seen: set[int] = set()
    while True:
        ids = [
            pk
            for pk in Ticket.objects.filter(sla_next_check_at__lte=now)
            .order_by("sla_next_check_at", "id")
            .values_list("id", flat=True)[:BATCH]
            if pk not in seen
        ]
        if not ids:
            break
        for pk in ids:
            seen.add(pk)
            counts.update(_check_one(pk, now))
    return dict(counts)


@transaction.atomic
def _check_one(ticket_id: int, now: datetime) -> Counter[str]:
    done: Counter[str] = Counter()
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None or ticket.sla_next_check_at is None or ticket.sla_next_check_at > now:
        return done  # another worker got there first, or the clock stopped meanwhile
    running = {
        "response": sla.response_running(ticket),
        "resolution": sla.resolution_running(ticket),
    }
    fired: list[tuple[str, str]] = []
    for clock, point, flag, action in _STEPS:
        moment = getattr(ticket, point)
        if running[clock] and moment is not None and moment <= now and not getattr(ticket, flag):
            setattr(ticket, flag, True)
            fired.append((clock, action))
    if any(action == "breach" for _clock, action in fired):
        ticket.sla_breached = True
    sla.sla_schedule(ticket)
    ticket.save(
        update_fields=[
            "response_warned",
            "response_breached",
            "response_escalated",
            "resolution_warned",
            "resolution_breached",
            "resolution_escalated",
            "sla_breached",
            "sla_next_check_at",
        ]
    )
    for clock, action in fired:
        _notify(ticket, clock, action)
        done[f"{clock}_{action}"] += 1
    if any(action == "breach" for _clock, action in fired):
        webhook_emit("ticket.breached", ticket)
    return done


def _notify(ticket: Ticket, clock: str, action: str) -> None:
    what = _("首次响应") if clock == "response" else _("解决")
    due = ticket.first_response_due if clock == "response" else ticket.resolution_due
    facts = {
        "number": ticket.number,
        "what": what,
        "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else "",
        "subject": ticket.subject[:80],
    }
    if action == "warn":
        message = _("工单 %(number)s %(what)s即将超时（%(due)s）：%(subject)s") % facts
        if ticket.assignee is not None:
            notify_users(
                ticket, [ticket.assignee], kind=Notification.Kind.SLA_WARNING, message=message
            )
        else:  # nobody owns it yet: the team's supervisors hear of it instead
            notify_roles(
                ticket, roles=["supervisor"], kind=Notification.Kind.SLA_WARNING, message=message
            )
    elif action == "breach":
        message = _("工单 %(number)s %(what)s已超时（时限 %(due)s）：%(subject)s") % facts
        notify_roles(
            ticket, roles=["supervisor"], kind=Notification.Kind.SLA_BREACH, message=message
        )
    else:
        message = (
            _("工单 %(number)s %(what)s超时已达时限的两倍（时限 %(due)s）：%(subject)s") % facts
        )
        notify_roles(
            ticket, roles=["manager"], kind=Notification.Kind.SLA_ESCALATION, message=message
        )
