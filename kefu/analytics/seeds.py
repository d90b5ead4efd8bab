"""Two years of monthly service costs for the demo company (a center of about a dozen agents),
up to this month, so cost per contact has figures for every demo period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kefu.analytics.models import ServiceCost
from kefu.core.seeding import SeedContext

MONTHS = 24
C = ServiceCost.Category
# a month's typical amount (¥) and how much it moves from month to month
BASE = {
    C.STAFF: (Decimal("168000"), 0.03),
    C.TELEPHONY: (Decimal("9600"), 0.10),
    C.HOTLINE_400: (Decimal("7200"), 0.15),
    C.SMS: (Decimal("2400"), 0.20),
    C.SOFTWARE: (Decimal("6500"), 0.0),
    C.OVERHEAD: (Decimal("11000"), 0.08),
}


def _months(today: date) -> list[date]:
    first = today.replace(day=1)
    out = []
    for back in range(MONTHS - 1, -1, -1):
        index = first.year * 12 + first.month - 1 - back
        out.append(date(index // 12, index % 12 + 1, 1))
    return out


@transaction.atomic
def seed(ctx: SeedContext) -> None:
    if ServiceCost.objects.exists():
        ctx.out("  analytics: service costs already there")
        return
    rng = ctx.rng
    rows = []
    for number, month in enumerate(_months(timezone.localdate())):
        growth = Decimal(1) + Decimal("0.004") * number  # staff and traffic grow slowly
        peak = Decimal("1.15") if month.month in (1, 11, 12) else Decimal(1)  # year-end rush
        for category, (base, spread) in BASE.items():
            noise = Decimal(str(round(rng.uniform(-spread, spread), 4)))
            amount = base * growth * (Decimal(1) + noise)
            if category in (C.HOTLINE_400, C.TELEPHONY, C.SMS):
                amount *= peak
            if category == C.STAFF and month.month == 2:
                amount += Decimal("40000")  # 年终奖 paid before the Spring Festival
            rows.append(
                ServiceCost(
                    month=month,
                    category=category,
                    amount=amount.quantize(Decimal("0.01")),
                    note="年终奖" if category == C.STAFF and month.month == 2 else "",
                )
            )
    ServiceCost.objects.bulk_create(rows)
    ctx.out(f"  analytics: {len(rows)} service cost rows over {MONTHS} months")
