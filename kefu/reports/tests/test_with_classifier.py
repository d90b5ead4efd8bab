"""The movements section with the real classifier (kefu.reports.movements): the report's
"customers" lists and the settings' thresholds reaching the rules."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.org.models import User
from kefu.reports.models import SETTINGS_FIELDS, ReportSettings
from kefu.reports.movements import MovementRules
from kefu.reports.services import report_generate, report_settings_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_movements_section")]

OCTOBER = date(2026, 10, 1)
_numbers = itertools.count(1)
# Every 30 days from 2026-05-03: three orders in P3 (May–Jul), four in R3 (Aug–Oct).
P3_DAYS = [date(2026, 5, 3), date(2026, 6, 2), date(2026, 7, 2)]
R3_DAYS = [date(2026, 8, 1), date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 30)]


def buy(who: Customer, on: date, amount: int) -> None:
    Order.objects.create(
        customer=who,
        order_no=f"WC{next(_numbers):08d}",
        date=on,
        amount=Decimal(amount),
        content_hash="x",
    )


def test_movement_rules_carry_every_setting(db: None) -> None:
    settings = ReportSettings.load()
    settings.rising_ratio = Decimal("1.3")
    settings.churn_min_days = 200

    rules = settings.movement_rules()

    assert isinstance(rules, MovementRules)
    assert rules.rising_ratio == Decimal("1.3")
    assert rules.churn_min_days == 200
    assert rules.min_revenue_t12 == Decimal("10000")
    assert len(SETTINGS_FIELDS) == len(MovementRules.__dataclass_fields__) + 3


def test_report_lists_the_rising_and_falling_customers_with_reasons(
    manager: User, make_user: Callable[..., User]
) -> None:
    rep = make_user("rep", "sales", department="sales")
    rising = Customer.objects.create(name="上升客户", owner=rep)
    falling = Customer.objects.create(name="下降客户")
    stable = Customer.objects.create(name="稳定客户")
    for day in P3_DAYS:
        for who in (rising, falling, stable):
            buy(who, day, 33_334 if day != P3_DAYS[0] else 33_332)  # P3 = 100,000
    for day, amount in zip(R3_DAYS, (33_750, 33_750, 33_750, 33_750), strict=True):
        buy(rising, day, amount)  # R3 = 135,000
    for day in R3_DAYS:
        buy(falling, day, 15_000)  # R3 = 60,000
        buy(stable, day, 26_250)  # R3 = 105,000

    content = report_generate(month=OCTOBER, actor=manager, trigger="manual").content

    customers = content["customers"]
    assert [c["customer_id"] for c in customers["rising"]] == [rising.pk]
    assert [c["customer_id"] for c in customers["falling"]] == [falling.pk]
    assert customers["churned"] == []
    assert customers["rising"][0]["reason"]
    assert customers["falling"][0]["reason"]
    section = content["sections"][0]
    assert section["failed"] is False
    rows = next(t for t in section["tables"] if t["key"] == "movements_rising")["rows"]
    assert (rows[0]["owner"], rows[0]["r3"], rows[0]["base"]) == ("rep", "135000.00", "100000.00")
    figures = {f["label"]: f["value"] for f in section["figures"]}
    assert (figures["上升"], figures["下降"], figures["稳定"]) == (1, 1, 1)

    # A manager raises the bar for "rising" to 1.4 × base: 135,000 is no longer rising.
    report_settings_update(actor=manager, data={"rising_ratio": Decimal("1.4")})
    again = report_generate(month=OCTOBER, actor=manager, trigger="manual").content
    assert again["customers"]["rising"] == []
