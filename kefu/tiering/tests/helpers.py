"""Building customers and their orders for the tiering tests."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.tiering.models import TierRuleSet

TODAY = date(2026, 6, 15)
_numbers = itertools.count(1)


def customer(name: str, *, credit_grade: str = "B", **fields: object) -> Customer:
    """A customer with the given credit grade (set after creation: the credit context grades
    every new customer, and these tests decide the grade themselves)."""
    created = Customer.objects.create(name=name, **fields)
    Customer.objects.filter(pk=created.pk).update(credit_grade=credit_grade)
    created.credit_grade = credit_grade
    return created


def order(
    who: Customer,
    amount: str | int,
    cost: str | int = 0,
    *,
    on: date = date(2026, 3, 1),
) -> Order:
    return Order.objects.create(
        customer=who,
        order_no=f"SO{next(_numbers):08d}",
        date=on,
        amount=Decimal(amount),
        cost=Decimal(cost),
        content_hash="x",
    )


def default_rule_set() -> TierRuleSet:
    return TierRuleSet.objects.get(is_active=True)


def tier_of(who: Customer) -> str:
    who.refresh_from_db(fields=["tier"])
    return who.tier
