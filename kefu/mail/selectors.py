"""Reads of kefu.mail: the staff log and the ticket page's mail panel. Addresses are masked
(PIPL): the panel says who wrote without showing the whole address."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.core.exceptions import Forbidden
from kefu.desk.models import Ticket
from kefu.mail.models import InboundMail, MailboxState, OutboundMail
from kefu.mail.services import mask_email, thread_address
from kefu.org.models import User


def mail_log_for_user(
    user: User, *, status: str = ""
) -> tuple[QuerySet[InboundMail], QuerySet[OutboundMail], QuerySet[MailboxState]]:
    if not user.has_perm("mail.view_mail_log"):
        raise Forbidden(_("您没有查看邮件收发记录的权限。"))
    inbound = InboundMail.objects.select_related("ticket")
    outbound = OutboundMail.objects.select_related("ticket")
    if status == "failed":
        inbound = inbound.filter(status=InboundMail.Status.FAILED)
        outbound = outbound.filter(status__in=[OutboundMail.Status.FAILED])
    elif status == "pending":
        inbound = inbound.exclude(status=InboundMail.Status.PROCESSED)
        outbound = outbound.exclude(status=OutboundMail.Status.SENT)
    return inbound, outbound, MailboxState.objects.all()


def ticket_mail_panel(ticket: Ticket, user: User) -> dict[str, Any] | None:
    """The ticket page's mail card: who wrote (masked), the messages in and out with their
    status, and the attachments that came with the first mail. None (no card) when the
    ticket has no mail and no address to write to."""
    inbound = list(
        InboundMail.objects.filter(ticket=ticket)
        .order_by("id")
        .only(
            "from_address", "from_name", "subject", "status", "outcome", "created_at", "ticket_id"
        )[:50]
    )
    outbound = list(
        OutboundMail.objects.filter(ticket=ticket)
        .order_by("id")
        .only("to_address", "status", "error", "attempts", "created_at", "sent_at", "ticket_id")[
            :50
        ]
    )
    address = inbound[-1].from_address if inbound else ""
    if not inbound and not outbound:
        address = thread_address(ticket)
        if not address:
            return None
    sender = inbound[0] if inbound else None
    return {
        "address": mask_email(address),
        "sender_name": sender.from_name if sender else "",
        "known_customer": ticket.customer_id is not None,
        "inbound": [
            {"at": m.created_at, "status": m.get_status_display(), "outcome": m.outcome}
            for m in inbound
        ],
        "outbound": [
            {
                "at": m.sent_at or m.created_at,
                "to": mask_email(m.to_address),
                "status": m.status,
                "status_label": m.get_status_display(),
                "error": m.error,
                "attempts": m.attempts,
            }
            for m in outbound
        ],
        "files": list(ticket.attachments.filter(comment__isnull=True)),
    }
