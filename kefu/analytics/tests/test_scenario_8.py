"""domain.md §7 scenario 8, every row of its table, plus calls that must not count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from kefu.analytics.kpis import Slice, kpi, kpis
from kefu.analytics.tests.helpers import DAY, at, make_call
from kefu.calls.models import Call

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario() -> None:
    # 7 answered, waiting 5 … 60 s; talk 1,260 s, hold 120 s, ACW 420 s in all
    for index, wait in enumerate((5, 10, 15, 18, 25, 40, 60)):
        make_call(
            at(minute=index),
            wait=wait,
            answered=True,
            talk=180,
            hold=120 if index == 0 else None,
            acw=60,
        )
    # 3 abandoned, at 3, 12 and 45 s
    for index, wait in enumerate((3, 12, 45)):
        make_call(at(hour=11, minute=index), wait=wait, answered=False)
    # none of these is offered on that day
    make_call(at(hour=22), wait=5, answered=True, talk=60, out_of_hours=True)
    make_call(at(hour=12), wait=5, answered=True, talk=60, direction=Call.Direction.OUTBOUND)
    make_call(at(DAY - timedelta(days=1)), wait=5, answered=True, talk=60)
    make_call(at(hour=14), wait=None, answered=False, outcome="", status=Call.Status.RINGING)


def test_scenario_8_every_row(scenario: None) -> None:
    day = Slice.day(DAY)
    assert kpi("service_level", day).display() == "50.0%"
    sl = kpi("service_level", day, threshold=20, formula=4)
    assert (sl.numerator, sl.denominator) == (Decimal(4), Decimal(8))
    assert kpi("service_level", day, formula=3).display() == "40.0%"
    assert kpi("service_level_strict", day).display() == "40.0%"
    assert kpi("service_level", day, formula=2).display() == "57.1%"
    assert kpi("service_level", day, formula=1).display() == "60.0%"
    asa = kpi("asa", day)
    assert (asa.numerator, asa.denominator, asa.display()) == (Decimal(173), Decimal(7), "24.7 秒")
    assert kpi("abandon_rate_raw", day).display() == "30.0%"
    abandon = kpi("abandon_rate", day)
    assert (abandon.numerator, abandon.denominator, abandon.display()) == (
        Decimal(2),
        Decimal(9),
        "22.2%",
    )
    assert kpi("answer_rate", day).display() == "70.0%"
    aht = kpi("aht", day)
    assert (aht.numerator, aht.denominator, aht.display()) == (
        Decimal(1800),
        Decimal(7),
        "257.1 秒",
    )
    assert aht.value == Decimal("257.1429")


def test_kpis_returns_each_key(scenario: None) -> None:
    values = kpis(["answer_rate", "asa"], Slice.day(DAY))
    assert list(values) == ["answer_rate", "asa"]
    assert values["answer_rate"].value == Decimal("70.0000")
