"""The default rule set (ABC on T12 gross profit), worked by hand, plus the fixed-threshold method,
credit caps, the revenue fallback and the weighted score."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kefu.audit.models import AuditEvent
from kefu.customers.models import Customer
from kefu.tiering.measures import percentile_ranks
from kefu.tiering.models import CustomerTierState, TierChange, TierLevel, TierRuleSet
from kefu.tiering.services import tiers_recompute
from kefu.tiering.tests.helpers import TODAY, customer, default_rule_set, order, tier_of

pytestmark = pytest.mark.django_db

# (amount, cost) per customer; gross profit in brackets. Positive total ¥100,000.
#         GP      share before  class  tier
# c1  30,000         0%          A     钻石 (top 5% of 4 A customers rounds to 0: at least 1)
# c2  20,000        30%          A     金
# c3  15,000        50%          A     金
# c4  10,000        65%          A     金  (crosses 70%: the one that crosses is still A)
# c5   8,000        75%          B     银
# c6   7,000        83%          B     银
# c7   5,000        90%          C     普通 (share before is exactly the cut: not below it)
# c8   3,000        95%          C     普通
# c9   2,000        98%          C     普通 (revenue ¥40,000 but thin margin)
ORDERS = {
    "c1": (50_000, 20_000),
    "c2": (30_000, 10_000),
    "c3": (25_000, 10_000),
    "c4": (18_000, 8_000),
    "c5": (9_000, 1_000),
    "c6": (10_000, 3_000),
    "c7": (6_000, 1_000),
    "c8": (4_000, 1_000),
    "c9": (40_000, 38_000),
}
EXPECTED = {
    "c1": "diamond",
    "c2": "gold",
    "c3": "gold",
    "c4": "gold",
    "c5": "silver",
    "c6": "silver",
    "c7": "ordinary",
    "c8": "ordinary",
    "c9": "ordinary",
    "loss": "ordinary",
    "idle": "ordinary",
}


@pytest.fixture
def book() -> dict[str, Customer]:
    people = {name: customer(name) for name in [*ORDERS, "loss", "idle"]}
    for name, (amount, cost) in ORDERS.items():
        order(people[name], amount, cost)
    order(people["loss"], 1_000, 3_000)  # negative gross profit
    order(people["idle"], 900_000, 1, on=date(2025, 6, 15))  # a day before T12 starts
    return people


def test_abc_ranking_gives_each_customer_the_hand_computed_tier(book: dict[str, Customer]) -> None:
    result = tiers_recompute(hysteresis=False, today=TODAY)

    assert {name: tier_of(c) for name, c in book.items()} == EXPECTED
    assert (result.evaluated, result.upgraded, result.downgraded) == (11, 6, 0)
    assert result.unchanged == 5


def test_the_first_day_of_the_window_counts_and_the_day_before_does_not(
    book: dict[str, Customer],
) -> None:
    order(book["idle"], 500, 100, on=date(2025, 6, 16))

    tiers_recompute(hysteresis=False, today=TODAY)

    state = CustomerTierState.objects.get(customer=book["idle"])
    assert state.measure_value == Decimal("400.00")


def test_top_five_percent_of_a_become_diamond_when_a_is_large(db: None) -> None:
    # 40 equal customers: A holds the first 28 (shares before 0%…67.5%); 5% of 28 = 1.4 → 1.
    people = [customer(f"同额{i:02d}") for i in range(40)]
    for person in people:
        order(person, 1_000, 0)
    tiers_recompute(hysteresis=False, today=TODAY)

    tiers = [tier_of(person) for person in people]
    assert tiers[:1] == ["diamond"]
    assert tiers[1:28] == ["gold"] * 27
    assert tiers[28:36] == ["silver"] * 8
    assert tiers[36:] == ["ordinary"] * 4


def test_tier_change_records_the_reason_in_words_and_the_figures(
    book: dict[str, Customer],
) -> None:
    tiers_recompute(hysteresis=False, today=TODAY)

    change = TierChange.objects.get(customer=book["c4"])
    assert change.reason == "近12个月毛利 ¥10,000.00，排名第 4/9，累计占比 75.0%，A类 → 金"
    assert (change.from_tier, change.to_tier, change.kind) == ("ordinary", "gold", "recompute")
    assert change.rule_set == default_rule_set()
    assert change.figures["measure"] == "gross_profit_t12"
    assert change.figures["value"] == "10000.00"
    assert change.figures["rank"] == 4
    assert change.figures["cum_share"] == 0.75
    assert change.figures["credit_grade"] == "B"
    assert change.figures["cap"] is None
    diamond = TierChange.objects.get(customer=book["c1"])
    assert diamond.reason.endswith("A类 → 钻石")


def test_customers_whose_tier_stays_get_no_tier_change(book: dict[str, Customer]) -> None:
    tiers_recompute(hysteresis=False, today=TODAY)

    assert not TierChange.objects.filter(customer__in=[book["c7"], book["idle"]]).exists()
    assert TierChange.objects.count() == 6


def test_recompute_writes_one_audit_event_with_the_counts(book: dict[str, Customer]) -> None:
    tiers_recompute(hysteresis=False, today=TODAY)

    event = AuditEvent.objects.get(field="tiers")
    assert event.changes["evaluated"] == 11
    assert event.changes["upgraded"] == 6
    assert event.object_type == "tiering.tierruleset"


def test_gross_profit_falls_back_to_revenue_when_orders_carry_no_cost(db: None) -> None:
    costed = customer("有成本")
    uncosted = customer("无成本")
    order(costed, 10_000, 9_000)  # GP 1,000
    order(uncosted, 5_000, 0)  # no cost: measured as revenue 5,000

    tiers_recompute(hysteresis=False, today=TODAY)

    assert tier_of(uncosted) == "diamond"
    change = TierChange.objects.get(customer=uncosted)
    assert change.figures["value"] == "5000.00"
    assert change.figures["revenue_fallback"] is True
    assert "按销售额计" in change.reason
    assert CustomerTierState.objects.get(customer=costed).measure_value == Decimal("1000.00")


def test_merged_customers_are_not_evaluated(db: None) -> None:
    survivor = customer("存续客户")
    merged = customer("被合并客户", merged_into=survivor)
    order(merged, 10_000, 0)
    order(survivor, 1_000, 0)

    result = tiers_recompute(hysteresis=False, today=TODAY)

    assert result.evaluated == 1
    assert tier_of(merged) == "ordinary"
    assert not CustomerTierState.objects.filter(customer=merged).exists()


def test_credit_grade_c_caps_at_silver_and_d_forces_ordinary(db: None) -> None:
    grade_c = customer("C级客户", credit_grade="C")
    grade_d = customer("D级客户", credit_grade="D")
    others = [customer(f"普通{i}") for i in range(3)]
    order(grade_c, 50_000, 0)
    order(grade_d, 40_000, 0)
    for person in others:
        order(person, 1_000, 0)

    tiers_recompute(hysteresis=False, today=TODAY)

    assert tier_of(grade_c) == "silver"
    assert tier_of(grade_d) == "ordinary"
    capped = TierChange.objects.get(customer=grade_c)
    assert capped.figures["cap"] == "C"
    assert capped.figures["computed_tier"] == "diamond"
    assert capped.reason.endswith("；信用等级 C，最高为银")
    state = CustomerTierState.objects.get(customer=grade_d)
    assert state.computed_tier == "ordinary"


def test_credit_caps_can_be_switched_off(db: None) -> None:
    rule_set = default_rule_set()
    rule_set.apply_credit_caps = False
    rule_set.save()
    grade_d = customer("D级客户", credit_grade="D")
    order(grade_d, 40_000, 0)

    tiers_recompute(hysteresis=False, today=TODAY)

    assert tier_of(grade_d) == "diamond"


def _use_thresholds(diamond: int, gold: int, silver: int, measure: str = "revenue_t12") -> None:
    rule_set = default_rule_set()
    rule_set.method, rule_set.measure = TierRuleSet.Method.THRESHOLDS, measure
    rule_set.save()
    for tier, bound in (("diamond", diamond), ("gold", gold), ("silver", silver)):
        TierLevel.objects.filter(rule_set=rule_set, tier=tier).update(min_value=bound)


def test_thresholds_method_puts_each_customer_at_the_highest_bound_reached(db: None) -> None:
    _use_thresholds(100_000, 50_000, 10_000)
    big = customer("大客户")
    exact = customer("刚好金")
    below = customer("差一分")
    small = customer("小客户")
    order(big, 150_000, 0)
    order(exact, 50_000, 0)
    order(below, "49999.99", 0)
    order(small, 5_000, 0)

    tiers_recompute(hysteresis=False, today=TODAY)

    assert [tier_of(c) for c in (big, exact, below, small)] == [
        "diamond",
        "gold",
        "silver",
        "ordinary",
    ]
    assert (
        TierChange.objects.get(customer=exact).reason
        == "近12个月销售额 ¥50,000.00，达到金下限 ¥50,000.00 → 金"
    )


def test_order_count_measure_with_thresholds(db: None) -> None:
    _use_thresholds(10, 5, 2, measure="order_count_t12")
    busy = customer("常客")
    for _ in range(5):
        order(busy, 100, 0)

    tiers_recompute(hysteresis=False, today=TODAY)

    assert tier_of(busy) == "gold"
    assert "5 单" in TierChange.objects.get(customer=busy).reason


def test_weighted_score_ranks_by_percentiles(db: None) -> None:
    rule_set = default_rule_set()
    rule_set.measure = TierRuleSet.Measure.WEIGHTED
    rule_set.weights = {"revenue_t12": "0.5", "order_count_t12": "0.5"}
    rule_set.save()
    top = customer("双高")
    mid = customer("中等")
    low = customer("偏低")
    for _ in range(3):
        order(top, 10_000, 0)
    order(mid, 5_000, 0)
    order(mid, 5_000, 0)
    order(low, 100, 0)

    tiers_recompute(hysteresis=False, today=TODAY)

    states = {s.customer_id: s.measure_value for s in CustomerTierState.objects.all()}
    assert states[top.pk] == Decimal("100.00")
    assert states[mid.pk] == Decimal("50.00")
    assert states[low.pk] == Decimal("0.00")  # lowest on both: score 0 → 普通
    assert tier_of(top) == "diamond"
    assert tier_of(low) == "ordinary"


def test_percentile_rank_gives_ties_the_lower_rank() -> None:
    ranks = percentile_ranks({1: Decimal(0), 2: Decimal(0), 3: Decimal(5), 4: Decimal(9)})

    assert ranks == {1: Decimal(0), 2: Decimal(0), 3: Decimal(100) * 2 / 3, 4: Decimal(100)}


def test_default_rule_set_comes_from_the_data_migration(db: None) -> None:
    rule_set = default_rule_set()

    assert rule_set.name == "默认规则（ABC毛利排名）"
    assert (rule_set.measure, rule_set.method) == ("gross_profit_t12", "ranking")
    assert (rule_set.cut_a, rule_set.cut_b) == (Decimal("0.70"), Decimal("0.90"))
    assert rule_set.diamond_share == Decimal("0.05")
    levels = {level.tier: level for level in rule_set.levels.all()}
    assert set(levels) == {"diamond", "gold", "silver", "ordinary"}
    assert (levels["diamond"].sla_policy, levels["diamond"].priority_bump) == ("diamond", 1)
    assert [levels[t].followup_days for t in ("diamond", "gold", "silver", "ordinary")] == [
        30,
        30,
        90,
        None,
    ]
