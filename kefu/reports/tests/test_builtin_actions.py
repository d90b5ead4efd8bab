"""The action lists: movements handed on by the movements section, credit trouble found at the
month end (October 2026), grouped by the owner sales rep, persons' names masked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kefu.customers.models import Customer
from kefu.org.models import User
from kefu.reports.builtin.actions import ACTIONS
from kefu.reports.movements import Movement, Movements
from kefu.reports.sections import SectionResult
from kefu.reports.tests.builtin_data import order, report_context

OCTOBER = date(2026, 10, 1)
STATUSES = ("churned", "at_risk", "anomalous", "rising", "falling", "new", "won_back")


def _table(result: SectionResult, key: str) -> list[dict[str, Any]]:
    return next(table.rows for table in result.tables if table.key == key)


def _movement(customer: Customer, status: str, reason: str) -> Movement:
    owner = customer.owner
    return Movement(
        customer_id=customer.pk,
        name=customer.name,
        status=status,
        reason=reason,
        figures={},
        owner_id=owner.pk if owner else None,
        owner_name=str(owner) if owner else "",
    )


def _movements(*moved: Movement) -> Movements:
    by_status: dict[str, list[Movement]] = {status: [] for status in STATUSES}
    for movement in moved:
        by_status[movement.status].append(movement)
    return Movements(month=OCTOBER, by_status=by_status, stable=0, small=0)


@pytest.fixture
def company(db: None) -> dict[str, Any]:
    li = User.objects.create_user(username="li", display_name="李销售")
    zhou = User.objects.create_user(username="zhou", display_name="周销售")
    person = Customer.Kind.PERSON
    customers = {
        "x": Customer.objects.create(name="甲贸易有限公司", owner=li),
        "y": Customer.objects.create(name="张三丰", kind=person, owner=li),
        "z": Customer.objects.create(name="乙工程有限公司", owner=zhou),
        "w": Customer.objects.create(name="丙商贸有限公司"),
        "n": Customer.objects.create(name="李四", kind=person),
        "b": Customer.objects.create(name="丁科技有限公司", owner=zhou),
        # no limit (cash only), and just under the limit: neither is in trouble
        "v": Customer.objects.create(name="戊公司"),
        "u": Customer.objects.create(name="己公司"),
    }
    # credit as finance left it (a new customer's first evaluation sets its own on insert)
    for key, limit, exposure in (("z", 100000, 120000), ("v", 0, 5000), ("u", 100000, 99999)):
        Customer.objects.filter(pk=customers[key].pk).update(
            credit_limit=Decimal(limit), credit_exposure=Decimal(exposure)
        )
    w = customers["w"]
    # W at the end of October: due 15 Sep unpaid (46 days), due 20 Sep paid only in November
    # (41 days); due 1 Oct is exactly 30 days (not more), due 15 Oct 16 days, and one paid
    order(w, "2026-08-16", "8000", "6000", due_date=date(2026, 9, 15))
    order(w, "2026-08-21", "2000", "1500", due_date=date(2026, 9, 20), paid_date=date(2026, 11, 5))
    order(w, "2026-09-01", "500", "400", due_date=date(2026, 10, 1))
    order(w, "2026-09-15", "700", "500", due_date=date(2026, 10, 15))
    order(w, "2026-07-01", "900", "600", due_date=date(2026, 8, 1), paid_date=date(2026, 9, 1))
    # an order placed after the month end is not the month's trouble
    order(customers["u"], "2026-11-02", "100", "50", due_date=date(2026, 9, 1))
    return customers


def test_action_lists_group_the_customers_by_owner_with_reasons(
    company: dict[str, Any],
) -> None:
    x, y, z, w, n, b = (company[key] for key in "xyzwnb")
    movements = _movements(
        _movement(x, "churned", "最近一次下单已过 200 天"),
        _movement(y, "falling", "近3月订单额较前3月下降62%"),
        _movement(z, "at_risk", "最近一次下单已过 80 天"),
        _movement(n, "new", "本月首次下单"),
        _movement(b, "won_back", "流失后本月再次下单"),
    )
    result = ACTIONS.build(report_context(OCTOBER, movements=movements))
    assert _table(result, "sales") == [
        {
            "owner": "周销售",
            "customer_id": z.pk,
            "customer": "乙工程有限公司",
            "category": "流失预警",
            "reason": "最近一次下单已过 80 天",
        },
        {
            "owner": "周销售",
            "customer_id": z.pk,
            "customer": "乙工程有限公司",
            "category": "信用风险",
            "reason": "信用占用 ¥120,000.00，已达额度 ¥100,000.00 的 120.0%",
        },
        {
            "owner": "未分配",
            "customer_id": w.pk,
            "customer": "丙商贸有限公司",
            "category": "信用风险",
            "reason": "应收逾期 2 笔共 ¥10,000.00，最早已逾期 46 天",
        },
        {
            "owner": "李销售",
            "customer_id": x.pk,
            "customer": "甲贸易有限公司",
            "category": "流失",
            "reason": "最近一次下单已过 200 天",
        },
        {
            "owner": "李销售",
            "customer_id": y.pk,
            "customer": "张**",
            "category": "下降",
            "reason": "近3月订单额较前3月下降62%",
        },
    ]
    assert _table(result, "sales_summary") == [
        {"owner": "周销售", "churned": 0, "at_risk": 1, "falling": 0, "credit": 1, "total": 2},
        {"owner": "未分配", "churned": 0, "at_risk": 0, "falling": 0, "credit": 1, "total": 1},
        {"owner": "李销售", "churned": 1, "at_risk": 0, "falling": 1, "credit": 0, "total": 2},
    ]
    assert _table(result, "marketing") == [
        {
            "owner": "周销售",
            "customer_id": b.pk,
            "customer": "丁科技有限公司",
            "category": "回流",
            "reason": "流失后本月再次下单",
        },
        {
            "owner": "未分配",
            "customer_id": n.pk,
            "customer": "李*",
            "category": "新客户",
            "reason": "本月首次下单",
        },
    ]
    assert {figure.label: figure.value for figure in result.figures} == {
        "待跟进：流失": 1,
        "待跟进：流失预警": 1,
        "待跟进：下降": 1,
        "待跟进：信用风险": 2,
        "待关怀：回流": 1,
        "待关怀：新客户": 1,
    }
    assert result.notes == [
        "销售跟进清单共 5 项（4 位客户），涉及 3 位负责销售。",
        "市场部可关怀回流客户 1 位、新客户 1 位。",
    ]


def test_action_lists_without_movements_list_credit_trouble_only(
    company: dict[str, Any],
) -> None:
    result = ACTIONS.build(report_context(OCTOBER))
    assert [row["category"] for row in _table(result, "sales")] == ["信用风险", "信用风险"]
    assert _table(result, "marketing") == []
    assert "本月没有客户变动数据，销售清单只列出信用风险客户。" in result.notes


def test_action_lists_of_a_quiet_month_are_empty(db: None) -> None:
    result = ACTIONS.build(report_context(OCTOBER, movements=_movements()))
    assert _table(result, "sales") == []
    assert _table(result, "sales_summary") == []
    assert _table(result, "marketing") == []
    assert result.notes == ["本月没有需要销售跟进的客户。"]
