"""/analytics/costs/: a manager enters a month's costs in one form; bad input saves nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kefu.analytics.models import ServiceCost
from kefu.analytics.seeds import MONTHS, seed
from kefu.audit.models import AuditEvent
from kefu.core.seeding import make_context
from kefu.org.models import User

pytestmark = pytest.mark.django_db
URL = "/analytics/costs/"


def _form(month: str = "2026-10", **amounts: str) -> dict[str, str]:
    data = {"month": month}
    for category in ServiceCost.Category.values:
        data[f"amount_{category}"] = amounts.get(category, "100.00")
        data[f"note_{category}"] = ""
    return data


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_enters_a_month_and_changes_it(manager: User) -> None:
    client = _client(manager)
    page = client.get(URL, {"month": "2026-10"})
    assert page.status_code == 200
    assert "服务成本" in page.content.decode()
    response = client.post(URL, _form(staff="150000.50"))
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?month=2026-10"
    costs = {c.category: c.amount for c in ServiceCost.objects.filter(month=date(2026, 10, 1))}
    assert costs["staff"] == Decimal("150000.50")
    assert len(costs) == 6
    assert sum(costs.values()) == Decimal("150500.50")
    # changed again: the row is updated and the change audit-logged
    client.post(URL, _form(staff="160000"))
    staff = ServiceCost.objects.get(month=date(2026, 10, 1), category="staff")
    assert (staff.amount, staff.updated_by) == (Decimal("160000.00"), manager)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.UPDATE, object_id=str(staff.pk)
    ).exists()
    history = client.get(URL).content.decode()
    assert "¥160,500.00" in history


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_form(sms="-1"), "金额不能为负数"),
        (_form(software="abc"), "金额必须是数字"),
        (_form(overhead=""), "请填写金额"),
        (_form(month="2026-13"), "月份格式应为 YYYY-MM"),
        (_form(staff="1.001"), "两位小数"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_saves_nothing(
    manager: User, data: dict[str, str], message: str
) -> None:
    response = _client(manager).post(URL, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ServiceCost.objects.exists()


def test_only_those_with_the_cost_permissions_see_or_change(
    make_user: Callable[..., User], agent: User
) -> None:
    supervisor = make_user("sup2", "supervisor", teams=("team_a",))
    finance = make_user("fin", "finance")
    assert _client(agent).get(URL).status_code == 403
    assert _client(supervisor).get(URL).status_code == 403
    assert _client(supervisor).post(URL, _form()).status_code == 403
    assert _client(finance).post(URL, _form()).status_code == 302
    assert ServiceCost.objects.count() == 6


def test_the_demo_seed_fills_24_months(org: dict[str, Any]) -> None:
    ctx = make_context(size="demo", seed=1, out=lambda line: None)
    seed(ctx)
    months = ServiceCost.objects.values("month").distinct().count()
    assert months == MONTHS
    assert ServiceCost.objects.count() == MONTHS * 6
    assert not ServiceCost.objects.filter(amount__lt=0).exists()
    seed(ctx)  # a second run adds nothing
    assert ServiceCost.objects.count() == MONTHS * 6
