"""/tiers/ pages, the recompute button, the rule form and the archive panel's pin form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kefu.customers.archive import panels_for, timeline_for
from kefu.customers.models import Customer
from kefu.org.models import User
from kefu.tiering.models import TierChange
from kefu.tiering.services import tiers_recompute
from kefu.tiering.tests.helpers import customer, default_rule_set, order, tier_of
from kefu.web.nav import items_for

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def served(org: dict[str, Any]) -> Customer:
    person = customer("杭州界面测试有限公司", serving_team=org["team_a"])
    order(person, 50_000, 10_000)
    return person


def _form_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "默认规则（ABC毛利排名）",
        "measure": "revenue_t12",
        "method": "thresholds",
        "cut_a": "0.70",
        "cut_b": "0.90",
        "diamond_share": "0.05",
        "apply_credit_caps": "on",
    }
    bounds = {"diamond": "100000", "gold": "40000", "silver": "10000", "ordinary": ""}
    for tier, bound in bounds.items():
        data.update(
            {
                f"{tier}_min_value": bound,
                f"{tier}_priority_bump": "0",
                f"{tier}_discount_rate": "0",
                f"{tier}_followup_days": "30",
            }
        )
    data.update(overrides)
    return data


def test_nav_shows_tiering_to_those_who_may_view_it(
    agent: User, make_user: Callable[..., User]
) -> None:
    engineer = make_user("engineer", "engineer", teams=("team_repair",), department="repair")

    assert "tiering" in [item.key for item in items_for(agent)]
    assert "tiering" not in [item.key for item in items_for(engineer)]


def test_index_shows_rules_changes_and_the_button_to_a_manager(
    manager: User, served: Customer
) -> None:
    tiers_recompute(hysteresis=False)

    page = _client(manager).get("/tiers/")

    content = page.content.decode()
    assert page.status_code == 200
    assert "立即重算" in content
    assert "默认规则（ABC毛利排名）" in content
    assert "杭州界面测试有限公司" in content  # in the recent changes


def test_index_hides_the_button_from_an_agent_and_other_teams_changes(
    agent: User, outsider: User, served: Customer
) -> None:
    tiers_recompute(hysteresis=False)

    mine = _client(agent).get("/tiers/").content.decode()
    theirs = _client(outsider).get("/tiers/").content.decode()

    assert 'data-testid="recompute"' not in mine
    assert "杭州界面测试有限公司" in mine
    assert "杭州界面测试有限公司" not in theirs


def test_recompute_button_shows_the_counts(manager: User, served: Customer) -> None:
    response = _client(manager).post("/tiers/recompute/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "重算完成" in response.content.decode()
    assert tier_of(served) == "diamond"


def test_agent_cannot_press_recompute(agent: User) -> None:
    assert _client(agent).post("/tiers/recompute/").status_code == 403


def test_manager_edits_thresholds_in_the_form(manager: User, served: Customer) -> None:
    rule_set = default_rule_set()

    response = _client(manager).post(f"/tiers/rules/{rule_set.pk}/", _form_data())
    tiers_recompute(hysteresis=False)

    assert response.status_code == 302
    assert tier_of(served) == "gold"  # revenue 50,000 ≥ gold's 40,000


def test_overlapping_thresholds_in_the_form_show_field_errors(manager: User) -> None:
    rule_set = default_rule_set()

    response = _client(manager).post(
        f"/tiers/rules/{rule_set.pk}/", _form_data(gold_min_value="150000")
    )

    assert response.status_code == 422
    assert 'data-field-error="gold_min_value"' in response.content.decode()
    assert default_rule_set().method == "ranking"


def test_agent_sees_the_rule_read_only_and_may_not_post(agent: User) -> None:
    rule_set = default_rule_set()
    client = _client(agent)

    assert client.get(f"/tiers/rules/{rule_set.pk}/").status_code == 200
    assert client.post(f"/tiers/rules/{rule_set.pk}/", _form_data()).status_code == 403
    assert client.get("/tiers/rules/new/").status_code == 403


def test_manager_creates_a_rule_set_in_the_form(manager: User) -> None:
    response = _client(manager).post("/tiers/rules/new/", _form_data(name="按销售额"))

    assert response.status_code == 302
    assert default_rule_set().name == "默认规则（ABC毛利排名）"  # the new one is not active


def test_archive_panel_and_timeline_show_the_tier(manager: User, served: Customer) -> None:
    tiers_recompute(hysteresis=False)

    panels = [shown for shown in panels_for(served, manager) if shown["panel"].key == "tier"]
    events = [event for event in timeline_for(served, manager) if event.kind == "tier"]

    assert len(panels) == 1
    assert "A类 → 钻石" in panels[0]["context"]["tier_last_reason"]
    assert events[0].title == "客户等级 普通 → 钻石"


def test_pin_form_on_the_panel(manager: User, served: Customer) -> None:
    client = _client(manager)
    url = f"/tiers/customers/{served.pk}/pin/"

    bad = client.post(
        url,
        {"tier": "gold", "reason": "", "expires_on": "2020-01-01"},
        headers={"HX-Request": "true"},
    )
    good = client.post(
        url,
        {"tier": "gold", "reason": "重点项目", "expires_on": "2099-01-01"},
        headers={"HX-Request": "true"},
    )

    assert bad.status_code == 422
    assert 'data-field-error="reason"' in bad.content.decode()
    assert good.status_code == 200
    assert "重点项目" in good.content.decode()
    assert tier_of(served) == "gold"
    assert TierChange.objects.filter(customer=served, kind="pin").count() == 1

    removed = client.post(f"/tiers/customers/{served.pk}/unpin/", headers={"HX-Request": "true"})
    assert removed.status_code == 200
    assert TierChange.objects.filter(customer=served, kind="unpin").count() == 1


def test_pin_form_respects_scope_and_permission(
    agent: User, outsider: User, served: Customer
) -> None:
    data = {"tier": "gold", "reason": "x", "expires_on": "2099-01-01"}

    assert _client(outsider).post(f"/tiers/customers/{served.pk}/pin/", data).status_code == 404
    assert _client(agent).post(f"/tiers/customers/{served.pk}/pin/", data).status_code == 403
    assert _client(agent).get(f"/tiers/customers/{served.pk}/").status_code == 200
