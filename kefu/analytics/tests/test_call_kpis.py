"""Call KPIs: the edges scenario 8 does not reach (empty, 5 s abandons, filters, breakdowns,
repeat contacts, AHT's hang-up time)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from kefu.analytics.kpis import DEFINITIONS, KpiError, Slice, kpi, kpi_breakdown
from kefu.analytics.tests.helpers import DAY, at, make_call, make_customer
from kefu.customers.models import Customer
from kefu.org.models import User

pytestmark = pytest.mark.django_db

CALL_KEYS = [key for key, definition in DEFINITIONS.items() if definition.source == "calls"]


def test_an_empty_day_is_na_for_every_call_kpi() -> None:
    for key in CALL_KEYS:
        value = kpi(key, Slice.day(DAY))
        assert (value.numerator, value.denominator, value.value) == (Decimal(0), Decimal(0), None)
        assert value.display() == "—"


def test_an_abandon_at_exactly_5_seconds_is_not_short() -> None:
    make_call(at(), wait=3, answered=True, talk=60)
    make_call(at(minute=1), wait=5, answered=False)
    make_call(at(minute=2), wait=4.999, answered=False)
    day = Slice.day(DAY)
    abandon = kpi("abandon_rate", day)
    assert (abandon.numerator, abandon.denominator, abandon.display()) == (
        Decimal(1),
        Decimal(2),
        "50.0%",
    )
    assert kpi("abandon_rate_raw", day).display() == "66.7%"
    assert kpi("abandon_rate", day, short_abandon_seconds=0).display() == "66.7%"
    # answered within 20 s: 1; abandons after 20 s: none → formula 4 = 1/1
    assert kpi("service_level", day).display() == "100.0%"
    assert kpi("service_level_strict", day).display() == "33.3%"


def test_bad_parameters_are_refused_in_chinese() -> None:
    day = Slice.day(DAY)
    with pytest.raises(KpiError, match="公式"):
        kpi("service_level", day, formula=5)
    with pytest.raises(KpiError, match="不接受参数"):
        kpi("asa", day, threshold=10)
    with pytest.raises(KpiError, match="未知的指标"):
        kpi("speed", day)
    with pytest.raises(KpiError, match="正整数"):
        kpi("service_level", day, threshold=-1)
    with pytest.raises(KpiError, match="未知的渠道"):
        Slice.day(DAY, channel="fax")


@pytest.fixture
def two_agents(make_user: Callable[..., User]) -> tuple[User, User]:
    return make_user("a1", "agent", teams=("team_a",)), make_user("b1", "agent", teams=("team_b",))


def test_team_and_agent_are_the_answering_agents(two_agents: tuple[User, User]) -> None:
    a1, b1 = two_agents
    gold = make_customer(tier=Customer.Tier.GOLD)
    make_call(at(), wait=10, answered=True, talk=100, agent=a1, customer=gold)
    make_call(at(minute=1), wait=30, answered=True, talk=200, agent=a1)
    make_call(at(minute=2), wait=2, answered=True, talk=50, agent=b1, customer=gold)
    make_call(at(minute=3), wait=40, answered=False, agent=a1)  # rang on a1, nobody answered
    team_a = a1.teams.get().pk
    day = Slice.day(DAY)
    assert kpi("asa", Slice.day(DAY, team_id=team_a)).display() == "20.0 秒"
    assert kpi("asa", Slice.day(DAY, agent_id=b1.pk)).display() == "2.0 秒"
    assert kpi("aht", Slice.day(DAY, agent_id=a1.pk)).display() == "150.0 秒"
    # offered-call KPIs have no answering agent for an abandon: n/a, not a wrong number
    na = kpi("answer_rate", Slice.day(DAY, team_id=team_a))
    assert (na.numerator, na.denominator, na.value, na.display()) == (None, None, None, "—")
    assert kpi("answer_rate", day).display() == "75.0%"
    assert kpi("answer_rate", Slice.day(DAY, tier=Customer.Tier.GOLD)).display() == "100.0%"
    assert kpi("answer_rate", Slice.day(DAY, channel="phone")).display() == "75.0%"
    assert kpi("answer_rate", Slice.day(DAY, channel="email")).value is None
    assert kpi("asa", Slice.day(DAY, ticket_type="inquiry")).numerator is None

    rows = kpi_breakdown("asa", day, "agent")
    assert [(label, value.display()) for _key, label, value in rows] == [
        ("a1", "20.0 秒"),
        ("b1", "2.0 秒"),
    ]
    assert rows[0][0] == str(a1.pk)
    by_team = kpi_breakdown("asa", day, "team")
    assert [(label, value.display()) for _k, label, value in by_team] == [
        ("客服一组", "20.0 秒"),
        ("客服二组", "2.0 秒"),
    ]
    by_tier = kpi_breakdown("answer_rate", day, "tier")
    assert [(key, value.display()) for key, _label, value in by_tier] == [
        ("gold", "100.0%"),
        ("", "50.0%"),  # no known customer: last
    ]
    assert [row[0] for row in kpi_breakdown("answer_rate", day, "channel")] == ["phone"]
    assert kpi_breakdown("answer_rate", day, "team") == []  # not honoured
    with pytest.raises(KpiError):
        kpi_breakdown("answer_rate", day, "region")


def test_repeat_contacts_look_back_24_and_72_hours() -> None:
    x, y, z, w = "+8613800000001", "+8613800000002", "+8613800000003", "+8613800000004"
    yesterday, before = DAY - timedelta(days=1), DAY - timedelta(days=2)
    make_call(at(yesterday, 20), wait=30, answered=False, caller=x, out_of_hours=True)
    make_call(at(DAY, 10), wait=5, answered=True, talk=60, caller=x)
    make_call(at(before, 12), wait=5, answered=True, talk=60, caller=y)  # 46 h before
    make_call(at(DAY, 10), wait=5, answered=True, talk=60, caller=y)
    make_call(at(DAY, 11), wait=5, answered=True, talk=60, caller=z)
    make_call(at(yesterday, 10), wait=5, answered=True, talk=60, caller=w)  # exactly 24 h
    make_call(at(DAY, 10), wait=5, answered=True, talk=60, caller=w)
    make_call(at(DAY, 12), wait=5, answered=False, caller=z)  # after: not a look-back
    day = Slice.day(DAY)
    rate = kpi("repeat_contact_rate", day)
    assert (rate.numerator, rate.denominator, rate.display()) == (
        Decimal(2),
        Decimal(4),
        "50.0%",
    )
    assert kpi("repeat_contact_rate_72h", day).display() == "75.0%"


def test_aht_goes_to_the_interval_where_the_call_ended() -> None:
    late = at(DAY - timedelta(days=1), 23, 59, 50)
    make_call(late, wait=5, answered=True, talk=100, acw=20)  # ends on DAY
    assert kpi("aht", Slice.day(DAY)).display() == "120.0 秒"
    assert kpi("aht", Slice.day(DAY - timedelta(days=1))).value is None
    assert kpi("asa", Slice.day(DAY - timedelta(days=1))).display() == "5.0 秒"
