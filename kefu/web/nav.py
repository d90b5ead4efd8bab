"""The navigation shell. Each context registers its own entries; the shell shows only those the
user's permissions allow, so later issues add 工单, 报表 … without touching the shell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise

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
