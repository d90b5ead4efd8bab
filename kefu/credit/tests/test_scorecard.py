"""The scorecard by hand (docs/credit.md): each case's points are added up in the comments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from kefu.credit.scorecard import CreditFacts, assess, default_policy, limit_for, merge_policy

TODAY = date(2026, 6, 30)
POLICY = merge_policy(default_policy())


def facts(**kwargs: object) -> CreditFacts:
    base: dict[str, object] = {"today": TODAY}
    base.update(kwargs)
    return CreditFacts(**base)  # type: ignore[arg-type]


def on_time(**kwargs: object) -> CreditFacts:
    """Paid on time, 6 years together, ¥1.2M in T12: 40 + 15 + 15 before finances and legal."""
    return facts(
        order_count=40,
        first_order_date=TODAY - timedelta(days=6 * 366),
        t12_revenue=Decimal("1200000"),
        assessed_count=12,
        assessed_amount=Decimal("1200000"),
        **kwargs,
    )


def late(days: int, **kwargs: object) -> CreditFacts:
    """Worst lateness ``days`` on 10% of the amount; 6 years; ¥1.2M."""
    return facts(
        order_count=40,
        first_order_date=TODAY - timedelta(days=6 * 366),
        t12_revenue=Decimal("1200000"),
        assessed_count=12,
        assessed_amount=Decimal("1000000"),
        late_amount=Decimal("100000"),
        worst_late_days=days,
        **kwargs,
    )


def test_customer_with_nothing_known_scores_neutral_57_and_grade_c() -> None:
    result = assess(facts(), POLICY)
    # 25 + 8 + 8 + 8 + 8
    assert result.score == 57
    assert result.grade == "C"
    assert all(factor.neutral for factor in result.factors)
    assert result.limit == Decimal("0.00")  # no revenue yet: no need, so cash until history


def test_exactly_85_is_grade_a() -> None:
    # 40 + 15 + 15 + finances 0 + clean 15 = 85
    result = assess(on_time(finance_score=0, legal_record="clean"), POLICY)
    assert (result.score, result.grade) == (85, "A")


def test_84_is_grade_b() -> None:
    # 40 + 15 + 15 + finances 6 + minor 8 = 84
    result = assess(on_time(finance_score=6, legal_record="minor"), POLICY)
    assert (result.score, result.grade) == (84, "B")


def test_exactly_70_is_grade_b_and_69_is_grade_c() -> None:
    # 1-30 days late: 25 + 15 + 15 + 0 + 15 = 70
    assert assess(late(12, finance_score=0, legal_record="clean"), POLICY).grade == "B"
    # 25 + 15 + 15 + 6 + 8 = 69
    result = assess(late(12, finance_score=6, legal_record="minor"), POLICY)
    assert (result.score, result.grade) == (69, "C")


def test_exactly_55_is_grade_c_and_54_is_grade_d() -> None:
    new = {
        "order_count": 2,
        "first_order_date": TODAY - timedelta(days=100),  # under a year: 4
        "t12_revenue": Decimal("5000"),  # above 0, under ¥10,000: 3
        "assessed_count": 1,
        "assessed_amount": Decimal("5000"),
        "late_amount": Decimal("1000"),
        "worst_late_days": 5,  # 25
        "legal_record": "minor",  # 8
    }
    # 25 + 4 + 3 + 15 + 8 = 55
    assert (assess(facts(finance_score=15, **new), POLICY).score, "C") == (55, "C")
    assert assess(facts(finance_score=15, **new), POLICY).grade == "C"
    result = assess(facts(finance_score=14, **new), POLICY)
    assert (result.score, result.grade) == (54, "D")
    assert result.limit == Decimal("0.00")  # D is cash only


def test_lawsuit_caps_an_a_score_at_grade_c() -> None:
    # 40 + 15 + 15 + 15 + lawsuit 0 = 85: A by the score, C by the cap
    result = assess(on_time(finance_score=15, legal_record="lawsuit"), POLICY)
    assert result.score == 85
    assert result.score_grade == "A"
    assert result.grade == "C"


@pytest.mark.parametrize(
    ("days", "points"), [(0, 40), (1, 25), (30, 25), (31, 10), (60, 10), (61, 0), (400, 0)]
)
def test_payment_band_follows_the_worst_lateness(days: int, points: int) -> None:
    assert assess(late(days), POLICY).factor("payment").points == points


def test_late_orders_making_half_the_amount_cost_one_band_more() -> None:
    result = assess(
        facts(
            order_count=3,
            assessed_count=3,
            assessed_amount=Decimal("1000"),
            late_amount=Decimal("600"),
            worst_late_days=10,
        ),
        POLICY,
    )
    assert result.factor("payment").points == 10  # 1-30 days (25) stepped down to 31-60 (10)


def test_unknown_factors_score_the_neutral_defaults_from_the_policy() -> None:
    policy = merge_policy({"neutral": {"finances": 3, "legal": 5}})
    result = assess(on_time(), policy)
    assert result.factor("finances").points == 3
    assert result.factor("finances").neutral
    assert result.factor("legal").points == 5
    assert not result.factor("payment").neutral
    # 40 + 15 + 15 + 3 + 5
    assert result.score == 78


def test_cooperation_since_counts_before_the_first_order() -> None:
    result = assess(
        facts(
            order_count=1,
            first_order_date=TODAY - timedelta(days=30),
            cooperation_since=TODAY - timedelta(days=4 * 366),
        ),
        POLICY,
    )
    assert result.factor("years").points == 12  # 3-5 years


def test_limit_is_the_smallest_of_need_and_capital_cap() -> None:
    # need = 120,000 / 12 × (30 + 30) / 30 = 20,000; B: 25% × 50,000 = 12,500
    limit, need, capital_cap, turnover_cap, k, _j = limit_for(
        grade="B",
        t12_revenue=Decimal("120000"),
        payment_days=30,
        registered_capital=Decimal("50000"),
        annual_turnover=None,
        policy=POLICY,
    )
    assert need == Decimal("20000.00")
    assert capital_cap == Decimal("12500.00")
    assert turnover_cap is None
    assert k == Decimal("0.25")
    assert limit == Decimal("12500.00")


def test_limit_with_unknown_capital_and_turnover_is_the_need() -> None:
    # A, 60 days: 240,000 / 12 × 90 / 30 = 60,000
    limit, need, *_rest = limit_for(
        grade="A",
        t12_revenue=Decimal("240000"),
        payment_days=60,
        registered_capital=None,
        annual_turnover=None,
        policy=POLICY,
    )
    assert limit == need == Decimal("60000.00")


def test_limit_uses_turnover_when_it_is_the_most_restrictive() -> None:
    # A: need 60,000; 35% × 1,000,000 = 350,000; 10% × 100,000 = 10,000
    limit, *_rest = limit_for(
        grade="A",
        t12_revenue=Decimal("240000"),
        payment_days=60,
        registered_capital=Decimal("1000000"),
        annual_turnover=Decimal("100000"),
        policy=POLICY,
    )
    assert limit == Decimal("10000.00")


def test_grade_d_is_cash_only_whatever_the_figures() -> None:
    limit, need, *_rest = limit_for(
        grade="D",
        t12_revenue=Decimal("240000"),
        payment_days=30,
        registered_capital=None,
        annual_turnover=None,
        policy=POLICY,
    )
    assert need > 0
    assert limit == Decimal("0.00")


def test_figures_name_every_number_used() -> None:
    result = assess(on_time(registered_capital=Decimal("100000"), finance_score=10), POLICY)
    figures = result.figures()
    assert figures["grade"] == result.grade
    assert figures["factors"]["finances"]["points"] == 10
    assert figures["need"] == "200000.00"  # 1,200,000 / 12 × 60 / 30
    assert figures["capital_cap"] == "35000.00"  # A: 35%
    assert figures["limit"] == "35000.00"
