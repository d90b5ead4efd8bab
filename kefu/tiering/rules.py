"""Applying a rule set to the T12 figures: which tier each customer's figures earn (no database).

Ranking (domain.md §3, ABC analysis)
    Customers with a positive measure are sorted by it, largest first (ties by customer id).
    A customer's *cumulative share* is the sum of the measure up to and including it, divided
    by the positive total. A customer is in class A when the cumulative share of those ranked
    BEFORE it is below ``cut_a`` (so the customer that crosses 70% is still A), in B when that
    share is below ``cut_b``, otherwise in C. The top ``diamond_share`` of A by rank
    (rounded down, at least one when A has anyone and the share is above 0) → 钻石; the rest
    of A → 金; B → 银; C → 普通. A measure ≤ 0, or no order in T12, → 普通.

Thresholds
    ``TierLevel.min_value`` is each tier's inclusive lower bound (钻石 > 金 > 银 > 0); below
    银's bound, or no order in T12, → 普通.

Credit caps (``apply_credit_caps``)
    Credit grade C caps the tier at 银; grade D forces 普通.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from kefu.customers.models import Customer
from kefu.tiering.measures import CustomerFigures, weighted_scores
from kefu.tiering.models import TierRuleSet

Tier = Customer.Tier
# Plain strings: looked up several times per customer, 100,000 customers a night.
TIER_RANK: dict[str, int] = {"ordinary": 0, "silver": 1, "gold": 2, "diamond": 3}
RANKED_TIERS = (Tier.DIAMOND, Tier.GOLD, Tier.SILVER)  # the tiers with a threshold


def tier_rank(tier: str) -> int:
    return TIER_RANK.get(tier, 0)


_TIER_VALUES = frozenset(Tier.values)


def tier_label(tier: str) -> str:
    return str(Tier(tier).label) if tier in _TIER_VALUES else tier


def yuan(value: Decimal) -> str:
    """¥1,234.56 (negative: ¥-1,234.56)."""
    return f"¥{value.quantize(Decimal('0.01')):,}"


@dataclass
class Computed:
    customer_id: int
    tier: str  # after the credit cap
    value: Decimal
    base_tier: str = Tier.ORDINARY  # before the credit cap
    rank: int | None = None
    ranked: int = 0  # how many customers were ranked (positive measure)
    cum_share: Decimal | None = None
    abc: str = ""
    threshold: Decimal | None = None
    no_orders: bool = False
    cap: str = ""  # "C" or "D" when the credit grade lowered the tier
    credit_grade: str = ""
    fallback: bool = False  # gross profit measured as revenue (no cost on the orders)

    def figures(self, measure: str) -> dict[str, object]:
        return {
            "measure": measure,
            "value": str(self.value),
            "rank": self.rank,
            "ranked": self.ranked,
            "cum_share": None if self.cum_share is None else float(round(self.cum_share, 4)),
            "abc": self.abc or None,
            "threshold": None if self.threshold is None else str(self.threshold),
            "credit_grade": self.credit_grade,
            "cap": self.cap or None,
            "computed_tier": self.base_tier,
            "revenue_fallback": self.fallback,
        }


@dataclass(frozen=True)
class RuleSpec:
    """A rule set's numbers, read once (the rule set and its levels)."""

    measure: str
    method: str
    cut_a: Decimal
    cut_b: Decimal
    diamond_share: Decimal
    apply_credit_caps: bool
    weights: dict[str, Decimal]
    thresholds: dict[str, Decimal]  # tier → min_value, for the thresholds method

    @classmethod
    def of(cls, rule_set: TierRuleSet) -> RuleSpec:
        thresholds = {
            level.tier: level.min_value
            for level in rule_set.levels.all()
            if level.min_value is not None and level.tier in RANKED_TIERS
        }
        return cls(
            measure=rule_set.measure,
            method=rule_set.method,
            cut_a=rule_set.cut_a,
            cut_b=rule_set.cut_b,
            diamond_share=rule_set.diamond_share,
            apply_credit_caps=rule_set.apply_credit_caps,
            weights={key: Decimal(str(value)) for key, value in (rule_set.weights or {}).items()},
            thresholds=thresholds,
        )


def compute_tiers(spec: RuleSpec, figures: dict[int, CustomerFigures]) -> dict[int, Computed]:
    """The tier each customer's figures earn under the rule set."""
    if spec.measure == TierRuleSet.Measure.WEIGHTED:
        values = weighted_scores(figures, spec.weights)
    else:
        values = {pk: row.value(spec.measure) for pk, row in figures.items()}
    computed = {
        pk: Computed(
            customer_id=pk,
            tier=Tier.ORDINARY,
            value=values[pk],
            no_orders=row.orders == 0,
            credit_grade=row.credit_grade,
            fallback=spec.measure == TierRuleSet.Measure.GROSS_PROFIT
            and row.orders > 0
            and not row.has_cost,
        )
        for pk, row in figures.items()
    }
    eligible = [c for c in computed.values() if not c.no_orders and c.value > 0]
    if spec.method == TierRuleSet.Method.THRESHOLDS:
        _apply_thresholds(spec, eligible)
    else:
        _apply_ranking(spec, eligible)
    for item in computed.values():
        item.tier = item.base_tier
        if spec.apply_credit_caps:
            if item.credit_grade == "D" and item.tier != Tier.ORDINARY:
                item.tier, item.cap = Tier.ORDINARY, "D"
            elif item.credit_grade == "C" and TIER_RANK[item.tier] > TIER_RANK["silver"]:
                item.tier, item.cap = Tier.SILVER, "C"
    return computed


