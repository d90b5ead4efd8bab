"""The 360° archive page's extension points (客户档案).

``customers`` knows nothing of tickets, repairs, orders, tiering or credit; those contexts plug
into the archive page here, in their AppConfig.ready():

* **panels** — a section of the page (a card with its own template and context), e.g. the
  24-month order chart, tier and credit history. ``register_panel(ArchivePanel(...))``.
* **timeline** — dated events merged into one list, newest first, e.g. an order received, a tier
  change, a ticket opened. ``register_timeline_provider(key, provider)`` where the provider takes
  the customer, the viewing user and a limit and returns ``TimelineEvent`` objects; each
  provider applies its own access rules (return nothing the user may not see).

Providers must be cheap: each runs on every archive page view (one or two queries, limited).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.functional import Promise

from kefu.customers.models import Customer
from kefu.org.models import User


@dataclass(frozen=True)
class ArchivePanel:
    key: str
    title: Promise | str
    template: str  # rendered with {"customer", "user", "panel", **context(customer, user)}
    context: Callable[[Customer, User], dict[str, Any]]
    allowed: Callable[[User], bool] = lambda user: True
    order: int = 100
    wide: bool = False  # full width rather than half


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str  # provider key, e.g. "order", "tier", "ticket"
    title: str
    detail: str = ""
    url: str = ""
    icon: str = ""  # a short badge text, e.g. "单" or "级"
    extra: dict[str, Any] = field(default_factory=dict)


TimelineProvider = Callable[[Customer, User, int], list[TimelineEvent]]

_PANELS: dict[str, ArchivePanel] = {}
_TIMELINE: dict[str, TimelineProvider] = {}


def register_panel(panel: ArchivePanel) -> None:
    _PANELS[panel.key] = panel


def register_timeline_provider(key: str, provider: TimelineProvider) -> None:
    _TIMELINE[key] = provider


def panels_for(customer: Customer, user: User) -> list[dict[str, Any]]:
    """The panels this user may see, each with its rendered context, in order."""
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: p.order):
        if not panel.allowed(user):
            continue
        context = {"customer": customer, "user": user, "panel": panel}
        context.update(panel.context(customer, user))
        shown.append({"panel": panel, "context": context})
    return shown


def timeline_for(customer: Customer, user: User, *, limit: int = 50) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    for provider in _TIMELINE.values():
        events.extend(provider(customer, user, limit))
    events.sort(key=lambda event: event.at, reverse=True)
    return events[:limit]
