"""POST/GET /api/v1/orders: the answer shapes, the batch limit, idempotency, scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import ApiClient
from kefu.orders.models import Order
from kefu.orders.services import orders_upsert
from kefu.orders.tests.helpers import make_customer, order
from kefu.org.models import User

ApiAs = Callable[[User | None], ApiClient]


@pytest.fixture
def customers(org: dict[str, Any]) -> dict[str, Any]:
    return {"a": make_customer("C001", org["team_a"]), "b": make_customer("C002", org["team_b"])}


def test_one_order_is_created_then_re_sent_unchanged(
    manager: User, api_as: ApiAs, customers: dict[str, Any]
) -> None:
    api = api_as(manager)
    first = api.post("/api/v1/orders", order())
    assert first.status_code == 200, first.content
    body = first.json()
    stored = Order.objects.get()
    assert body == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "items": [{"order_no": "SO-0001", "id": stored.pk, "result": "created"}],
    }
    again = api.post("/api/v1/orders", [order()])
    assert again.json()["unchanged"] == 1
    assert again.json()["created"] == 0


def test_a_changed_order_needs_the_update_flag(
    manager: User, api_as: ApiAs, customers: dict[str, Any]
) -> None:
    api = api_as(manager)
    api.post("/api/v1/orders", order())
    changed = order(lines=[{"product": "空调", "quantity": "1", "amount": "1.00"}])
    refused = api.post("/api/v1/orders", changed)
    assert refused.status_code == 422
    assert "items[0].order_no" in refused.json()["error"]["fields"]
    accepted = api.post("/api/v1/orders?update_existing=true", changed)
    assert accepted.status_code == 200
    assert accepted.json()["updated"] == 1
    assert str(Order.objects.get().amount) == "1.00"


def test_errors_name_the_item_and_line(
    manager: User, api_as: ApiAs, customers: dict[str, Any]
) -> None:
    bad = order("SO-2", lines=[{"product": "x", "quantity": "-2", "amount": "1"}])
    response = api_as(manager).post(
        "/api/v1/orders", [order(), bad, order("SO-3", date="2025-13-01")]
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "items[1].lines[0].quantity": ["数量不能为负数。"],
        "items[2].date": ["日期“2025-13-01”不存在。"],
    }
    assert not Order.objects.exists()


def test_more_than_1000_orders_in_one_call_is_a_422(
    manager: User, api_as: ApiAs, customers: dict[str, Any]
) -> None:
    response = api_as(manager).post("/api/v1/orders", [order(f"SO-{n}") for n in range(1001)])
    assert response.status_code == 422
    assert "__all__" in response.json()["error"]["fields"]


@pytest.mark.parametrize("body", ['{"order_no": ', '"甲"', "[]", "7"])
def test_a_body_that_is_not_orders_is_refused(
    manager: User, api_as: ApiAs, customers: dict[str, Any], body: str
) -> None:
    response = api_as(manager).post("/api/v1/orders", body)
    assert response.status_code in (400, 422)
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_the_list_shows_only_orders_of_customers_the_caller_may_see(
    manager: User, agent: User, api_as: ApiAs, customers: dict[str, Any]
) -> None:
    orders_upsert(actor=manager, items=[order("SO-A"), order("SO-B", code="C002")])
    mine = api_as(agent).get("/api/v1/orders")
    assert mine.status_code == 200
    assert [o["order_no"] for o in mine.json()["items"]] == ["SO-A"]
    assert mine.json()["items"][0]["amount"] == "7299.00"
    assert mine.json()["items"][0]["payment_status"] in ("unpaid", "overdue")
    everything = api_as(manager).get("/api/v1/orders")
    assert everything.json()["count"] == 2
    # another team's customer, by id: 404 as for its page; its order: 404 too
    other = api_as(agent).get("/api/v1/orders", customer_id=customers["b"].pk)
    assert other.status_code == 404
    hidden = Order.objects.get(order_no="SO-B")
    assert api_as(agent).get(f"/api/v1/orders/{hidden.pk}").status_code == 404
    own = api_as(agent).get("/api/v1/orders", customer_id=customers["a"].pk)
    assert own.json()["count"] == 1


def test_the_detail_has_lines_with_money_as_strings(
    manager: User, api_as: ApiAs, customers: dict[str, Any]
) -> None:
    orders_upsert(actor=manager, items=[order()])
    stored = Order.objects.get()
    body = api_as(manager).get(f"/api/v1/orders/{stored.pk}").json()
    assert body["customer_code"] == "C001"
    assert body["gross_profit"] == "1998.50"
    assert body["lines"][1] == {
        "line_no": 2,
        "product": "安装服务",
        "quantity": "1.00",
        "amount": "300.00",
        "cost": "100.50",
    }


@pytest.mark.parametrize(
    "path", [f"/api/v1/orders/{2**64}", "/api/v1/orders?customer_id=18446744073709551616"]
)
def test_ids_beyond_64_bits_are_a_422(manager: User, api_as: ApiAs, path: str) -> None:
    assert api_as(manager).get(path).status_code == 422


def test_an_agent_may_not_post_orders(
    agent: User, api_as: ApiAs, customers: dict[str, Any]
) -> None:
    response = api_as(agent).post("/api/v1/orders", order())
    assert response.status_code == 403
