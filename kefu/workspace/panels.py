"""The workspace's cards on the ticket page (kefu.desk.panels): the customer side panel,
canned replies and macros, and the merge form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kefu.desk.workflow import is_final
from kefu.workspace.access import macro_list_for_ticket, usable
from kefu.workspace.models import CannedReply
from kefu.workspace.selectors import customer_summary

if TYPE_CHECKING:
    from kefu.desk.models import Ticket
    from kefu.org.models import User


def customer_panel(ticket: Ticket, user: User) -> dict[str, Any] | None:
    return customer_summary(ticket=ticket, user=user)


def replies_panel(ticket: Ticket, user: User) -> dict[str, Any] | None:
    if not user.has_perm("desk.change_ticket") or not user.has_perm("desk.work_ticket"):
        return None
    replies = list(usable(CannedReply, user).filter(active=True).order_by("title", "id"))
    macros = list(macro_list_for_ticket(user))
    return {"ticket": ticket, "replies": replies, "macros": macros}


def merge_panel(ticket: Ticket, user: User) -> dict[str, Any] | None:
    merged_into = None
    if ticket.merged_into_id is not None:
        from kefu.desk.models import Ticket as TicketModel

        merged_into = TicketModel.objects.filter(pk=ticket.merged_into_id).first()
    can_merge = (
        user.has_perm("desk.change_ticket")
        and ticket.merged_into_id is None
        and not is_final(ticket)
        and ticket.customer_id is not None
    )
    if merged_into is None and not can_merge:
        return None
    return {"ticket": ticket, "merged_into": merged_into, "can_merge": can_merge}
