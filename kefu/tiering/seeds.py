"""Tiers for the demo company: the orders seeder runs before this, so the tiers follow from its
orders (without orders everyone is 普通)."""

from __future__ import annotations

from kefu.core.seeding import SeedContext
from kefu.tiering.services import tiers_recompute


def seed(ctx: SeedContext) -> None:
    result = tiers_recompute(hysteresis=False)
    ctx.out(
        f"tiers: {result.evaluated} customers evaluated, {result.upgraded} upgraded, "
        f"{result.downgraded} downgraded in {result.duration:.1f} s"
    )
