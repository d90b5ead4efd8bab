from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from kefu.customers.models import Customer
from kefu.customers.tests.factories import CustomerFactory
from kefu.orders.models import Order
from kefu.org.models import User

_numbers = count(1)


@pytest.fixture
def finance(make_user: Callable[..., User]) -> User:
    return make_user("finance", "finance", department="service")


@pytest.fixture
def customer(org: dict[str, Any]) -> Customer:
    created = CustomerFactory(serving_team=org["team_a"])
    assert isinstance(created, Customer)
    return created


@pytest.fixture
def make_order() -> Callable[..., Order]:
    def make(
        customer: Customer,
        amount: str,
        *,
        day: date,
        due: date | None = None,
        paid: date | None = None,
    ) -> Order:
        return Order.objects.create(
            order_no=f"SO{next(_numbers):06d}",
            customer=customer,
            date=day,
            due_date=due,
            paid_date=paid,
            amount=Decimal(amount),
            content_hash="test",
        )

    return make
