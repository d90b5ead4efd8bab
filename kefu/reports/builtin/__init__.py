"""The monthly report's built-in sections after the customer movements: complaints (20),
service (30), profitability (40) and the action lists (50). ``register_all()`` adds them to the
report (kefu.reports.sections); ReportsConfig.ready() calls it."""

from __future__ import annotations


def register_all() -> None:
    """Register the four sections (the registry keys by section key, so twice is harmless)."""
    from kefu.reports.builtin.actions import ACTIONS
    from kefu.reports.builtin.complaints import COMPLAINTS
    from kefu.reports.builtin.profitability import PROFITABILITY
    from kefu.reports.builtin.service import SERVICE
    from kefu.reports.sections import register_section

    for section in (COMPLAINTS, SERVICE, PROFITABILITY, ACTIONS):
        register_section(section)
