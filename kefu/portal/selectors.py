"""What the customer's status page and the agent's panel read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from kefu.core.phones import mask_name
from kefu.desk.models import Ticket, TicketAttachment, TicketComment
from kefu.desk.workflow import machine_for
from kefu.portal.models import CustomerNotice, TicketAccess, TicketRequester

St = Ticket.Status
_RECEIVED = {St.NEW, St.REGISTERED, St.SUBMITTED, St.FILED}
_WAITING = {St.PENDING_CUSTOMER}


def customer_status(ticket: Ticket) -> tuple[str, str]:
    """(label, colour) a customer understands: the desk's dozens of statuses come down to
    received, in progress, waiting for you, resolved, closed, cancelled."""
    machine = machine_for(ticket.type)
    if ticket.status == St.CANCELLED:
        return _("已取消"), "secondary"
    if ticket.status == St.WITHDRAWN:
        return _("已撤诉"), "secondary"
    if ticket.status in machine.final:
        return _("已结束"), "secondary"
    if ticket.status in machine.resolved:
        return _("已解决"), "green"
    if ticket.status in _WAITING:
        return _("等待您的回复"), "orange"
    if ticket.status in _RECEIVED:
        return _("已收到"), "blue"
    return _("处理中"), "blue"


@dataclass(frozen=True)
class PublicEntry:
    at: Any
    who: str
    mine: bool
    body: str
    attachments: list[TicketAttachment]


def public_entries(ticket: Ticket) -> list[PublicEntry]:
    """Public replies and the customer's own messages, oldest first. Internal notes never;
    staff appear as "客服 张*" (the surname only)."""
    comments = (
        TicketComment.objects.filter(ticket=ticket, public=True)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    entries = []
    for comment in comments:
        if comment.from_customer:
            who = _("您")
        else:
            name = ""
            if comment.author is not None:
                name = mask_name(comment.author.display_name or "")
            who = (_("客服 %(name)s") % {"name": name}).strip() if name else _("客服")
        entries.append(
            PublicEntry(
                at=comment.created_at,
                who=who,
                mine=comment.from_customer,
                body=comment.body,
                attachments=list(comment.attachments.all()),
            )
        )
    return entries


def public_attachment(ticket: Ticket, attachment_id: int) -> TicketAttachment | None:
    """An attachment the customer may download: one on a public comment of their ticket."""
    if not 0 < attachment_id < 2**63:
        return None
    return TicketAttachment.objects.filter(
        pk=attachment_id, ticket=ticket, comment__public=True
    ).first()


def panel_context(ticket: Ticket, user: Any) -> dict[str, Any] | None:
    """The agent's portal card: who wrote (masked), the status link, the notices sent."""
    if not user.has_perm("desk.view_ticket"):
        return None
    return {
        "requester": TicketRequester.objects.filter(ticket=ticket).first(),
        "access": TicketAccess.objects.filter(ticket=ticket, revoked_at__isnull=True).first(),
        "notices": list(CustomerNotice.objects.filter(ticket=ticket)),
        "can_regenerate": user.has_perm("desk.change_ticket"),
        "fresh_link": "",
    }
