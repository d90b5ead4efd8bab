"""The dashboard's figures on the hand-counted desk of conftest.py, its scope, and the drill-down:
the ticket list behind each link shows as many tickets as the figure says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from kefu.dashboard.tasks import dashboard_kpis_warm_task
from kefu.desk.models import Ticket
from kefu.org.models import User


def _data(client: Client, user: User, **params: Any) -> dict[str, Any]:
    client.force_login(user)
    response = client.get("/dashboard/data/", params)
    assert response.status_code == 200, response.content
    answer: dict[str, Any] = response.json()
    return answer


def _list_count(client: Client, link: str) -> int:
    response = client.get(link)
    assert response.status_code == 200, link
    count: int = response.context["count"]
    return count


def test_the_supervisor_sees_their_teams_figures_hand_counted(
    client: Client, supervisor: User, desk: dict[str, Ticket], frozen_now: datetime
) -> None:
    # when
    data = _data(client, supervisor)

    # then: team A only (T6 of team B is left out)
    tickets = data["tickets"]
    assert tickets["open"]["count"] == 5  # T1 T2 T3 T4 T7
    assert tickets["backlog"]["count"] == 4  # T4 is resolved, waiting to be closed
    assert dict(zip(tickets["by_status"]["keys"], tickets["by_status"]["counts"], strict=True)) == {
        "new": 1,
        "open": 1,
        "in_progress": 1,
        "pending_customer": 1,
        "resolved": 1,
    }
    assert tickets["by_status"]["categories"][:2] == ["新建", "已受理"]
    assert dict(zip(tickets["by_age"]["keys"], tickets["by_age"]["counts"], strict=True)) == {
        "lt1d": 2,  # T1 T7
        "1to3d": 1,  # T2
        "3to7d": 0,
        "7to30d": 1,  # T3
        "gt30d": 0,  # T4 is resolved: not in the backlog
    }
    assert tickets["at_risk"]["count"] == 2  # T2 T7
    assert tickets["breached"]["count"] == 1  # T3
    assert tickets["created_today"]["count"] == 2  # T1 T7
    assert tickets["created_week"]["count"] == 4  # T1 T2 T5 T7
    assert tickets["resolved_today"]["count"] == 1  # T4
    assert tickets["resolved_week"]["count"] == 2  # T4 T5
    # the most urgent first: T7's response due in 20 min, then T2's resolution in 1 h
    assert [row["number"] for row in data["urgent"]] == [
        desk["T7"].number,
        desk["T2"].number,
    ]
    assert data["urgent"][0]["due_kind"] == "响应"
    assert data["urgent"][0]["due_at"] == "2026-11-25 15:20"
    assert data["urgent"][0]["left"] == "20 分 00 秒"
    assert data["urgent"][0]["assignee"] == "未分派"
    assert data["urgent"][1]["due_kind"] == "解决"
    assert data["urgent"][1]["assignee"] == "agent"
    # calls: c1 and c2 ring, c3 lost its end event hours ago, c4 was answered
    assert data["calls"]["count"] == 2
    assert data["calls"]["longest_wait_s"] == 90
    assert data["calls"]["longest_wait"] == "最长等待 1 分 30 秒"
    # agents of team A: agent online, agent2 on a break, the supervisor offline
    assert {item["status"]: item["count"] for item in data["agents"]["presence"]} == {
        "online": 1,
        "busy": 0,
        "break": 1,
        "offline": 1,
    }
    assert [
        (row["name"], row["status"], row["open"], row["resolved_today"])
        for row in data["agents"]["rows"]
    ] == [("agent", "online", 3, 1), ("agent2", "break", 0, 0)]
    assert data["scope"]["label"] == "我的班组"
    assert [team["name"] for team in data["scope"]["teams"]] == ["客服一组"]
    assert data["generated_at"] == "2026-11-25 15:00:00"
    assert data["refresh_s"] == 30


def test_a_manager_sees_every_team_and_can_narrow_to_one(
    client: Client,
    manager: User,
    org: dict[str, Any],
    desk: dict[str, Ticket],
    frozen_now: datetime,
) -> None:
    everything = _data(client, manager)
    assert everything["tickets"]["open"]["count"] == 6
    assert everything["tickets"]["created_today"]["count"] == 3
    assert everything["scope"]["label"] == "全部班组"
    assert len(everything["scope"]["teams"]) == 4
    assert [row["name"] for row in everything["agents"]["rows"]] == ["agent", "outsider", "agent2"]

    team_b = _data(client, manager, team=org["team_b"].pk)
    assert team_b["tickets"]["open"]["count"] == 1
    assert team_b["tickets"]["by_status"]["keys"] == ["open"]
    assert team_b["tickets"]["at_risk"]["count"] == 0
    assert team_b["scope"] == {
        "team_id": org["team_b"].pk,
        "label": "客服二组",
        "teams": everything["scope"]["teams"],
    }
    assert [row["name"] for row in team_b["agents"]["rows"]] == ["outsider"]


def test_a_supervisor_cannot_pick_another_team_and_an_agent_is_refused(
    client: Client,
    supervisor: User,
    agent: User,
    org: dict[str, Any],
    desk: dict[str, Ticket],
) -> None:
    client.force_login(supervisor)
    response = client.get("/dashboard/data/", {"team": org["team_b"].pk})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "班组不存在，或不在您的查看范围内。"
    assert client.get("/dashboard/", {"team": org["team_b"].pk}).status_code == 404

    client.force_login(agent)
    response = client.get("/dashboard/data/")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "您没有查看服务看板的权限。"
    assert client.get("/dashboard/").status_code == 403


def test_the_nav_entry_is_for_those_who_may_view_kpis(
    client: Client, supervisor: User, agent: User, org: dict[str, Any]
) -> None:
    client.force_login(supervisor)
    assert 'href="/dashboard/"' in client.get("/").content.decode()
    client.force_login(agent)
    assert 'href="/dashboard/"' not in client.get("/").content.decode()


def _links(data: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(what, figure, link) of every ticket figure on the dashboard."""
    tickets = data["tickets"]
    links = [
        (key, tickets[key]["count"], tickets[key]["link"])
        for key in (
            "open",
            "backlog",
            "at_risk",
            "breached",
            "created_today",
            "created_week",
            "resolved_today",
            "resolved_week",
        )
    ]
    for chart in ("by_status", "by_age"):
        links += [
            (f"{chart}:{key}", count, link)
            for key, count, link in zip(
                tickets[chart]["keys"],
                tickets[chart]["counts"],
                tickets[chart]["links"],
                strict=True,
            )
        ]
    for row in data["agents"]["rows"]:
        links.append((f"{row['name']}:open", row["open"], row["open_link"]))
        links.append((f"{row['name']}:resolved", row["resolved_today"], row["resolved_link"]))
    return links


