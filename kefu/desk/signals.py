"""What other apps hook into the desk with, so that mail, the customer portal, work orders and
the workspace never edit the desk's services.

Signals are sent inside the write's transaction: a receiver that writes rows joins it (and rolls
back with it); a receiver that talks to the outside world (SMTP, SMS) must defer with
``transaction.on_commit``.

- ``ticket_created``: sender=Ticket, ticket, actor (None for the public form and inbound mail)
- ``ticket_transitioned``: sender=Ticket, ticket, source, to, actor, note
- ``comment_added``: sender=Ticket, ticket, comment, actor (None when the customer wrote)

Transition guards veto a step before anything is written: a guard returns None to allow it or
a message in the user's language (the desk answers 409 with it), e.g. "the ticket cannot close
while its work orders are open".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

if TYPE_CHECKING:
    from kefu.desk.models import Ticket

ticket_created = Signal()
ticket_transitioned = Signal()
comment_added = Signal()

TransitionGuard = Callable[["Ticket", str, Any], "str | None"]
_guards: dict[str, TransitionGuard] = {}


def register_transition_guard(name: str, guard: TransitionGuard) -> None:
    """``guard(ticket, to, actor)`` -> None (allowed) or the reason it is refused."""
    _guards[name] = guard


def transition_refusal(ticket: Ticket, to: str, actor: Any) -> str | None:
    for guard in _guards.values():
        reason = guard(ticket, to, actor)
        if reason:
            return reason
    return None
