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