def _apply_ranking(spec: RuleSpec, eligible: list[Computed]) -> None:
    eligible.sort(key=lambda c: (-c.value, c.customer_id))
    total = sum((c.value for c in eligible), Decimal(0))
    running = Decimal(0)
    class_a: list[Computed] = []
    for position, item in enumerate(eligible, start=1):
        before = running / total
        running += item.value
        item.rank, item.ranked, item.cum_share = position, len(eligible), running / total
        if before < spec.cut_a:
            item.abc = "A"
            class_a.append(item)
        elif before < spec.cut_b:
            item.abc, item.base_tier = "B", Tier.SILVER
        else:
            item.abc, item.base_tier = "C", Tier.ORDINARY
    diamonds = 0
    if class_a and spec.diamond_share > 0:
        share = (len(class_a) * spec.diamond_share).to_integral_value(rounding=ROUND_DOWN)
        diamonds = max(1, int(share))
    for position, item in enumerate(class_a):
        item.base_tier = Tier.DIAMOND if position < diamonds else Tier.GOLD


def _apply_thresholds(spec: RuleSpec, eligible: list[Computed]) -> None:
    for item in eligible:
        for tier in RANKED_TIERS:
            bound = spec.thresholds.get(tier)
            if bound is not None and item.value >= bound:
                item.base_tier, item.threshold = tier, bound
                break
        else:
            item.threshold = spec.thresholds.get(Tier.SILVER)


def format_value(measure: str, value: Decimal) -> str:
    if measure in (TierRuleSet.Measure.REVENUE, TierRuleSet.Measure.GROSS_PROFIT):
        return yuan(value)
    if measure == TierRuleSet.Measure.ORDER_COUNT:
        return _("%(n)s 单") % {"n": int(value)}
    if measure == TierRuleSet.Measure.CREDIT:
        grades = {4: "A", 3: "B", 2: "C", 1: "D"}
        return _("%(grade)s 级") % {"grade": grades.get(int(value), "—")}
    return _("%(score)s 分") % {"score": value.quantize(Decimal("0.01"))}


def measure_label(measure: str, *, fallback: bool = False) -> str:
    if fallback:
        return _("近12个月毛利（订单无成本，按销售额计）")
    return str(TierRuleSet.Measure(measure).label)


def explain(spec: RuleSpec, item: Computed) -> str:
    """Why the figures earn this tier, in words with the figures, e.g.
    "近12个月毛利 ¥123,456.00，排名第 3/120，累计占比 8.3%，A类 → 金"."""
    label = measure_label(spec.measure, fallback=item.fallback)
    value = format_value(spec.measure, item.value)
    base = tier_label(item.base_tier)
    if item.no_orders:
        text = _("近12个月无订单 → %(tier)s") % {"tier": base}
    elif item.value <= 0:
        text = _("%(measure)s %(value)s ≤ 0 → %(tier)s") % {
            "measure": label,
            "value": value,
            "tier": base,
        }
    elif spec.method == TierRuleSet.Method.THRESHOLDS:
        if item.base_tier == Tier.ORDINARY:
            text = _("%(measure)s %(value)s，低于银下限 %(bound)s → %(tier)s") % {
                "measure": label,
                "value": value,
                "bound": format_value(spec.measure, item.threshold or Decimal(0)),
                "tier": base,
            }
        else:
            text = _("%(measure)s %(value)s，达到%(tier)s下限 %(bound)s → %(tier)s") % {
                "measure": label,
                "value": value,
                "bound": format_value(spec.measure, item.threshold or Decimal(0)),
                "tier": base,
            }
    else:
        text = _(
            "%(measure)s %(value)s，排名第 %(rank)s/%(ranked)s，累计占比 %(share)s，"
            "%(abc)s类 → %(tier)s"
        ) % {
            "measure": label,
            "value": value,
            "rank": item.rank,
            "ranked": item.ranked,
            "share": f"{(item.cum_share or Decimal(0)) * 100:.1f}%",
            "abc": item.abc,
            "tier": base,
        }
    if item.cap == "C":
        text += _("；信用等级 C，最高为银")
    elif item.cap == "D":
        text += _("；信用等级 D，定为普通")
    return text
