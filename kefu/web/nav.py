"""The navigation shell. Each context registers its own entries; the shell shows only those the
user's permissions allow, so later issues add 工单, 报表 … without touching the shell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kefu.org.models import User


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Promise
    url_name: str
    allowed: Callable[[User], bool]
    order: int = 100

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_REGISTRY: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _REGISTRY[item.key] = item


def items_for(user: User) -> list[NavItem]:
    return sorted(
        (item for item in _REGISTRY.values() if item.allowed(user)), key=lambda item: item.order
    )


@dataclass(frozen=True)
class NavGroup:
    """A drop-down of the top bar gathering less frequent entries, so the bar stays one row on
    a 1366-pixel screen however many contexts register entries."""

    key: str
    label: Promise
    items: tuple[NavItem, ...]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(item.key for item in self.items)


# Entries not listed here stand on the bar itself (home, tickets, customers, the dashboard, the
# report: what people open every day); the rest go into these menus, in their own order.
_GROUPS: tuple[tuple[str, Promise, frozenset[str]], ...] = (
    (
        "desk",
        _("服务台"),
        frozenset({"workorders", "workspace_load", "calls", "routing", "mail"}),
    ),
    ("archive", _("客户经营"), frozenset({"orders", "tiering", "credit"})),
    ("settings", _("设置"), frozenset({"sla", "service_costs", "audit", "admin"})),
)


def nav_for(user: User) -> list[NavItem | NavGroup]:
    """The top bar for the user: standing entries, then the menus that have an entry for them,
    each placed where its first entry would stand."""
    entries: list[tuple[int, NavItem | NavGroup]] = []
    grouped: set[str] = set()
    items = items_for(user)
    for key, label, members in _GROUPS:
        mine = tuple(item for item in items if item.key in members)
        grouped |= members
        if mine:
            entries.append((mine[0].order, NavGroup(key, label, mine)))
    entries += [(item.order, item) for item in items if item.key not in grouped]
    return [entry for _order, entry in sorted(entries, key=lambda pair: pair[0])]


@dataclass(frozen=True)
class TopbarWidget:
    """A small piece of the top bar (e.g. the agent's presence switch). ``context`` returns the
    template's context for the user, or None when the widget is not for them."""

    key: str
    template: str
    context: Callable[[User], dict[str, object] | None]
    order: int = 100


_WIDGETS: dict[str, TopbarWidget] = {}


def register_widget(widget: TopbarWidget) -> None:
    _WIDGETS[widget.key] = widget


def widgets_for(user: User) -> list[tuple[str, dict[str, object]]]:
    """(template, context) of each widget shown to the user, in order."""
    shown = []
    for widget in sorted(_WIDGETS.values(), key=lambda widget: widget.order):
        context = widget.context(user)
        if context is not None:
            shown.append((widget.template, context))
    return shown
