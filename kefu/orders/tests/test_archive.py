"""What orders add to the archive page and to search: the 24-month panel, timeline events, and
finding a customer by order number."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from kefu.customers.archive import panels_for, timeline_for
from kefu.customers.search import search_providers
from kefu.orders.models import Order
from kefu.orders.services import orders_upsert
from kefu.orders.tests.helpers import make_customer, order
from kefu.org.models import User


def test_the_panel_has_24_months_and_the_last_orders_with_overdue_marked(
    manager: User, org: dict[str, Any]
) -> None:
    customer = make_customer("C001", org["team_a"])
    today = timezone.localdate()
    recent = (today - dt.timedelta(days=40)).isoformat()
    orders_upsert(
        actor=manager, items=[order("SO-OLD"), order("SO-NEW", date=recent, due_date=recent)]
    )
    panels = {p["panel"].key: p["context"] for p in panels_for(customer, manager)}
    context = panels["orders"]
    assert len(context["monthly"]) == 24
    assert context["monthly"][-1]["month"] == today.strftime("%Y-%m")
    month = recent[:7]
    assert next(m for m in context["monthly"] if m["month"] == month) == {
        "month": month,
        "revenue": "7299.00",
        "profit": "1998.50",
    }
    assert context["recent"][0].order_no == "SO-NEW"
    assert context["recent"][0].payment_status == "overdue"


def test_the_panel_renders_with_the_chart_data_embedded(manager: User, org: dict[str, Any]) -> None:
    from django.template.loader import render_to_string

    customer = make_customer("C001", org["team_a"])
    orders_upsert(actor=manager, items=[order()])
    shown = panels_for(customer, manager)
    panel = next(p for p in shown if p["panel"].key == "orders")
    html = render_to_string(panel["panel"].template, panel["context"])
    assert f'id="order-figures-{customer.pk}"' in html
    assert "/static/vendor/echarts/echarts.min.js" in html  # served by us, no CDN
    assert "cdn" not in html.lower()
    assert "SO-0001" in html


def test_the_timeline_lists_orders_for_those_who_may_see_them(
    manager: User, org: dict[str, Any], make_user: Any
) -> None:
    customer = make_customer("C001", org["team_a"])
    orders_upsert(actor=manager, items=[order()])
    events = [e for e in timeline_for(customer, manager) if e.kind == "order"]
    assert [e.title for e in events] == ["订单 SO-0001"]
    engineer = make_user("eng", "engineer", teams=("team_a",))
    assert not [e for e in timeline_for(customer, engineer) if e.kind == "order"]


def test_search_finds_customers_by_the_whole_order_number_in_any_case(
    manager: User, org: dict[str, Any]
) -> None:
    customer = make_customer("C001", org["team_a"])
    orders_upsert(actor=manager, items=[order("SO20250105001")])
    provider = search_providers()["order_no"]
    exact = provider("SO20250105001")
    assert exact is not None
    assert list(exact) == [customer.pk]
    typed_lower = provider("so20250105001")
    assert typed_lower is not None
    assert list(typed_lower) == [customer.pk]
    prefix = provider("SO2025")  # a prefix would scan every order: not a match
    assert prefix is not None
    assert list(prefix) == []
    assert provider("SO") is None  # too short to mean an order number
    assert Order.objects.count() == 1


def test_the_archive_page_renders_with_the_orders_panel(manager: User, org: dict[str, Any]) -> None:
    from django.test import Client

    customer = make_customer("C001", org["team_a"])
    orders_upsert(actor=manager, items=[order()])
    client = Client()
    client.force_login(manager)
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    assert 'data-testid="orders-panel"' in response.content.decode()