@pytest.mark.parametrize("persona", ["supervisor", "manager"])
def test_every_figure_links_to_as_many_tickets_as_it_says(
    client: Client,
    persona: str,
    request: pytest.FixtureRequest,
    desk: dict[str, Ticket],
    frozen_now: datetime,
) -> None:
    user = request.getfixturevalue(persona)
    data = _data(client, user)
    links = _links(data)
    assert data["agents"]["rows"]
    assert len(links) == (
        8 + len(data["tickets"]["by_status"]["keys"]) + 5 + 2 * len(data["agents"]["rows"])
    )
    for what, figure, link in links:
        assert _list_count(client, link) == figure, (what, link)
    # and the same with one team picked
    team_id = desk["T1"].team_id
    for what, figure, link in _links(_data(client, user, team=team_id)):
        assert _list_count(client, link) == figure, (what, link)


def test_the_list_shows_the_drill_down_filters_and_keeps_them(
    client: Client,
    supervisor: User,
    org: dict[str, Any],
    desk: dict[str, Ticket],
    frozen_now: datetime,
) -> None:
    client.force_login(supervisor)
    team_a, team_b = org["team_a"].pk, org["team_b"].pk
    response = client.get(
        "/tickets/",
        {
            "queue": "all",
            "teams": f"{team_b},{team_a},x",
            "created_from": "2026-11-23",
            "created_to": "2026-11-25",
            "age": "1to3d",
        },
    )
    page = response.content.decode()
    # created this week and 1 to 3 days ago: T2 (open) and T5 (closed: the queue is "all")
    assert [ticket.number for ticket in response.context["tickets"]] == [
        desk["T5"].number,
        desk["T2"].number,
    ]
    assert "班组：客服一组、客服二组" in page
    assert "创建自：2026-11-23" in page
    assert "开单时长：1–3天" in page
    assert f'name="teams" value="{min(team_a, team_b)},{max(team_a, team_b)}"' in page
    # a wrong date or age is ignored, as the other filters' wrong values are
    response = client.get("/tickets/", {"queue": "all", "created_from": "2026-13-01", "age": "x"})
    assert response.context["count"] == 8  # the supervisor's department: teams A and B
    assert 'data-testid="extra-filters"' not in response.content.decode()


