"""Receiving orders: validation, idempotency, the update flag, all-or-nothing, scope, audit,
the orders_changed signal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import Forbidden
from kefu.orders.models import Order, OrderLine
from kefu.orders.services import OrdersInvalid, content_hash, orders_upsert, parse_decimal
from kefu.orders.signals import orders_changed
from kefu.orders.tests.helpers import make_customer, order
from kefu.org.models import User


@pytest.fixture
def customers(org: dict[str, Any]) -> dict[str, Any]:
    return {
        "a": make_customer("C001", org["team_a"]),
        "b": make_customer("C002", org["team_b"]),
    }


def _fields(exc: pytest.ExceptionInfo[OrdersInvalid]) -> dict[str, list[str]]:
    return exc.value.fields


def test_a_new_order_is_created_with_its_lines_and_totals(
    manager: User, customers: dict[str, Any]
) -> None:
    result = orders_upsert(actor=manager, items=[order()])
    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    stored = Order.objects.get(order_no="SO-0001")
    assert stored.customer == customers["a"]
    assert stored.amount == Decimal("7299.00")
    assert stored.cost == Decimal("5300.50")
    assert stored.date == dt.date(2025, 1, 5)
    assert len(stored.content_hash) == 64
    assert list(stored.lines.values_list("line_no", "product", "quantity")) == [
        (1, "空调 KFR-35", Decimal("2.00")),
        (2, "安装服务", Decimal("1.00")),
    ]
    assert result.items[0].id == stored.pk
    assert result.items[0].result == "created"


def test_re_sending_the_same_order_is_a_no_op(manager: User, customers: dict[str, Any]) -> None:
    orders_upsert(actor=manager, items=[order()])
    before = Order.objects.get().updated_at
    events = AuditEvent.objects.count()
    # the same content, lines in another order and amounts written differently
    again = order(
        lines=[
            {"product": "安装服务", "quantity": 1, "amount": 300, "cost": "100.50"},
            {"product": "空调 KFR-35", "quantity": "2.0", "amount": "6,999", "cost": "5200"},
        ]
    )
    result = orders_upsert(actor=manager, items=[again])
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert Order.objects.get().updated_at == before
    assert OrderLine.objects.count() == 2
    assert AuditEvent.objects.count() == events  # nothing changed, nothing to audit


def test_the_same_number_with_other_content_is_an_error_without_the_update_flag(
    manager: User, customers: dict[str, Any]
) -> None:
    orders_upsert(actor=manager, items=[order()])
    changed = order(lines=[{"product": "空调", "quantity": "3", "amount": "9000"}])
    with pytest.raises(OrdersInvalid) as caught:
        orders_upsert(actor=manager, items=[changed])
    assert "已存在且内容不同" in _fields(caught)["items[0].order_no"][0]
    assert Order.objects.get().amount == Decimal("7299.00")


def test_the_update_flag_replaces_the_lines_and_totals(
    manager: User, customers: dict[str, Any]
) -> None:
    orders_upsert(actor=manager, items=[order()])
    changed = order(
        paid_date="2025-01-20", lines=[{"product": "空调", "quantity": "3", "amount": "9000"}]
    )
    result = orders_upsert(actor=manager, items=[changed], update_existing=True)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    stored = Order.objects.get()
    assert stored.amount == Decimal("9000.00")
    assert stored.cost == Decimal("0.00")
    assert stored.paid_date == dt.date(2025, 1, 20)
    assert list(stored.lines.values_list("product", flat=True)) == ["空调"]


def test_the_update_flag_needs_the_change_permission(
    make_user: Callable[..., User], customers: dict[str, Any]
) -> None:
    from django.contrib.auth.models import Permission

    importer = make_user("importer", "agent", teams=("team_a",))
    importer.user_permissions.add(Permission.objects.get(codename="add_order"))
    importer = User.objects.get(pk=importer.pk)
    with pytest.raises(Forbidden):
        orders_upsert(actor=importer, items=[order()], update_existing=True)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"date": "2025-02-30"}, "items[0].date", "日期“2025-02-30”不存在。"),
        ({"date": "2025/01/05"}, "items[0].date", "“2025/01/05”不是有效的日期，应为 YYYY-MM-DD。"),
        ({"date": "2999-01-01"}, "items[0].date", "下单日期不能晚于今天。"),
        (
            {"customer_code": "NOPE"},
            "items[0].customer_code",
            "客户编码“NOPE”不存在或不在您的范围内。",
        ),
        (
            {"customer_code": "", "customer_id": None},
            "items[0].customer_code",
            "请填写客户编码（或 customer_id）。",
        ),
        (
            {"customer_code": None, "customer_id": 2**64},
            "items[0].customer_id",
            "客户不存在或不在您的范围内。",
        ),
        ({"order_no": "甲\x00"}, "items[0].order_no", "不能包含控制字符。"),
        ({"order_no": ""}, "items[0].order_no", "此项为必填项。"),
        ({"due_date": "2024-12-31"}, "items[0].due_date", "应付款日不能早于下单日期。"),
        ({"lines": []}, "items[0].lines", "请至少填写一行订单明细。"),
        (
            {"lines": [{"product": "x", "quantity": "1", "amount": "1"}] * 501},
            "items[0].lines",
            "一张订单最多 500 行明细。",
        ),
        (
            {"lines": [{"product": "x", "quantity": "-1", "amount": "1"}]},
            "items[0].lines[0].quantity",
            "数量不能为负数。",
        ),
        (
            {"lines": [{"product": "x", "quantity": "1", "amount": "-5"}]},
            "items[0].lines[0].amount",
            "金额不能为负数。",
        ),
        (
            {"lines": [{"product": "x", "quantity": "1", "amount": "1.234"}]},
            "items[0].lines[0].amount",
            "最多保留两位小数。",
        ),
        (
            {"lines": [{"product": "x", "quantity": "abc", "amount": "1"}]},
            "items[0].lines[0].quantity",
            "“abc”不是有效的数字。",
        ),
        (
            {"lines": [{"product": "x", "quantity": True, "amount": "1"}]},
            "items[0].lines[0].quantity",
            "必须是数字。",
        ),
        (
            {"lines": [{"product": "", "quantity": "1", "amount": "1"}]},
            "items[0].lines[0].product",
            "此项为必填项。",
        ),
        (
            {"lines": [{"product": "x", "quantity": "1", "amount": "1", "colour": "红"}]},
            "items[0].lines[0].colour",
            "不允许的字段。",
        ),
        ({"shop": "x"}, "items[0].shop", "不允许的字段。"),
    ],
)
def test_bad_input_is_reported_per_field_in_chinese_and_nothing_is_written(
    manager: User, customers: dict[str, Any], change: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(OrdersInvalid) as caught:
        orders_upsert(actor=manager, items=[order(), {**order("SO-0002"), **change}])
    fields = _fields(caught)
    assert message in fields[field.replace("items[0]", "items[1]")], fields
    assert not Order.objects.exists()  # the good first order is not written either
    assert not OrderLine.objects.exists()


def test_an_out_of_scope_customer_is_an_unknown_customer(
    make_user: Callable[..., User], customers: dict[str, Any]
) -> None:
    from django.contrib.auth.models import Permission

    importer = make_user("importer", "agent", teams=("team_a",))
    importer.user_permissions.add(Permission.objects.get(codename="add_order"))
    importer = User.objects.get(pk=importer.pk)
    with pytest.raises(OrdersInvalid) as caught:
        orders_upsert(
            actor=importer,
            items=[order(code="C002"), order("SO-2", code=None, customer_id=customers["b"].pk)],
        )
    assert _fields(caught) == {
        "items[0].customer_code": ["客户编码“C002”不存在或不在您的范围内。"],
        "items[1].customer_id": ["客户不存在或不在您的范围内。"],
    }


def test_duplicates_in_one_batch_collapse_when_identical_and_fail_when_different(
    manager: User, customers: dict[str, Any]
) -> None:
    result = orders_upsert(actor=manager, items=[order(), order()])
    assert (result.created, result.unchanged) == (1, 0)
    assert [i.result for i in result.items] == ["created", "unchanged"]
    assert result.items[0].id == result.items[1].id
    with pytest.raises(OrdersInvalid) as caught:
        orders_upsert(actor=manager, items=[order("SO-9"), order("SO-9", date="2025-01-06")])
    assert "本批中重复出现且内容不同" in _fields(caught)["items[1].order_no"][0]


def test_one_audit_event_per_batch_and_the_signal_after_commit(
    manager: User,
    customers: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    heard: list[list[int]] = []

    def listener(sender: Any, customer_ids: list[int], **kwargs: Any) -> None:
        heard.append(customer_ids)

    orders_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            orders_upsert(
                actor=manager,
                items=[order("SO-1"), order("SO-2"), order("SO-3", code="C002")],
                channel="api",
            )
    finally:
        orders_changed.disconnect(listener)
    assert heard == [sorted([customers["a"].pk, customers["b"].pk])]
    events = AuditEvent.objects.filter(object_type="orders.order")
    assert events.count() == 1
    assert events.get().changes["created"] == 3
    assert events.get().changes["channel"] == "api"


def test_an_agent_may_not_send_orders(agent: User, customers: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        orders_upsert(actor=agent, items=[order()])


def test_the_content_hash_ignores_line_order_but_not_amounts() -> None:
    from kefu.orders.services import CleanLine

    one = CleanLine("a", Decimal("1.00"), Decimal("2.00"), Decimal("0.00"))
    two = CleanLine("b", Decimal("1.00"), Decimal("3.00"), Decimal("0.00"))
    args: dict[str, Any] = {
        "customer_id": 1,
        "date": dt.date(2025, 1, 1),
        "due_date": None,
        "paid_date": None,
    }
    assert content_hash(lines=[one, two], **args) == content_hash(lines=[two, one], **args)
    three = CleanLine("b", Decimal("1.00"), Decimal("3.01"), Decimal("0.00"))
    assert content_hash(lines=[one, two], **args) != content_hash(lines=[one, three], **args)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", "12.50"),
        ("¥1,234.56", "1234.56"),
        (3, "3.00"),
        (0.1 + 0.2, "0.30"),
        (12.34, "12.34"),
    ],
)
def test_amounts_are_read_as_decimals_with_two_places(raw: Any, expected: str) -> None:
    assert parse_decimal(raw, digits=12) == Decimal(expected)
