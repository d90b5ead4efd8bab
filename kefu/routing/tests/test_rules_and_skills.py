"""Rules and skills: the services' checks, the pages, the API, the board."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.org.models import User
from kefu.routing.engine import route
from kefu.routing.hooks import register_load_counter
from kefu.routing.models import AgentSkill, RoutingRule, Skill
from kefu.routing.services import (
    RuleInput,
    agent_skill_set,
    routing_rule_create,
    routing_rule_update,
    skill_create,
    skill_delete,
)
from kefu.routing.tests.helpers import give, online, rule, skill

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_manager_creates_a_rule_that_routing_uses_at_once(
    manager: User, agent: User, org: dict[str, Any]
) -> None:
    skill("complaint", "投诉处理")
    give(agent, "complaint", 4)
    online(agent)
    created = routing_rule_create(
        actor=manager,
        data=RuleInput(
            name="投诉",
            ticket_type="complaint",
            required_skill="complaint",
            team_id=org["team_a"].pk,
        ),
    )
    assert route(ticket_type="complaint").assignee_id == agent.pk
    assert AuditEvent.objects.filter(action="create", object_id=str(created.pk)).exists()


def test_a_rule_needs_a_team_or_a_skill(manager: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        routing_rule_create(actor=manager, data=RuleInput(name="空规则"))
    assert caught.value.fields == {"__all__": ["目标班组和所需技能至少要填一项。"]}
    assert not RoutingRule.objects.exists()


def test_unknown_codes_are_refused_together_in_chinese(manager: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        routing_rule_create(
            actor=manager,
            data=RuleInput(
                name="坏规则",
                ticket_type="refund",
                tier="platinum",
                required_skill="klingon",
                team_id=999_999,
                strategy="random",
                min_skill_level=9,
            ),
        )
    fields = caught.value.fields
    assert fields["ticket_type"] == [
        "未知的工单类型“refund”，可选：inquiry、complaint、order、claim、arbitration、repair、"
        "suggestion。"
    ]
    assert fields["tier"][0].startswith("未知的客户等级“platinum”")
    assert fields["required_skill"] == ["技能编码“klingon”不存在。"]
    assert fields["team_id"] == ["班组不存在（编号 999999）。"]
    assert fields["strategy"][0].startswith("分配方式只能是")
    assert fields["min_skill_level"] == ["最低熟练度必须是 1 到 5 的整数。"]
    assert not RoutingRule.objects.exists()


def test_rule_names_are_unique(manager: User, org: dict[str, Any]) -> None:
    first = routing_rule_create(
        actor=manager, data=RuleInput(name="一组", team_id=org["team_a"].pk)
    )
    with pytest.raises(ApplicationError) as caught:
        routing_rule_create(actor=manager, data=RuleInput(name="一组", team_id=org["team_b"].pk))
    assert caught.value.fields == {"name": ["名称“一组”已被使用。"]}
    # keeping its own name on update is fine
    routing_rule_update(
        actor=manager, rule=first, data=RuleInput(name="一组", team_id=org["team_b"].pk, order=3)
    )
    first.refresh_from_db()
    assert (first.team_id, first.order) == (org["team_b"].pk, 3)


def test_agents_and_supervisors_may_not_edit_rules_or_skills(
    agent: User, supervisor: User, org: dict[str, Any]
) -> None:
    for user in (agent, supervisor):
        with pytest.raises(Forbidden):
            routing_rule_create(actor=user, data=RuleInput(name="x", team_id=org["team_a"].pk))
        with pytest.raises(Forbidden):
            skill_create(actor=user, code="x", name="x")


def test_skills_codes_levels_and_deletion(manager: User, agent: User, org: dict[str, Any]) -> None:
    english = skill_create(actor=manager, code="english", name="英语")
    with pytest.raises(ApplicationError) as caught:
        skill_create(actor=manager, code="English Skill", name="英语")
    assert caught.value.fields == {"code": ["编码只能包含小写字母、数字、_ 和 -。"]}
    with pytest.raises(ApplicationError) as level:
        agent_skill_set(actor=manager, user=agent, skill_code="english", level=6)
    assert level.value.fields == {"level": ["熟练度必须是 1 到 5 的整数。"]}
    agent_skill_set(actor=manager, user=agent, skill_code="english", level=2)
    agent_skill_set(actor=manager, user=agent, skill_code="english", level=5)
    assert AgentSkill.objects.get(user=agent, skill=english).level == 5
    # a skill a rule requires cannot be deleted
    rule("英语", skill_code="english")
    with pytest.raises(ApplicationError) as in_use:
        skill_delete(actor=manager, skill=english)
    assert in_use.value.status == 409
    assert Skill.objects.filter(pk=english.pk).exists()


# --- pages ---------------------------------------------------------------------------------


def test_rule_page_creates_and_refuses_in_chinese(manager: User, org: dict[str, Any]) -> None:
    client = _client(manager)
    form = {
        "name": "华东报修",
        "order": "10",
        "is_active": "on",
        "ticket_type": "repair",
        "region_prefix": "华东",
        "min_skill_level": "1",
        "team_id": str(org["team_repair"].pk),
        "strategy": "least_loaded",
    }
    assert client.get(reverse("routing:rule_create")).status_code == 200
    created = client.post(reverse("routing:rule_create"), form)
    assert created.status_code == 302
    saved = RoutingRule.objects.get(name="华东报修")
    assert (saved.team_id, saved.strategy, saved.updated_by_id) == (
        org["team_repair"].pk,
        "least_loaded",
        manager.pk,
    )
    listing = client.get(reverse("routing:rules")).content.decode()
    assert "华东报修" in listing

    refused = client.post(reverse("routing:rule_create"), {**form, "name": "无目标", "team_id": ""})
    assert refused.status_code == 422
    assert "目标班组和所需技能至少要填一项。" in refused.content.decode()

    edited = client.post(reverse("routing:rule", args=[saved.pk]), {**form, "order": "20"})
    assert edited.status_code == 302
    saved.refresh_from_db()
    assert saved.order == 20
    deleted = client.post(reverse("routing:rule_delete", args=[saved.pk]))
    assert deleted.status_code == 302
    assert not RoutingRule.objects.exists()


def test_supervisor_reads_rules_but_cannot_change_them(
    supervisor: User, outsider: User, org: dict[str, Any]
) -> None:
    team_rule = rule("一组", team=org["team_a"])
    client = _client(supervisor)
    assert client.get(reverse("routing:rule", args=[team_rule.pk])).status_code == 200
    assert client.post(reverse("routing:rule", args=[team_rule.pk]), {}).status_code == 403
    assert client.post(reverse("routing:rule_delete", args=[team_rule.pk])).status_code == 403
    assert client.get(reverse("routing:rule", args=[999_999])).status_code == 404
    # agents see neither rules nor the board
    agents = _client(outsider)
    assert agents.get(reverse("routing:rules")).status_code == 403
    assert agents.get(reverse("routing:board")).status_code == 403


def test_skills_page_adds_skills_and_gives_them_to_agents(manager: User, agent: User) -> None:
    client = _client(manager)
    assert (
        client.post(
            reverse("routing:skills"), {"form": "skill", "code": "aircon", "name": "空调"}
        ).status_code
        == 302
    )
    given = client.post(
        reverse("routing:skills"),
        {"form": "agent_skill", "user_id": str(agent.pk), "skill": "aircon", "level": "4"},
    )
    assert given.status_code == 302
    assert AgentSkill.objects.get(user=agent).level == 4
    page = client.get(reverse("routing:skills")).content.decode()
    assert "空调 · 4" in page
    duplicate = client.post(
        reverse("routing:skills"), {"form": "skill", "code": "aircon2", "name": "空调"}
    )
    assert duplicate.status_code == 422
    assert "名称“空调”已被使用。" in duplicate.content.decode()
    removed = client.post(
        reverse("routing:skills"), {"form": "remove", "user_id": str(agent.pk), "skill": "aircon"}
    )
    assert removed.status_code == 302
    assert not AgentSkill.objects.exists()


# --- board ---------------------------------------------------------------------------------


def test_supervisor_sees_their_teams_agents_with_status_and_load(
    supervisor: User, agent: User, outsider: User, make_user: Callable[..., User]
) -> None:
    online(agent)
    give(agent, "complaint", 5)
    register_load_counter(lambda ids: dict.fromkeys(ids, 2))
    client = _client(supervisor)

    page = client.get(reverse("routing:board"))
    partial = client.get(reverse("routing:board"), headers={"HX-Request": "true"})

    html = page.content.decode()
    assert page.status_code == 200
    assert 'hx-trigger="every 10s"' in html
    assert f'data-agent="{agent.pk}"' in html
    assert 'data-status="online"' in html
    assert "complaint·5" in html
    assert f'data-agent="{outsider.pk}"' not in html  # team B is not the supervisor's
    assert partial.status_code == 200
    assert not partial.content.decode().lstrip().startswith("<!doctype")
    assert 'id="routing-board"' in partial.content.decode()


def test_board_api_for_supervisors_and_managers(
    supervisor: User,
    manager: User,
    agent: User,
    outsider: User,
    api_as: Callable[..., Any],
) -> None:
    online(agent)
    register_load_counter(lambda ids: {agent.pk: 3})
    mine = api_as(supervisor).get("/api/v1/routing/board").json()
    assert [team["name"] for team in mine["items"]] == ["客服一组"]
    row = next(a for a in mine["items"][0]["agents"] if a["user_id"] == agent.pk)
    assert (row["status"], row["load"]) == ("online", 3)
    assert mine["items"][0]["online"] == 1
    everyone = api_as(manager).get("/api/v1/routing/board").json()
    assert everyone["count"] == 4
    assert api_as(outsider).get("/api/v1/routing/board").status_code == 403


def test_rules_api_creates_updates_deletes_and_refuses_bad_input(
    manager: User, agent: User, org: dict[str, Any], api_as: Callable[..., Any]
) -> None:
    client = api_as(manager)
    bad = client.post("/api/v1/routing/rules", {"name": "坏", "required_skill": "nope"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {
        "required_skill": ["技能编码“nope”不存在。"],
    }
    created = client.post(
        "/api/v1/routing/rules",
        {"name": "一组", "team_id": org["team_a"].pk, "strategy": "least_loaded"},
    )
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert created.json()["updated_at"].endswith("+08:00")
    updated = client.client.put(
        f"/api/v1/routing/rules/{rule_id}",
        {"name": "一组", "team_id": org["team_b"].pk},
        content_type="application/json",
        headers=client.headers,
    )
    assert updated.json()["team_id"] == org["team_b"].pk
    assert client.get("/api/v1/routing/rules").json()["count"] == 1
    assert api_as(agent).get("/api/v1/routing/rules").status_code == 403
    assert (
        api_as(agent)
        .post("/api/v1/routing/rules", {"name": "x", "team_id": org["team_a"].pk})
        .status_code
        == 403
    )
    deleted = client.client.delete(f"/api/v1/routing/rules/{rule_id}", headers=client.headers)
    assert deleted.status_code == 204
    assert client.get(f"/api/v1/routing/rules/{rule_id}").status_code in (404, 405)
    assert not RoutingRule.objects.exists()


def test_admin_refuses_a_rule_without_team_or_skill(superuser: User) -> None:
    client = _client(superuser)
    response = client.post(
        reverse("admin:routing_routingrule_add"),
        {"name": "空", "order": "1", "min_skill_level": "1", "strategy": "round_robin"},
    )
    assert response.status_code == 200
    assert "目标班组和所需技能至少要填一项。" in response.content.decode()
    assert not RoutingRule.objects.exists()