def test_the_api_list_takes_the_drill_down_filters(
    api_as: Callable[[User | None], Any],
    supervisor: User,
    org: dict[str, Any],
    desk: dict[str, Ticket],
    frozen_now: datetime,
) -> None:
    api = api_as(supervisor)
    answer = api.get(
        "/api/v1/tickets",
        queue="all",
        teams=str(org["team_a"].pk),
        resolved_from="2026-11-23",
        resolved_to="2026-11-24",
    ).json()
    assert [item["number"] for item in answer["items"]] == [desk["T5"].number]
    answer = api.get("/api/v1/tickets", queue="open", age="gt30d").json()
    assert [item["number"] for item in answer["items"]] == [desk["T4"].number]

    response = api.get("/api/v1/tickets", age="old")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["age"] == [
        "开单时长只能是：lt1d、1to3d、3to7d、7to30d、gt30d。"
    ]
    response = api.get("/api/v1/tickets", teams="1,abc")
    assert response.status_code == 400
    assert "teams" in response.json()["error"]["fields"]
    for wrong in ("2026-02-30", "0", "2026-1-5"):
        response = api.get("/api/v1/tickets", created_from=wrong)
        assert response.status_code == 422, wrong
        assert "created_from" in response.json()["error"]["fields"]


def test_the_api_answers_the_same_as_the_page_data(
    client: Client,
    api_as: Callable[[User | None], Any],
    supervisor: User,
    agent: User,
    desk: dict[str, Ticket],
    frozen_now: datetime,
) -> None:
    answer = api_as(supervisor).get("/api/v1/dashboard").json()
    assert answer == _data(client, supervisor)
    assert api_as(agent).get("/api/v1/dashboard").status_code == 403
    assert api_as(supervisor).get("/api/v1/dashboard", team=999999).status_code == 404


