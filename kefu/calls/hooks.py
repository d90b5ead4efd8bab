"""The one place a call becomes a ticket.

``kefu.calls`` does not know tickets; the service desk registers a ticket maker here in its
AppConfig.ready(). Until one is registered the screen pop hides its "转为工单" button.

    def make_ticket(call: Call, actor: User, **options: str) -> str:  # the new ticket's URL
        ...
    register_ticket_maker(make_ticket, types=lambda: [("inquiry", "咨询"), ...])

With ``types`` the pop lets the agent pick the ticket's type and write its subject while still
on the phone (a caller with a complaint must not end up as an inquiry nobody can retype); the
maker then receives ``ticket_type`` and ``subject`` as keyword arguments, each only when given.

The maker runs inside the transaction of ``call_make_ticket`` (kefu.calls.services); it may set
``call.ticket_id`` itself or return the URL only (the service then leaves ``ticket_id`` alone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

TicketMaker = Callable[..., str]  # (call, actor, *, ticket_type=..., subject=...) -> URL
TicketTypes = Callable[[], Sequence[tuple[str, Any]]]  # (value, label), the default first

_TICKET_MAKER: list[TicketMaker] = []
_TICKET_TYPES: list[TicketTypes] = []


def register_ticket_maker(func: TicketMaker | None, *, types: TicketTypes | None = None) -> None:
    """Register the function that turns a call into a ticket (None unregisters it), and
    optionally the ticket types the pop offers."""
    _TICKET_MAKER.clear()
    _TICKET_TYPES.clear()
    if func is not None:
        _TICKET_MAKER.append(func)
        if types is not None:
            _TICKET_TYPES.append(types)


def ticket_maker() -> TicketMaker | None:
    return _TICKET_MAKER[0] if _TICKET_MAKER else None


def ticket_types() -> list[tuple[str, Any]]:
    """The types the pop offers ([] when the maker takes none: the pop shows a bare button)."""
    return list(_TICKET_TYPES[0]()) if _TICKET_TYPES else []
