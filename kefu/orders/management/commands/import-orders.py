"""kefu import-orders FILE: the same command as import_orders, by the name the issue uses."""

from __future__ import annotations

from kefu.orders.management.commands.import_orders import Command

__all__ = ["Command"]
