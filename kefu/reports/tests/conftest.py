"""Fixtures of the report tests: a stand-in classifier (the real one is
kefu.reports.movements.classify_customers, tested by its own suite), some data, personas."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.org.models import User
from kefu.reports import movements_section
from kefu.reports.sections import _REGISTRY, Section

STATUS_KEYS = ("churned", "at_risk", "anomalous", "rising", "falling", "new", "won_back")
_numbers = itertools.count(1)


@dataclass(frozen=True)
class FakeMovement:
    customer_id: int
    name: str
    status: str
    reason: str
    figures: dict[str, Any]
    owner_id: int | None
    owner_name: str


@dataclass
class FakeMovements:
    month: date
    by_status: dict[str, list[FakeMovement]] = field(default_factory=dict)
    stable: int = 0
    small: int = 0

    def api_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            key: [
                {"customer_id": m.customer_id, "name": m.name, "reason": m.reason}
                for m in self.by_status.get(key, [])
            ]
            for key in STATUS_KEYS
        }


def order(who: Customer, amount: str, *, on: date) -> Order:
    return Order.objects.create(
        customer=who,
        order_no=f"RP{next(_numbers):08d}",
        date=on,
        amount=Decimal(amount),
        cost=Decimal("0"),
        content_hash="x",
    )


@pytest.fixture
def customers(db: None, make_user: Callable[..., User]) -> dict[str, Any]:
    """Two customers with orders from January 2026 (so 2026-01 … now can be reported)."""
    rep = make_user("rep", "sales", department="sales")
    falling = Customer.objects.create(name="华东机电有限公司", owner=rep)
    churned = Customer.objects.create(name="青岛海工贸易")
    order(falling, "50000.00", on=date(2026, 1, 10))
    order(churned, "12000.00", on=date(2026, 2, 3))
    return {"rep": rep, "falling": falling, "churned": churned}


@pytest.fixture
def fake_classify(
    customers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> list[tuple[date, Any]]:
    """classify_customers stand-in: one falling and one churned customer; records its calls."""
    calls: list[tuple[date, Any]] = []
    rep = customers["rep"]

    def classify(month: date, rules: Any) -> FakeMovements:
        calls.append((month, rules))
        falling = FakeMovement(
            customer_id=customers["falling"].pk,
            name="华东机电有限公司",
            status="falling",
            reason="近3月订单额较前3月下降62%，最近一次下单已过97天",
            figures={
                "r3": "38000",
                "base": Decimal("100000"),
                "base_kind": "P3",
                "t12": 250000.5,
                "days_since_last": 97,
            },
            owner_id=rep.pk,
            owner_name="rep",
        )
        churned = FakeMovement(
            customer_id=customers["churned"].pk,
            name="青岛海工贸易",
            status="churned",
            reason="最近一次下单已过200天，超过流失线180天",
            figures={"days_since_last": 200, "t12": "12000"},
            owner_id=None,
            owner_name="",
        )
        by_status: dict[str, list[FakeMovement]] = {key: [] for key in STATUS_KEYS}
        by_status["falling"] = [falling]
        by_status["churned"] = [churned]
        return FakeMovements(month=month, by_status=by_status, stable=5, small=3)

    monkeypatch.setattr(movements_section, "classify", classify)
    return calls


@pytest.fixture
def only_movements_section() -> Iterator[None]:
    """Only the customer movements section registered (other helpers' sections are tested by
    their own suites); the registry is restored afterwards."""
    saved = dict(_REGISTRY)
    _REGISTRY.clear()
    _REGISTRY["movements"] = saved.get("movements") or movements_section.CustomerMovementsSection()
    try:
        yield
    finally:
        _REGISTRY.clear()
        _REGISTRY.update(saved)


@pytest.fixture
def extra_sections() -> Iterator[Callable[[Section], None]]:
    """Register sections for one test only."""
    added: list[str] = []

    def add(section: Section) -> None:
        _REGISTRY[section.key] = section
        added.append(section.key)

    yield add
    for key in added:
        _REGISTRY.pop(key, None)


@pytest.fixture
def sales(make_user: Callable[..., User]) -> User:
    return make_user("sales1", "sales", department="sales")


@pytest.fixture
def finance(make_user: Callable[..., User]) -> User:
    return make_user("finance1", "finance", department="service")
