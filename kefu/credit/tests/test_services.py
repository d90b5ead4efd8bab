from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.credit.models import CreditChange, CreditPolicy
from kefu.credit.selectors import credit_alert, is_over_limit
from kefu.credit.services import (
    credit_evaluate,
    credit_hold_clear,
    credit_policy_update,
    credit_set_limit,
    credit_update_factors,
)
from kefu.customers.models import Customer
from kefu.customers.tests.factories import CustomerFactory
from kefu.orders.models import Order
from kefu.orders.signals import orders_changed
from kefu.org.models import User

MakeOrder = Callable[..., Order]


def test_the_migration_creates_the_one_policy_row(db: None) -> None:
    assert CreditPolicy.objects.count() == 1
    assert CreditPolicy.objects.get().config["grade_bounds"] == {"A": 85, "B": 70, "C": 55}


def test_a_new_customer_gets_a_grade_on_creation(customer: Customer) -> None:
    customer.refresh_from_db()
    assert customer.credit_score == 57  # every factor neutral
    assert customer.credit_grade == "C"
    change = CreditChange.objects.get(customer=customer, field="grade")
    assert (change.old_value, change.new_value) == ("", "C")
    assert change.figures["factors"]["payment"]["neutral"] is True


def test_exposure_is_the_sum_of_unpaid_orders(customer: Customer, make_order: MakeOrder) -> None:
    today = timezone.localdate()
    make_order(customer, "300.00", day=today, due=today + timedelta(days=30))
    make_order(customer, "200.50", day=today)
    make_order(customer, "999.00", day=today, due=today, paid=today)
    credit_evaluate(reason="测试")
    customer.refresh_from_db()
    assert customer.credit_exposure == Decimal("500.50")


def test_evaluation_grades_from_payment_history(customer: Customer, make_order: MakeOrder) -> None:
    today = timezone.localdate()
    # one order paid 45 days late, most of the amount: 31-60 band, stepped down to 0
    make_order(
        customer,
        "5000",
        day=today - timedelta(days=150),
        due=today - timedelta(days=120),
        paid=today - timedelta(days=75),
    )
    summary = credit_evaluate(customer_ids=[customer.pk], reason="测试")
    customer.refresh_from_db()
    # payment 0 + years 4 (under a year) + volume 3 (under ¥10,000) + 8 + 8 = 23
    assert customer.credit_score == 23
    assert customer.credit_grade == "D"
    assert customer.credit_limit == Decimal("0.00")
    assert summary.grade_changes == 1
    change = CreditChange.objects.filter(customer=customer, field="grade").first()
    assert change is not None
    assert (change.old_value, change.new_value) == ("C", "D")
    assert change.figures["worst_late_days"] == 45


def test_an_unpaid_overdue_order_counts_its_lateness_to_today(
    customer: Customer, make_order: MakeOrder
) -> None:
    today = timezone.localdate()
    make_order(customer, "100", day=today - timedelta(days=60), due=today - timedelta(days=20))
    make_order(
        customer,
        "900",
        day=today - timedelta(days=60),
        due=today - timedelta(days=50),
        paid=today - timedelta(days=50),
    )
    credit_evaluate(reason="测试")
    change = CreditChange.objects.filter(customer=customer, field="grade").first()
    assert change is not None
    assert change.figures["worst_late_days"] == 20
    assert change.figures["factors"]["payment"]["points"] == 25


def test_evaluation_keeps_a_manual_limit(customer: Customer, manager: User) -> None:
    credit_set_limit(actor=manager, customer=customer, limit=Decimal("8000"), reason="客户增资")
    credit_evaluate(reason="夜间")
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("8000.00")
    assert customer.credit_limit_manual


