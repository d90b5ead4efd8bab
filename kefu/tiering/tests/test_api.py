"""/api/v1/tiers: who may do what, bad input, and the manager's threshold change end to end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import ApiClient
from kefu.customers.models import Customer
from kefu.org.models import User
from kefu.tiering.models import TierRuleSet
from kefu.tiering.tests.helpers import customer, default_rule_set, order, tier_of

pytestmark = pytest.mark.django_db

Api = Callable[[User | None], ApiClient]


@pytest.fixture
def served(org: dict[str, Any]) -> Customer:
    """A customer of team A (the agent's team; the outsider's is team B)."""
    person = customer("上海分层测试有限公司", serving_team=org["team_a"])
    order(person, 80_000, 30_000)
    return person


def test_agent_may_not_recompute(api_as: Api, agent: User) -> None:
    response = api_as(agent).post("/api/v1/tiers/recompute")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_anonymous_recompute_is_401(api_as: Api, db: None) -> None:
    assert api_as(None).post("/api/v1/tiers/recompute").status_code == 401


def test_manager_recomputes_at_once_and_gets_the_counts(
    api_as: Api, manager: User, served: Customer
) -> None:
    response = api_as(manager).post("/api/v1/tiers/recompute")

    assert response.status_code == 200
    body = response.json()
    assert body["evaluated"] >= 1
    assert body["upgraded"] >= 1
    assert body["kind"] == "recompute"
    assert set(body) >= {"downgraded", "unchanged", "pending_downgrades", "duration"}
    assert tier_of(served) == "diamond"


def test_rules_are_listed_with_levels_and_benefits(api_as: Api, agent: User) -> None:
    response = api_as(agent).get("/api/v1/tiers/rules")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    rule_set = body["items"][0]
    assert rule_set["measure"] == "gross_profit_t12"
    assert rule_set["is_active"] is True
    diamond = next(level for level in rule_set["levels"] if level["tier"] == "diamond")
    assert diamond["priority_bump"] == 1
    assert diamond["followup_days"] == 30
    assert diamond["tier_display"] == "钻石"


def test_engineer_may_not_read_rules(api_as: Api, make_user: Callable[..., User]) -> None:
    engineer = make_user("engineer", "engineer", teams=("team_repair",), department="repair")

    assert api_as(engineer).get("/api/v1/tiers/rules").status_code == 403


def test_unknown_rule_set_is_404(api_as: Api, manager: User) -> None:
    assert api_as(manager).get("/api/v1/tiers/rules/999999").status_code == 404


def test_overlapping_thresholds_answer_422_with_field_errors(api_as: Api, manager: User) -> None:
    rule_set = default_rule_set()
    response = api_as(manager).patch(
        f"/api/v1/tiers/rules/{rule_set.pk}",
        {
            "method": "thresholds",
            "levels": [
                {"tier": "diamond", "min_value": "100000"},
                {"tier": "gold", "min_value": "120000"},
                {"tier": "silver", "min_value": "10000"},
            ],
        },
    )

    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert fields["levels.gold.min_value"] == ["金的下限必须低于钻石的下限（100000），不能重叠。"]
    assert default_rule_set().method == "ranking"


def test_bad_types_answer_422_not_500(api_as: Api, manager: User) -> None:
    rule_set = default_rule_set()
    client = api_as(manager)
    bodies: list[Any] = [
        {"cut_a": "abc"},
        {"levels": [{"tier": "platinum"}]},
        {"weights": {"revenue_t12": "x"}},
        {"levels": "gold"},
        [],
    ]

    for body in bodies:
        response = client.patch(f"/api/v1/tiers/rules/{rule_set.pk}", body)
        assert response.status_code == 422, body


def test_agent_may_not_patch_rules(api_as: Api, agent: User) -> None:
    rule_set = default_rule_set()

    response = api_as(agent).patch(f"/api/v1/tiers/rules/{rule_set.pk}", {"cut_a": "0.6"})

    assert response.status_code == 403


def test_create_and_activate_a_rule_set(api_as: Api, manager: User) -> None:
    client = api_as(manager)
    created = client.post(
        "/api/v1/tiers/rules",
        {
            "name": "加权综合",
            "measure": "weighted",
            "weights": {"revenue_t12": "0.6", "credit_grade": "0.4"},
        },
    )
    assert created.status_code == 201
    rule_set_id = created.json()["id"]
    assert created.json()["is_active"] is False
    assert len(created.json()["levels"]) == 4

    activated = client.post(f"/api/v1/tiers/rules/{rule_set_id}/activate")

    assert activated.status_code == 200
    assert activated.json()["is_active"] is True
    assert TierRuleSet.objects.get(is_active=True).pk == rule_set_id


def test_manager_changes_a_threshold_recomputes_and_customers_move_with_the_reason(
    api_as: Api, manager: User, org: dict[str, Any]
) -> None:
    # given: fixed thresholds on T12 revenue, and three customers
    client = api_as(manager)
    rule_set = default_rule_set()
    levels = [
        {"tier": "diamond", "min_value": "200000", "sla_policy": "diamond", "priority_bump": 1},
        {"tier": "gold", "min_value": "100000", "followup_days": 30},
        {"tier": "silver", "min_value": "20000", "followup_days": 90},
    ]
    patched = client.patch(
        f"/api/v1/tiers/rules/{rule_set.pk}",
        {"method": "thresholds", "measure": "revenue_t12", "levels": levels},
    )
    assert patched.status_code == 200
    big, middle, small = (customer(n, serving_team=org["team_a"]) for n in ("甲", "乙", "丙"))
    order(big, 150_000, 0)
    order(middle, 80_000, 0)
    order(small, 30_000, 0)
    assert client.post("/api/v1/tiers/recompute").status_code == 200
    assert [tier_of(c) for c in (big, middle, small)] == ["gold", "silver", "silver"]

    # when: the manager lowers gold's threshold to ¥80,000 and recomputes
    levels[1]["min_value"] = "80000"
    assert client.patch(f"/api/v1/tiers/rules/{rule_set.pk}", {"levels": levels}).status_code == 200
    recomputed = client.post("/api/v1/tiers/recompute").json()

    # then: 乙 moves to gold, the others stay, and the reason is in its history
    assert [tier_of(c) for c in (big, middle, small)] == ["gold", "gold", "silver"]
    assert (recomputed["upgraded"], recomputed["downgraded"]) == (1, 0)
    history = client.get("/api/v1/tiers/history", customer_id=middle.pk).json()
    latest = history["items"][0]
    assert (latest["from_tier"], latest["to_tier"], latest["kind"]) == (
        "silver",
        "gold",
        "recompute",
    )
    assert latest["reason"] == "近12个月销售额 ¥80,000.00，达到金下限 ¥80,000.00 → 金"
    assert latest["figures"]["threshold"] == "80000.00"
    assert latest["actor"] == "manager"


def test_history_is_scoped_to_the_customers_the_user_sees(
    api_as: Api, manager: User, agent: User, outsider: User, served: Customer
) -> None:
    api_as(manager).post("/api/v1/tiers/recompute")

    mine = api_as(agent).get("/api/v1/tiers/history", customer_id=served.pk)
    theirs = api_as(outsider).get("/api/v1/tiers/history", customer_id=served.pk)
    all_theirs = api_as(outsider).get("/api/v1/tiers/history")

    assert mine.status_code == 200
    assert mine.json()["count"] == 1
    assert theirs.status_code == 404
    assert all_theirs.json()["count"] == 0


def test_manager_pins_a_tier_through_the_api(api_as: Api, manager: User, served: Customer) -> None:
    response = api_as(manager).post(
        "/api/v1/tiers/pins",
        {
            "customer_id": served.pk,
            "tier": "gold",
            "reason": "集团客户统一定级",
            "expires_on": "2099-12-31",
        },
    )

    assert response.status_code == 201
    assert response.json()["kind"] == "pin"
    assert tier_of(served) == "gold"

    removed = api_as(manager).post(f"/api/v1/tiers/pins/{served.pk}/remove", {})
    assert removed.status_code == 200
    assert removed.json()["kind"] == "unpin"


def test_pin_bad_input_and_permissions(
    api_as: Api, manager: User, agent: User, outsider: User, served: Customer
) -> None:
    body = {"customer_id": served.pk, "tier": "gold", "reason": "x", "expires_on": "2099-01-01"}

    assert api_as(agent).post("/api/v1/tiers/pins", body).status_code == 403
    assert api_as(outsider).post("/api/v1/tiers/pins", body).status_code == 404
    past = api_as(manager).post("/api/v1/tiers/pins", {**body, "expires_on": "2020-01-01"})
    assert past.status_code == 422
    assert past.json()["error"]["fields"] == {"expires_on": ["到期日必须晚于今天。"]}
    garbage = api_as(manager).post("/api/v1/tiers/pins", {**body, "expires_on": "明天"})
    assert garbage.status_code == 422
    assert "expires_on" in garbage.json()["error"]["fields"]
    assert tier_of(served) == "ordinary"
