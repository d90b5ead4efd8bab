from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from conftest import ApiClient
from kefu.credit.services import credit_set_limit
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.orders.signals import orders_changed
from kefu.org.models import User

Api = Callable[[User | None], ApiClient]


def test_credit_detail_shows_grade_limit_exposure_and_breakdown(
    customer: Customer, agent: User, api_as: Api
) -> None:
    response = api_as(agent).get(f"/api/v1/credit/customers/{customer.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["grade"], body["score"]) == ("C", 57)
    assert body["limit"] == "0.00"
    assert body["over_limit"] is False
    assert body["alert"] == ""
    assert [f["key"] for f in body["breakdown"]] == [
        "payment",
        "years",
        "volume",
        "finances",
        "legal",
    ]
    assert body["factors"]["legal_record"] == "unknown"
    assert body["changes"][0]["field"] in {"grade", "limit"}


def test_outsider_gets_404_on_read_and_patch(
    customer: Customer, outsider: User, api_as: Api
) -> None:
    api = api_as(outsider)
    assert api.get(f"/api/v1/credit/customers/{customer.pk}").status_code == 404
    response = api.patch(f"/api/v1/credit/customers/{customer.pk}", {"finance_score": 10})
    assert response.status_code == 404
    assert api.get("/api/v1/credit/changes", customer_id=customer.pk).status_code == 404


def test_agent_gets_403_on_patch(customer: Customer, agent: User, api_as: Api) -> None:
    response = api_as(agent).patch(
        f"/api/v1/credit/customers/{customer.pk}", {"credit_limit": "1000", "reason": "x"}
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert not customer.credit_limit_manual


def test_a_limit_below_zero_is_422_with_a_chinese_field_error(
    customer: Customer, finance: User, api_as: Api
) -> None:
    response = api_as(finance).patch(
        f"/api/v1/credit/customers/{customer.pk}",
        {"credit_limit": "-100", "registered_capital": "-1", "reason": "测试"},
    )
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert fields["credit_limit"] == ["信用额度不能为负数。"]
    assert fields["registered_capital"] == ["不能为负数。"]
    customer.refresh_from_db()
    assert customer.registered_capital is None


def test_finance_sets_factors_and_limit_and_the_log_names_them(
    customer: Customer, finance: User, api_as: Api
) -> None:
    response = api_as(finance).patch(
        f"/api/v1/credit/customers/{customer.pk}",
        {
            "finance_score": 15,
            "legal_record": "clean",
            "registered_capital": "2000000",
            "credit_limit": "50000",
            "reason": "年度授信评审",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["grade"] == "B"  # 25 + 8 + 8 + 15 + 15 = 71
    assert body["limit"] == "50000.00"
    assert body["limit_manual"] is True
    changes = api_as(finance).get("/api/v1/credit/changes", customer_id=customer.pk).json()
    limit_change = next(c for c in changes["items"] if c["field"] == "limit" and c["actor"])
    assert limit_change["actor"] == "finance"
    assert limit_change["reason"] == "年度授信评审"
    assert limit_change["new_value"] == "50000.00"


def test_bad_types_are_field_errors_not_500(customer: Customer, finance: User, api_as: Api) -> None:
    response = api_as(finance).patch(
        f"/api/v1/credit/customers/{customer.pk}",
        {"finance_score": 99, "payment_days": "abc", "cooperation_since": "2099-01-01"},
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) >= {"payment_days"}
    response = api_as(finance).patch(
        f"/api/v1/credit/customers/{customer.pk}", {"finance_score": 99}
    )
    assert response.status_code == 422
    assert "0 到 15" in response.json()["error"]["fields"]["finance_score"][0]


def test_holds_are_listed_in_scope_and_cleared_by_finance(
    customer: Customer,
    manager: User,
    finance: User,
    agent: User,
    outsider: User,
    api_as: Api,
) -> None:
    credit_set_limit(actor=manager, customer=customer, limit=Decimal("100"), reason="测试")
    today = timezone.localdate()
    order = Order.objects.create(
        order_no="SO-HOLD-1",
        customer=customer,
        date=today,
        due_date=today + timedelta(days=30),
        amount=Decimal("500"),
        content_hash="x",
    )
    orders_changed.send(sender=Order, customer_ids=[customer.pk])
    listed = api_as(agent).get("/api/v1/credit/holds").json()
    assert [item["order_no"] for item in listed["items"]] == ["SO-HOLD-1"]
    assert api_as(outsider).get("/api/v1/credit/holds").json()["count"] == 0
    assert api_as(outsider).post(f"/api/v1/credit/holds/{order.pk}/clear", {}).status_code == 404
    assert api_as(agent).post(f"/api/v1/credit/holds/{order.pk}/clear", {}).status_code == 403
    cleared = api_as(finance).post(f"/api/v1/credit/holds/{order.pk}/clear", {"note": "已回款"})
    assert cleared.status_code == 200, cleared.content
    again = api_as(finance).post(f"/api/v1/credit/holds/{order.pk}/clear", {})
    assert again.status_code == 409
    detail = api_as(agent).get(f"/api/v1/credit/customers/{customer.pk}").json()
    assert detail["over_limit"] is True
    assert "超过信用额度" in detail["alert"]


def test_policy_read_and_update_permissions(manager: User, agent: User, api_as: Api) -> None:
    got = api_as(agent).get("/api/v1/credit/policy")
    assert got.status_code == 200
    assert got.json()["config"]["grade_bounds"]["A"] == 85
    denied = api_as(agent).patch("/api/v1/credit/policy", {"config": {"factor_max": 15}})
    assert denied.status_code == 403
    bad = api_as(manager).patch(
        "/api/v1/credit/policy", {"config": {"limit_k": {"A": "-1"}, "grade_bounds": []}}
    )
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) >= {"grade_bounds"}
    good = api_as(manager).patch(
        "/api/v1/credit/policy", {"config": {"limit_k": {"A": "0.30"}}, "reason": "收紧"}
    )
    assert good.status_code == 200, good.content
    assert good.json()["config"]["limit_k"]["A"] == "0.30"
    assert good.json()["updated_by"] == "manager"


def test_credit_pages_for_finance_and_403_for_an_agent(
    customer: Customer, finance: User, agent: User
) -> None:
    client = Client()
    client.force_login(finance)
    assert client.get("/credit/").status_code == 200
    assert client.get("/credit/policy/").status_code == 200
    page = client.get(f"/credit/customers/{customer.pk}/edit/")
    assert page.status_code == 200
    posted = client.post(
        f"/credit/customers/{customer.pk}/edit/",
        {
            "registered_capital": "",
            "annual_turnover": "",
            "finance_score": "",
            "legal_record": "unknown",
            "payment_days": "30",
            "cooperation_since": "",
            "limit_mode": "manual",
            "credit_limit": "-5",
            "reason": "测试",
        },
    )
    assert posted.status_code == 422
    assert "信用额度不能为负数。" in posted.content.decode()
    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.get("/credit/").status_code == 403


def test_archive_panel_and_timeline_show_the_alert_and_changes(
    customer: Customer, manager: User, agent: User
) -> None:
    from django.template.loader import render_to_string

    from kefu.credit.archive import panel_context, timeline

    customer = credit_set_limit(
        actor=manager, customer=customer, limit=Decimal("100"), reason="测试额度"
    )
    customer.credit_exposure = Decimal("500.00")  # as the exposure refresh would set it
    context = panel_context(customer, agent)
    html = render_to_string(
        "credit/partials/_archive_panel.html", {"customer": customer, **context}
    )
    assert "已超过信用额度" in html
    assert "¥500.00" in html
    assert "测试额度" in html
    events = timeline(customer, agent, 10)
    assert any(event.kind == "credit" and "信用额度" in event.title for event in events)
