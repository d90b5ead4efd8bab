"""Panels other apps add to the ticket page (work orders, the customer side panel, the portal
link, the mail thread), so that they never edit the desk's template.

A panel is a template rendered with the page's context plus ``panel``: what its ``context``
function returns for (ticket, user), or nothing when that function returns None (the panel is
then left out, e.g. for a user without the permission).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kefu.desk.models import Ticket
    from kefu.org.models import User

PanelContext = Callable[["Ticket", "User"], "dict[str, Any] | None"]


@dataclass(frozen=True)
class DetailPanel:
    name: str
    template: str
    context: PanelContext
    column: str = "side"  # "main" (under the timeline) or "side"
    order: int = 100  # side column: below 50 above the ticket's details, else below its steps


_panels: dict[str, DetailPanel] = {}


def register_detail_panel(panel: DetailPanel) -> None:
    _panels[panel.name] = panel


def detail_panels(ticket: Ticket, user: User, column: str) -> list[dict[str, Any]]:
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name)):
        if panel.column != column:
            continue
        context = panel.context(ticket, user)
        if context is not None:
            shown.append(
                {
                    "name": panel.name,
                    "template": panel.template,
                    "context": context,
                    "order": panel.order,
                }
            )
    return shown
