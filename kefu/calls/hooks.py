"""The one place a call becomes a ticket.

``kefu.calls`` does not know tickets; the service desk registers a ticket maker here in its
AppConfig.ready(). Until one is registered the screen pop hides its "转为工单" button.

    def make_ticket(call: Call, actor: User) -> str:  # returns the new ticket's URL
        ...
    register_ticket_maker(make_ticket)

The maker runs inside the transaction of ``call_make_ticket`` (kefu.calls.services); it may set
``call.ticket_id`` itself or return the URL only (the service then leaves ``ticket_id`` alone).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kefu.calls.models import Call
    from kefu.org.models import User

TicketMaker = Callable[["Call", "User"], str]

_TICKET_MAKER: list[TicketMaker] = []


def register_ticket_maker(func: TicketMaker | None) -> None:
    """Register the function that turns a call into a ticket (None unregisters it)."""
    _TICKET_MAKER.clear()
    if func is not None:
        _TICKET_MAKER.append(func)


def ticket_maker() -> TicketMaker | None:
    return _TICKET_MAKER[0] if _TICKET_MAKER else None
