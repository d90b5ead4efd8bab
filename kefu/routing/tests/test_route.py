"""kefu.routing.engine.route: rules, presence, skills, both strategies, the hooks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from kefu.org.models import User
from kefu.routing.engine import route
from kefu.routing.hooks import register_bound_team_lookup, register_load_counter
from kefu.routing.models import AgentPresence, RoutingCursor, RoutingRule
from kefu.routing.tests.helpers import give, online, rule, set_status

pytestmark = pytest.mark.django_db
Status = AgentPresence.Status
LEAST = RoutingRule.Strategy.LEAST_LOADED


@pytest.fixture
def team_a_agents(make_user: Callable[..., User]) -> list[User]:
    return [make_user(f"a{n}", "agent", teams=("team_a",)) for n in range(3)]


@pytest.fixture
def team_b_agent(make_user: Callable[..., User]) -> User:
    return make_user("b0", "agent", teams=("team_b",))


# --- matching ------------------------------------------------------------------------------


def test_no_rule_leaves_the_ticket_unassigned_with_the_reason(org: dict[str, Any]) -> None:
    decision = route(ticket_type="inquiry")
    assert (decision.team_id, decision.assignee_id, decision.rule_id) == (None, None, None)
    assert "没有匹配的分配规则" in decision.reason


def test_first_matching_active_rule_by_order_wins(
    org: dict[str, Any], team_a_agents: list[User], team_b_agent: User
) -> None:
    # given a catch-all rule, a complaint rule placed before it and an inactive one before both
    online(*team_a_agents, team_b_agent)
    catch_all = rule("兜底", team=org["team_a"], order=100)
    complaints = rule("投诉", team=org["team_b"], order=10, ticket_type="complaint")
    rule("停用", team=org["team_a"], order=1, is_active=False)

    # then complaints go by the complaint rule, everything else by the catch-all
    complaint = route(ticket_type="complaint")
    assert (complaint.rule_id, complaint.team_id) == (complaints.pk, org["team_b"].pk)
    assert complaint.assignee_id == team_b_agent.pk
    assert "匹配规则“投诉”" in complaint.reason
    inquiry = route(ticket_type="inquiry")
    assert (inquiry.rule_id, inquiry.team_id) == (catch_all.pk, org["team_a"].pk)
    assert inquiry.assignee_id in {user.pk for user in team_a_agents}


def test_equal_order_falls_back_to_the_older_rule(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    older = rule("先建", team=org["team_a"], order=5)
    rule("后建", team=org["team_b"], order=5)
    assert route(ticket_type="inquiry").rule_id == older.pk


@pytest.mark.parametrize(
    ("attributes", "matches"),
    [
        ({"ticket_type": "repair", "product": "空调", "region": "华东/上海", "tier": "gold"}, True),
        ({"ticket_type": "repair", "product": " 空调 ", "region": "华东", "tier": "gold"}, True),
        ({"ticket_type": "claim", "product": "空调", "region": "华东/上海", "tier": "gold"}, False),
        (
            {"ticket_type": "repair", "product": "冰箱", "region": "华东/上海", "tier": "gold"},
            False,
        ),
        (
            {"ticket_type": "repair", "product": "空调", "region": "华南/广州", "tier": "gold"},
            False,
        ),
        ({"ticket_type": "repair", "product": "空调", "region": "上海华东", "tier": "gold"}, False),
        ({"ticket_type": "repair", "product": "空调", "region": "华东", "tier": "silver"}, False),
        ({"ticket_type": "repair", "product": "空调", "region": "华东", "tier": ""}, False),
    ],
)
def test_every_filled_field_of_a_rule_must_match(
    org: dict[str, Any], attributes: dict[str, str], matches: bool
) -> None:
    specific = rule(
        "华东金牌空调报修",
        team=org["team_repair"],
        ticket_type="repair",
        product="空调",
        region_prefix="华东",
        tier="gold",
    )
    assert (route(**attributes).rule_id == specific.pk) is matches  # type: ignore[arg-type]


def test_product_matches_without_regard_to_case(org: dict[str, Any]) -> None:
    english = rule("iPhone", team=org["team_a"], product="iPhone")
    assert route(ticket_type="inquiry", product="IPHONE").rule_id == english.pk


def test_region_prefix_matches_administrative_codes(org: dict[str, Any]) -> None:
    shanghai = rule("上海", team=org["team_a"], region_prefix="31")
    assert route(ticket_type="inquiry", region="310115").rule_id == shanghai.pk
    assert route(ticket_type="inquiry", region="320100").rule_id is None


# --- presence ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.BUSY, Status.BREAK, Status.OFFLINE])
def test_only_online_agents_get_work(
    org: dict[str, Any], team_a_agents: list[User], status: str
) -> None:
    # given one agent online and the others in the status under test
    first, *others = team_a_agents
    online(first)
    for other in others:
        set_status(other, status)
    rule("一组", team=org["team_a"])

    # then every route goes to the online one
    assert {route(ticket_type="inquiry").assignee_id for _ in range(4)} == {first.pk}


def test_no_online_agent_leaves_the_ticket_in_the_team_queue(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    # given the team's agents busy, on a break, or never set
    set_status(team_a_agents[0], Status.BUSY)
    set_status(team_a_agents[1], Status.BREAK)
    team_rule = rule("一组", team=org["team_a"])

    decision = route(ticket_type="inquiry")

    assert (decision.team_id, decision.assignee_id, decision.rule_id) == (
        org["team_a"].pk,
        None,
        team_rule.pk,
    )
    assert "班组“客服一组”暂无在线坐席" in decision.reason
    assert "待分配队列" in decision.reason


def test_inactive_users_get_no_work_even_when_online(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    first, second, _third = team_a_agents
    online(first, second)
    second.is_active = False
    second.save(update_fields=["is_active"])
    rule("一组", team=org["team_a"])
    assert {route(ticket_type="inquiry").assignee_id for _ in range(3)} == {first.pk}


def test_members_of_other_teams_do_not_get_the_teams_work(
    org: dict[str, Any], team_a_agents: list[User], team_b_agent: User
) -> None:
    online(team_b_agent)
    rule("一组", team=org["team_a"])
    decision = route(ticket_type="inquiry")
    assert (decision.team_id, decision.assignee_id) == (org["team_a"].pk, None)


# --- skills --------------------------------------------------------------------------------


def test_a_required_skill_limits_the_candidates(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    first, second, third = team_a_agents
    online(first, second, third)
    give(second, "english", level=4)
    give(third, "english", level=1)
    give(first, "complaint", level=5)
    rule("英语", team=org["team_a"], skill_code="english", min_skill_level=3)

    assert {route(ticket_type="inquiry").assignee_id for _ in range(3)} == {second.pk}


def test_no_agent_with_the_skill_online_names_the_skill(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    online(team_a_agents[0])
    give(team_a_agents[1], "claim")
    rule("理赔", team=org["team_a"], skill_code="claim")
    decision = route(ticket_type="claim")
    assert (decision.team_id, decision.assignee_id) == (org["team_a"].pk, None)
    assert "具备技能“claim”" in decision.reason


def test_a_skill_only_rule_looks_across_teams_and_gives_the_agents_team(
    org: dict[str, Any], team_a_agents: list[User], team_b_agent: User
) -> None:
    online(team_a_agents[0], team_b_agent)
    give(team_b_agent, "arbitration")
    skill_rule = rule("仲裁", skill_code="arbitration", ticket_type="arbitration")

    decision = route(ticket_type="arbitration")

    assert decision.assignee_id == team_b_agent.pk
    assert decision.team_id == org["team_b"].pk
    assert decision.rule_id == skill_rule.pk


def test_a_skill_only_rule_without_anyone_online_leaves_it_unassigned(
    org: dict[str, Any], team_b_agent: User
) -> None:
    give(team_b_agent, "arbitration")
    rule("仲裁", skill_code="arbitration")
    decision = route(ticket_type="arbitration")
    assert (decision.team_id, decision.assignee_id) == (None, None)
    assert "未分配队列" in decision.reason


# --- round robin ---------------------------------------------------------------------------


def test_round_robin_takes_turns_by_id_and_wraps(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    online(*team_a_agents)
    team_rule = rule("一组", team=org["team_a"])
    picks = [route(ticket_type="inquiry").assignee_id for _ in range(7)]
    ids = [user.pk for user in team_a_agents]
    assert picks == [*ids, *ids, ids[0]]
    cursor = RoutingCursor.objects.get(key=f"rule:{team_rule.pk}")
    assert (cursor.turns, cursor.last_user_id) == (7, ids[0])
    assert route(ticket_type="inquiry").reason == "匹配规则“一组”；轮流分配给 a1。"


def test_round_robin_skips_an_agent_who_went_on_a_break(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    first, second, third = team_a_agents
    online(*team_a_agents)
    rule("一组", team=org["team_a"])
    assert route(ticket_type="inquiry").assignee_id == first.pk
    set_status(second, Status.BREAK)
    assert route(ticket_type="inquiry").assignee_id == third.pk
    assert route(ticket_type="inquiry").assignee_id == first.pk


def test_each_rule_keeps_its_own_turn(org: dict[str, Any], team_a_agents: list[User]) -> None:
    online(*team_a_agents)
    rule("咨询", team=org["team_a"], ticket_type="inquiry")
    rule("投诉", team=org["team_a"], ticket_type="complaint")
    first = team_a_agents[0].pk
    assert route(ticket_type="inquiry").assignee_id == first
    assert route(ticket_type="complaint").assignee_id == first


# --- least loaded --------------------------------------------------------------------------


def test_least_loaded_picks_the_fewest_open_items(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    first, second, third = team_a_agents
    online(*team_a_agents)
    loads = {first.pk: 4, second.pk: 1, third.pk: 2}
    asked: list[list[int]] = []

    def open_tickets(user_ids: list[int]) -> dict[int, int]:
        asked.append(sorted(user_ids))
        return {pk: loads[pk] for pk in user_ids}

    register_load_counter(open_tickets)
    rule("一组", team=org["team_a"], strategy=LEAST)

    decision = route(ticket_type="inquiry")

    assert decision.assignee_id == second.pk
    assert "在办 1 件" in decision.reason
    assert asked == [sorted(loads)]


def test_load_counters_add_up(org: dict[str, Any], team_a_agents: list[User]) -> None:
    first, second, _third = team_a_agents
    online(first, second)
    register_load_counter(lambda ids: {first.pk: 1, second.pk: 2})
    register_load_counter(lambda ids: {first.pk: 3})  # e.g. open work orders
    rule("一组", team=org["team_a"], strategy=LEAST)
    assert route(ticket_type="inquiry").assignee_id == second.pk


def test_least_loaded_ties_go_to_the_longest_idle_then_the_lowest_id(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    first, second, third = team_a_agents
    now = timezone.now()
    set_status(first, Status.ONLINE, since=now - timedelta(minutes=5))
    set_status(second, Status.ONLINE, since=now - timedelta(minutes=30))
    set_status(third, Status.ONLINE, since=now - timedelta(minutes=30))
    rule("一组", team=org["team_a"], strategy=LEAST)

    # second and third have been idle equally long (30 min): the lower id first; then the one
    # not routed to since; then first, idle longer than the two just routed to
    picks = [route(ticket_type="inquiry").assignee_id for _ in range(4)]

    assert picks == [second.pk, third.pk, first.pk, second.pk]


def test_least_loaded_without_a_counter_counts_nobody_busy(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    online(*team_a_agents)
    rule("一组", team=org["team_a"], strategy=LEAST)
    decision = route(ticket_type="inquiry")
    assert decision.assignee_id == team_a_agents[0].pk  # online longest (online() staggers)
    assert "在办 0 件" in decision.reason


# --- key accounts --------------------------------------------------------------------------


def test_a_bound_team_wins_over_the_rules(
    org: dict[str, Any], team_a_agents: list[User], team_b_agent: User
) -> None:
    # given a rule for team A and a key-account lookup binding customer 42 to team B
    online(*team_a_agents, team_b_agent)
    rule("一组", team=org["team_a"])
    seen: list[int] = []

    def key_accounts(customer_id: int) -> int | None:
        seen.append(customer_id)
        return org["team_b"].pk if customer_id == 42 else None

    register_bound_team_lookup(key_accounts)

    bound = route(ticket_type="complaint", customer_id=42)
    assert (bound.team_id, bound.assignee_id, bound.rule_id) == (
        org["team_b"].pk,
        team_b_agent.pk,
        None,
    )
    assert "大客户班组“客服二组”" in bound.reason

    other = route(ticket_type="complaint", customer_id=7)
    assert other.team_id == org["team_a"].pk
    assert route(ticket_type="complaint").team_id == org["team_a"].pk  # no customer, no lookup
    assert seen == [42, 7]


def test_a_bound_team_without_anyone_online_queues_in_that_team(
    org: dict[str, Any], team_a_agents: list[User], team_b_agent: User
) -> None:
    online(*team_a_agents)
    rule("一组", team=org["team_a"])
    register_bound_team_lookup(lambda customer_id: org["team_b"].pk)
    decision = route(ticket_type="inquiry", customer_id=1)
    assert (decision.team_id, decision.assignee_id) == (org["team_b"].pk, None)
    assert "暂无在线坐席" in decision.reason


def test_a_lookup_naming_a_deleted_team_falls_back_to_the_rules(
    org: dict[str, Any], team_a_agents: list[User]
) -> None:
    online(*team_a_agents)
    rule("一组", team=org["team_a"])
    register_bound_team_lookup(lambda customer_id: 999_999)
    assert route(ticket_type="inquiry", customer_id=1).team_id == org["team_a"].pk


# --- cost and cache ------------------------------------------------------------------------


def test_a_decision_takes_a_handful_of_queries(
    org: dict[str, Any],
    team_a_agents: list[User],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    online(*team_a_agents)
    for n in range(20):
        rule(f"产品{n}", team=org["team_b"], product=f"产品{n}", order=n)
    rule("一组", team=org["team_a"], order=50, skill_code="")
    route(ticket_type="inquiry")  # loads the rules into the process cache

    # candidates, the cursor (update, read, update) and the agent's last_routed_at
    with django_assert_max_num_queries(5):
        assert route(ticket_type="inquiry").team_id == org["team_a"].pk
    with django_assert_max_num_queries(2):  # no candidate: one query
        route(ticket_type="inquiry", product="产品3")


def test_rule_changes_reach_the_cached_rules(org: dict[str, Any]) -> None:
    first = rule("一组", team=org["team_a"])
    assert route(ticket_type="inquiry").rule_id == first.pk
    # a change saved through the ORM (the admin, a service) reloads the cache
    first.is_active = False
    first.save(update_fields=["is_active", "updated_at"])
    assert route(ticket_type="inquiry").rule_id is None
    second = rule("二组", team=org["team_b"])
    assert route(ticket_type="inquiry").rule_id == second.pk
    second.delete()
    assert route(ticket_type="inquiry").rule_id is None
