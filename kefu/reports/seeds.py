"""Demo data for the monthly report (kefu seed --size demo): see kefu.reports.builtin.demo."""

from __future__ import annotations

from kefu.core.seeding import SeedContext


def seed(ctx: SeedContext) -> None:
    from kefu.reports.builtin.demo import seed as builtin_seed

    builtin_seed(ctx)
