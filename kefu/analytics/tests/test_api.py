"""GET /api/v1/kpis and /api/v1/kpis/definitions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kefu.analytics.kpis import DEFINITIONS
from kefu.analytics.tests.helpers import DAY, at, make_call
from kefu.org.models import User

pytestmark = pytest.mark.django_db
URL = "/api/v1/kpis"


@pytest.fixture
def calls(agent: User) -> None:
    make_call(at(), wait=10, answered=True, talk=100, agent=agent)
    make_call(at(minute=1), wait=30, answered=True, talk=200)
    make_call(at(minute=2), wait=40, answered=False)
    make_call(at(DAY.replace(day=15)), wait=40, answered=False)


def test_values_with_numerator_denominator_and_display(
    calls: None, supervisor: User, api_as: Callable[[User], Any]
) -> None:
    response = api_as(supervisor).get(URL, keys="answer_rate,asa", **{"from": "2026-10-14"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["from"] == body["to"] == "2026-10-14"
    assert body["values"]["answer_rate"] == {
        "key": "answer_rate",
        "label": "接通率",
        "numerator": 2.0,
        "denominator": 3.0,
        "value": 66.6667,
        "unit": "percent",
        "display": "66.7%",
    }
    assert body["values"]["asa"]["display"] == "20.0 秒"
    assert "breakdown" not in body or body["breakdown"] is None
    # two days: the abandon of the 15th joins
    two = api_as(supervisor).get(
        URL, keys="answer_rate", **{"from": "2026-10-14", "to": "2026-10-15"}
    )
    assert two.json()["values"]["answer_rate"]["display"] == "50.0%"


def test_filters_breakdown_and_series(
    calls: None, agent: User, supervisor: User, api_as: Callable[[User], Any]
) -> None:
    client = api_as(supervisor)
    team = agent.teams.get().pk
    body = client.get(URL, keys="asa,answer_rate", team=str(team), **{"from": "2026-10-14"}).json()
    assert body["values"]["asa"]["display"] == "10.0 秒"
    assert body["values"]["answer_rate"]["value"] is None  # not honoured: n/a
    assert body["filters"]["team"] == team
    body = client.get(URL, keys="asa", by="agent", **{"from": "2026-10-14"}).json()
    rows = body["breakdown"]["asa"]
    assert [(row["group_label"], row["display"]) for row in rows] == [
        ("agent", "10.0 秒"),
        ("（未指定）", "30.0 秒"),
    ]
    body = client.get(
        URL, keys="answer_rate", granularity="day", **{"from": "2026-10-14", "to": "2026-10-15"}
    ).json()
    assert [(p["date"], p["display"]) for p in body["series"]["answer_rate"]] == [
        ("2026-10-14", "66.7%"),
        ("2026-10-15", "0.0%"),
    ]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"keys": "speed"}, "keys", "未知的指标"),
        ({"from": "2026-02-30"}, "from", "日期格式"),
        ({"from": "2026-10-14", "to": "2026-10-01"}, "to", "不能早于"),
        ({"team": "abc"}, "team", "正整数"),
        ({"team": "999999"}, "team", "班组不存在"),
        ({"channel": "fax"}, "channel", "取值无效"),
        ({"by": "region"}, "by", "取值无效"),
        ({"granularity": "hour"}, "granularity", "取值无效"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to", "区间最长"),
    ],
)
def test_bad_parameters_are_422_in_chinese(
    supervisor: User,
    api_as: Callable[[User], Any],
    params: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = api_as(supervisor).get(URL, **params)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert message in error["message"]
    assert field in error["fields"]


def test_permission_view_kpis(agent: User, api_as: Callable[[User | None], Any]) -> None:
    assert api_as(agent).get(URL).status_code == 403
    assert api_as(agent).get(URL + "/definitions").status_code == 403
    assert api_as(None).get(URL).status_code == 401


def test_definitions(manager: User, api_as: Callable[[User], Any]) -> None:
    response = api_as(manager).get(URL + "/definitions")
    assert response.status_code == 200
    body = response.json()
    assert [d["key"] for d in body] == list(DEFINITIONS)
    fcr = next(d for d in body if d["key"] == "fcr")
    assert fcr["label"] == "首次解决率"
    assert fcr["unit"] == "percent"
    assert fcr["slices"] == ["team", "agent", "channel", "ticket_type", "tier"]
    assert fcr["params"] == {"window_days": 7}
    cost = next(d for d in body if d["key"] == "cost_per_contact")
    assert cost["slices"] == []