def test_clearing_a_manual_limit_returns_to_the_computed_one(
    customer: Customer, manager: User
) -> None:
    credit_set_limit(actor=manager, customer=customer, limit=Decimal("8000"), reason="临时")
    credit_set_limit(actor=manager, customer=customer, limit=None, reason="恢复")
    customer.refresh_from_db()
    assert not customer.credit_limit_manual
    assert customer.credit_limit == Decimal("0.00")  # no orders: no need


def test_limit_change_is_logged_with_actor_reason_and_audited(
    customer: Customer, manager: User
) -> None:
    credit_set_limit(actor=manager, customer=customer, limit=Decimal("5000"), reason="客户增资")
    change = CreditChange.objects.filter(customer=customer, field="limit").first()
    assert change is not None
    assert change.actor == manager
    assert change.reason == "客户增资"
    assert change.new_value == "5000.00"
    assert AuditEvent.objects.filter(
        action="update", field="credit_limit", object_id=str(customer.pk), actor=manager
    ).exists()


def test_a_negative_limit_is_a_field_error_in_chinese(customer: Customer, manager: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        credit_set_limit(actor=manager, customer=customer, limit=Decimal("-1"), reason="x")
    assert caught.value.fields == {"credit_limit": ["信用额度不能为负数。"]}


def test_negative_factors_are_field_errors(customer: Customer, manager: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        credit_update_factors(
            actor=manager,
            customer=customer,
            registered_capital=Decimal("-5"),
            finance_score=-1,
            payment_days=-30,
        )
    assert set(caught.value.fields) == {"registered_capital", "finance_score", "payment_days"}
    assert caught.value.fields["registered_capital"] == ["不能为负数。"]


def test_factors_from_finance_re_evaluate_the_customer(customer: Customer, manager: User) -> None:
    credit_update_factors(
        actor=manager,
        customer=customer,
        finance_score=15,
        legal_record="clean",
        reason="年报",
    )
    customer.refresh_from_db()
    # 25 + 8 + 8 + 15 + 15 = 71
    assert (customer.credit_score, customer.credit_grade) == (71, "B")
    assert CreditChange.objects.filter(customer=customer, field="factors").exists()


def test_an_agent_may_not_change_credit(customer: Customer, agent: User) -> None:
    with pytest.raises(Forbidden):
        credit_update_factors(actor=agent, customer=customer, finance_score=10)


def _over_limit_customer(
    customer: Customer, manager: User, make_order: MakeOrder, *, limit: str
) -> list[Order]:
    credit_set_limit(actor=manager, customer=customer, limit=Decimal(limit), reason="测试额度")
    today = timezone.localdate()
    first = make_order(
        customer, "600", day=today - timedelta(days=2), due=today + timedelta(days=28)
    )
    second = make_order(customer, "600", day=today, due=today + timedelta(days=30))
    orders_changed.send(sender=Order, customer_ids=[customer.pk])
    return [first, second]


def test_the_order_that_takes_exposure_over_the_limit_is_held(
    customer: Customer, manager: User, make_order: MakeOrder
) -> None:
    first, second = _over_limit_customer(customer, manager, make_order, limit="1000")
    first.refresh_from_db()
    second.refresh_from_db()
    customer.refresh_from_db()
    assert customer.credit_exposure == Decimal("1200.00")
    assert not first.credit_hold
    assert second.credit_hold
    assert is_over_limit(customer)
    assert "已超过信用额度" in credit_alert(customer)
    hold = CreditChange.objects.get(customer=customer, field="hold")
    assert hold.new_value == second.order_no
    assert hold.figures["limit"] == "1000.00"
    # hearing the signal again holds nothing more
    orders_changed.send(sender=Order, customer_ids=[customer.pk])
    assert CreditChange.objects.filter(customer=customer, field="hold").count() == 1


def test_a_cash_only_customer_is_not_flagged(
    customer: Customer, manager: User, make_order: MakeOrder
) -> None:
    _over_limit_customer(customer, manager, make_order, limit="0")
    customer.refresh_from_db()
    assert customer.credit_exposure == Decimal("1200.00")
    assert not Order.objects.filter(customer=customer, credit_hold=True).exists()
    assert not is_over_limit(customer)
    assert credit_alert(customer) == ""


def test_finance_clears_a_hold_once(
    customer: Customer, manager: User, agent: User, make_order: MakeOrder
) -> None:
    _first, second = _over_limit_customer(customer, manager, make_order, limit="1000")
    second.refresh_from_db()
    with pytest.raises(Forbidden):
        credit_hold_clear(actor=agent, order=second, note="")
    credit_hold_clear(actor=manager, order=second, note="客户已承诺本周回款")
    second.refresh_from_db()
    assert not second.credit_hold
    assert second.credit_hold_cleared_by == manager
    with pytest.raises(Conflict):
        credit_hold_clear(actor=manager, order=second, note="")
    # a cleared order is not held again
    orders_changed.send(sender=Order, customer_ids=[customer.pk])
    second.refresh_from_db()
    assert not second.credit_hold


def test_policy_update_validates_and_applies(manager: User, agent: User) -> None:
    with pytest.raises(Forbidden):
        credit_policy_update(actor=agent, config={"grade_bounds": {"A": 90}})
    with pytest.raises(ApplicationError) as caught:
        credit_policy_update(actor=manager, config={"grade_bounds": {"A": 60}, "nonsense": 1})
    assert "nonsense" in caught.value.fields
    with pytest.raises(ApplicationError) as caught:
        credit_policy_update(actor=manager, config={"grade_bounds": {"A": 60}})
    assert "grade_bounds" in caught.value.fields
    policy = credit_policy_update(actor=manager, config={"grade_bounds": {"A": 90}}, reason="收紧")
    assert policy.config["grade_bounds"] == {"A": 90, "B": 70, "C": 55}
    assert AuditEvent.objects.filter(action="update", field="config", actor=manager).exists()


def test_evaluating_many_customers_takes_few_queries(
    org: dict[str, object], django_assert_max_num_queries: Any
) -> None:
    for _ in range(30):
        CustomerFactory()
    with django_assert_max_num_queries(12):
        summary = credit_evaluate(reason="测试")
    assert summary.customers == 30


def test_a_first_evaluation_of_many_customers_logs_each_grade_with_figures(db: None) -> None:
    # bulk-inserted customers (as the seeders do) have no grade yet
    Customer.objects.bulk_create([Customer(name=f"批量客户{i}") for i in range(150)])
    summary = credit_evaluate(reason="批量评估")
    assert summary.grade_changes == 150
    changes = CreditChange.objects.filter(field="grade", reason="批量评估")
    assert changes.count() == 150
    first = changes.first()
    assert first is not None
    assert first.figures["factors"]["legal"]["neutral"] is True
    assert first.new_value == "C"


def test_a_changed_policy_grades_the_next_new_customer_at_once(manager: User) -> None:
    """The first grade of a new customer reads a cached policy: a change must reach it."""
    from kefu.customers.services import CustomerInput, customer_create

    # given: a customer graded C (score 57) under the default bounds, the policy now cached
    first = customer_create(actor=manager, data=CustomerInput(name="甲公司", force=True))
    assert first.credit_grade == "C"
    # when: the bounds drop below the neutral score
    credit_policy_update(
        actor=manager, config={"grade_bounds": {"A": 85, "B": 56, "C": 40}}, reason="放宽"
    )
    second = customer_create(actor=manager, data=CustomerInput(name="乙公司", force=True))
    # then
    assert second.credit_grade == "B"
    # and a change saved outside the service (the admin) reaches it too
    policy = CreditPolicy.objects.get()
    policy.config = {**policy.config, "grade_bounds": {"A": 85, "B": 70, "C": 60}}
    policy.save()
    third = customer_create(actor=manager, data=CustomerInput(name="丙公司", force=True))
    assert third.credit_grade == "D"