@pytest.mark.parametrize("persona", ["supervisor", "manager"])
def test_the_data_takes_a_fixed_handful_of_queries(
    client: Client,
    persona: str,
    request: pytest.FixtureRequest,
    desk: dict[str, Ticket],
    frozen_now: datetime,
    settings: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client.force_login(request.getfixturevalue(persona))
    client.get("/dashboard/data/")  # the permissions are cached, the KPI cards too
    # the session and the user, then the teams, the members with their presence, the open
    # tickets grouped, created, resolved, the ten most urgent, the calls waiting, the agents'
    # resolved today
    with django_assert_max_num_queries(10):
        assert client.get("/dashboard/data/").status_code == 200
    # without the KPI cache: the KPI layer's 8 queries for today and 8 for the week on top
    settings.KEFU_DASHBOARD_KPI_CACHE_S = 0
    with django_assert_max_num_queries(10 + 16):
        assert client.get("/dashboard/data/").status_code == 200


def test_the_page_renders_the_figures_and_the_refresh_setting(
    client: Client,
    supervisor: User,
    desk: dict[str, Ticket],
    frozen_now: datetime,
    settings: Any,
) -> None:
    settings.KEFU_DASHBOARD_REFRESH_S = 2
    client.force_login(supervisor)
    page = client.get("/dashboard/").content.decode()
    assert 'data-figure="tickets.open.count">5<' in page
    assert 'data-refresh-ms="2000"' in page
    assert "vendor/echarts/echarts.min.js" in page
    assert desk["T7"].number in page


def _cards(data: dict[str, Any], period: str) -> dict[str, tuple[str, str]]:
    return {card["key"]: (card["display"], card["scope"]) for card in data["kpis"][period]}


def test_the_kpi_cards_of_today_and_this_week_hand_computed(
    client: Client, manager: User, desk: dict[str, Ticket], frozen_now: datetime
) -> None:
    data = _data(client, manager)
    assert _cards(data, "day") == {
        "answer_rate": ("50.0%", ""),  # k1 k2 of k1..k4
        "abandon_rate": ("33.3%", ""),  # k3 of the 3 offered without k4's short abandon
        "service_level": ("50.0%", ""),  # k1 ÷ (2 answered + 0 abandoned after 20 s)
        "asa": ("20.0 秒", ""),  # (10 + 30) ÷ 2
        "aht": ("150.0 秒", ""),  # (100 + 200) ÷ 2
        "fcr": ("—", ""),  # no ticket has a customer: no eligible first contact
        "sla_response": ("0.0%", ""),  # T7 due 15:20 and not answered
        "sla_resolution": ("0.0%", ""),  # T2 due 16:00 and not resolved
    }
    assert _cards(data, "week") == {
        "answer_rate": ("60.0%", ""),  # k1 k2 k5 of 5
        "abandon_rate": ("25.0%", ""),  # k3 of 4
        "service_level": ("66.7%", ""),  # k1 k5 (20 s is within 20 s) ÷ 3
        "asa": ("20.0 秒", ""),  # (10 + 30 + 20) ÷ 3
        "aht": ("120.0 秒", ""),  # (100 + 200 + 60) ÷ 3
        "fcr": ("—", ""),
        "sla_response": ("0.0%", ""),
        "sla_resolution": ("50.0%", ""),  # T5 met Tuesday, T2 due today not resolved
    }
    card = data["kpis"]["week"][0]
    assert card["label"] == "接通率"
    assert card["value"] == 60.0
    assert card["link"] == "/calls/"
    sla = next(card for card in data["kpis"]["week"] if card["key"] == "sla_resolution")
    assert sla["link"] == "/tickets/?queue=all&resolved_from=2026-11-23&resolved_to=2026-11-25"


def test_a_teams_kpi_cards_are_the_teams_except_the_offered_call_ones(
    client: Client, supervisor: User, desk: dict[str, Ticket], frozen_now: datetime
) -> None:
    data = _data(client, supervisor)
    centre = "全中心"
    assert _cards(data, "day") == {
        "answer_rate": ("50.0%", centre),
        "abandon_rate": ("33.3%", centre),
        "service_level": ("50.0%", centre),
        "asa": ("10.0 秒", ""),  # k1, answered by team A's agent
        "aht": ("100.0 秒", ""),
        "fcr": ("—", ""),
        "sla_response": ("0.0%", ""),
        "sla_resolution": ("0.0%", ""),
    }
    week = _cards(data, "week")
    assert week["asa"] == ("15.0 秒", "")  # (10 + 20) ÷ 2: k1 and k5
    assert week["aht"] == ("80.0 秒", "")  # (100 + 60) ÷ 2
    assert week["sla_resolution"] == ("50.0%", "")


def test_several_teams_are_combined_as_a_ratio_of_sums(
    client: Client,
    make_user: Callable[..., User],
    desk: dict[str, Ticket],
    frozen_now: datetime,
) -> None:
    # a supervisor of both teams: ASA over k1 (team A) and k2 (team B) together
    both = make_user("both", "supervisor", teams=("team_a", "team_b"))
    data = _data(client, both)
    assert data["scope"]["label"] == "我的班组"
    assert data["tickets"]["open"]["count"] == 6
    assert _cards(data, "day")["asa"] == ("20.0 秒", "")  # (10 + 30) ÷ 2, not a mean of means
    assert _cards(data, "week")["aht"] == ("120.0 秒", "")  # (100 + 60 + 200) ÷ 3
    assert "teams=" in data["tickets"]["open"]["link"]


def test_the_warm_job_fills_the_kpi_cache_for_the_centre_and_each_team(
    client: Client,
    supervisor: User,
    desk: dict[str, Ticket],
    frozen_now: datetime,
    django_assert_max_num_queries: Any,
) -> None:
    # the centre and four teams, today and this week
    out = StringIO()
    call_command("warm_dashboard_kpis", stdout=out)
    assert out.getvalue().strip() == "10"
    client.force_login(supervisor)
    client.get("/tickets/")  # the session and the permissions
    with django_assert_max_num_queries(10):  # no KPI query: team A's and the centre's are ready
        data = client.get("/dashboard/data/").json()
    assert _cards(data, "day")["asa"] == ("10.0 秒", "")
    assert _cards(data, "day")["answer_rate"] == ("50.0%", "全中心")
    # the worker's job skips a per-process cache: the web processes would never see it
    assert dashboard_kpis_warm_task.call_local() == 0


def test_a_supervisor_without_a_team_sees_an_empty_dashboard(
    client: Client,
    make_user: Callable[..., User],
    desk: dict[str, Ticket],
    frozen_now: datetime,
) -> None:
    lonely = make_user("lonely", "supervisor")
    data = _data(client, lonely)
    assert data["tickets"]["open"]["count"] == 0
    assert data["agents"]["rows"] == []
    assert data["scope"]["teams"] == []
    cards = _cards(data, "day")
    assert cards["asa"] == ("—", "")  # no team: nothing of the team KPIs
    assert cards["answer_rate"] == ("50.0%", "全中心")
    assert client.get("/dashboard/").status_code == 200
