"""Tickets on the customer archive's timeline (kefu.customers.archive registry): the latest
tickets of the customer, for users who may see tickets. One indexed query (customer,
created_at); a user who sees the customer sees its tickets (the ticket scope includes the
customers in the user's scope)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.customers.archive import TimelineEvent
from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.org.models import User


def ticket_timeline(customer: Customer, user: User, limit: int) -> list[TimelineEvent]:
    if not user.has_perm("desk.view_ticket"):
        return []
    tickets = Ticket.objects.filter(customer=customer).order_by("-created_at", "-id")[:limit]
    return [
        TimelineEvent(
            at=ticket.created_at,
            kind="ticket",
            title=_("%(type)s工单 %(number)s：%(subject)s")
            % {
                "type": ticket.get_type_display(),
                "number": ticket.number,
                "subject": ticket.subject,
            },
            detail=_("状态：%(status)s") % {"status": ticket.get_status_display()}
            + (_("；已超时") if ticket.sla_breached else ""),
            url=reverse("desk:detail", args=[ticket.pk]),
            icon=_("单") if ticket.type != Ticket.Type.COMPLAINT else _("诉"),
            extra={"ticket_id": ticket.pk, "status": ticket.status, "type": ticket.type},
        )
        for ticket in tickets
    ]
