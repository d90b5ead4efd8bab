"""The 100-point credit scorecard of domain.md §3, as pure functions (no ORM, no I/O).

The services aggregate each customer's orders into ``CreditFacts`` (in SQL) and call ``assess``;
the result carries every figure it used so that the change log can show why a grade or a limit
moved. docs/credit.md explains each rule and number; all of them come from the policy config
(``CreditPolicy.config``), merged over ``default_policy()`` so a stored config may omit keys.

Factors (defaults; maximum points in brackets):

* payment history [40]: orders due in the last ``window_days`` (365) plus every unpaid order
  that is overdue today, however old. The worst lateness (days from due date to payment, or to
  today when unpaid) picks the band: on time 40, 1-30 days 25, 31-60 days 10, worse 0. When the
  late orders make up ``share_step_down`` (50%) or more of the assessed amount, one band lower.
* years of cooperation [15]: from ``cooperation_since``, else the first order's date.
* T12 volume [15]: revenue of the trailing 12 months, by fixed breaks.
* finances [15]: ``finance_score`` (0-15) entered by finance.
* legal record [15]: clean 15, minor 8, lawsuit 0; a lawsuit also caps the grade at C.

An unknown factor scores its neutral default (``neutral``); a customer with nothing known scores
25 + 8 + 8 + 8 + 8 = 57, grade C: not distrusted (D), but no trust earned yet (B needs 70).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

GRADES = ("A", "B", "C", "D")
FACTOR_KEYS = ("payment", "years", "volume", "finances", "legal")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def default_policy() -> dict[str, Any]:
    """domain.md §3 defaults; docs/credit.md explains each number. Decimals are strings (JSON)."""
    return {
        "grade_bounds": {"A": 85, "B": 70, "C": 55},
        "payment": {
            "max": 40,
            "on_time": 40,
            "late_30": 25,
            "late_60": 10,
            "worse": 0,
            "window_days": 365,
            "share_step_down": "0.50",
        },
        "factor_max": 15,
        "neutral": {"payment": 25, "years": 8, "volume": 8, "finances": 8, "legal": 8},
        # [minimum years, points], highest first; below the last break 0 points
        "years_breaks": [[5, 15], [3, 12], [1, 8], [0, 4]],
        # [minimum T12 revenue in yuan, points], highest first; below the last break 0 points
        "volume_breaks": [
            ["1000000", 15],
            ["500000", 12],
            ["100000", 10],
            ["10000", 6],
            ["0.01", 3],
        ],
        "legal": {"clean": 15, "minor": 8, "lawsuit": 0},
        "limit_k": {"A": "0.35", "B": "0.25", "C": "0.10", "D": "0"},
        "limit_j": {"A": "0.10", "B": "0.05", "C": "0.02", "D": "0"},
        "lawsuit_caps_at": "C",
    }


def merge_policy(stored: Any) -> dict[str, Any]:
    """The defaults with the stored config laid over them, one level of sections deep."""
    merged = default_policy()
    if not isinstance(stored, dict):
        return merged
    for key, value in stored.items():
        if key not in merged:
            continue
        if isinstance(merged[key], dict) and isinstance(value, dict):
            section = dict(merged[key])
            section.update({k: v for k, v in value.items() if k in section})
            merged[key] = section
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ZERO


@dataclass(frozen=True)
class CreditFacts:
    """What is known about one customer: aggregates of its orders and the finance-entered factors.

    ``assessed_*`` cover the orders payment history looks at (see the module docstring);
    ``worst_late_days`` is 0 when none of them was late.
    """

    today: date
    order_count: int = 0
    first_order_date: date | None = None
    t12_revenue: Decimal = ZERO
    assessed_count: int = 0
    assessed_amount: Decimal = ZERO
    late_amount: Decimal = ZERO
    worst_late_days: int = 0
    registered_capital: Decimal | None = None
    annual_turnover: Decimal | None = None
    finance_score: int | None = None
    legal_record: str = "unknown"  # unknown, clean, minor, lawsuit
    payment_days: int = 30
    cooperation_since: date | None = None


@dataclass(frozen=True)
class FactorScore:
    key: str  # one of FACTOR_KEYS
    points: int
    max_points: int
    value: str  # the figure the points came from, for people ("最长逾期 12 天")
    neutral: bool  # unknown factor, scored its neutral default

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "points": self.points,
            "max": self.max_points,
            "value": self.value,
            "neutral": self.neutral,
        }


@dataclass(frozen=True)
class CreditAssessment:
    score: int
    grade: str
    score_grade: str  # the grade the score alone gives (before the lawsuit cap)
    factors: tuple[FactorScore, ...]
    need: Decimal  # monthly forecast × (payment days + 30) ÷ 30
    capital_cap: Decimal | None  # k × registered capital, None when capital is unknown
    turnover_cap: Decimal | None  # j × annual turnover, None when turnover is unknown
    limit: Decimal
    k: Decimal
    j: Decimal
    facts: CreditFacts = field(repr=False)

    @property
    def cash_only(self) -> bool:
        return self.limit <= 0

    def factor(self, key: str) -> FactorScore:
        return next(f for f in self.factors if f.key == key)

    def figures(self) -> dict[str, Any]:
        """Every figure used, JSON-ready (the credit change log stores this)."""
        facts = self.facts

        def money(value: Decimal | None) -> str | None:
            return None if value is None else str(value.quantize(CENT))

        return {
            "score": self.score,
            "grade": self.grade,
            "score_grade": self.score_grade,
            "factors": {f.key: f.as_dict() for f in self.factors},
            "t12_revenue": money(facts.t12_revenue),
            "order_count": facts.order_count,
            "first_order_date": facts.first_order_date.isoformat()
            if facts.first_order_date
            else None,
            "assessed_orders": facts.assessed_count,
            "assessed_amount": money(facts.assessed_amount),
            "late_amount": money(facts.late_amount),
            "worst_late_days": facts.worst_late_days,
            "payment_days": facts.payment_days,
            "registered_capital": money(facts.registered_capital),
            "annual_turnover": money(facts.annual_turnover),
            "need": money(self.need),
            "k": str(self.k),
            "j": str(self.j),
            "capital_cap": money(self.capital_cap),
            "turnover_cap": money(self.turnover_cap),
            "limit": money(self.limit),
            "today": facts.today.isoformat(),
        }


_LEGAL_LABELS = {
    "clean": gettext_lazy("无不良记录"),
    "minor": gettext_lazy("轻微纠纷"),
    "lawsuit": gettext_lazy("被其他债权人起诉"),
}


def late_days(*, due: date, paid: date | None, today: date) -> int:
    """Days from the due date to payment (or to today while unpaid); 0 when on time."""
    return max(0, ((paid or today) - due).days)


def score_payment(facts: CreditFacts, policy: dict[str, Any]) -> FactorScore:
    rules = policy["payment"]
    max_points = int(rules["max"])
    if facts.assessed_count == 0:
        return FactorScore("payment", int(policy["neutral"]["payment"]), max_points, "", True)
    bands = [
        int(rules["on_time"]),
        int(rules["late_30"]),
        int(rules["late_60"]),
        int(rules["worse"]),
    ]
    worst = facts.worst_late_days
    band = 0 if worst <= 0 else 1 if worst <= 30 else 2 if worst <= 60 else 3
    share = facts.late_amount / facts.assessed_amount if facts.assessed_amount > 0 else ZERO
    if worst > 0 and share >= _dec(rules["share_step_down"]) and band < 3:
        band += 1
    value = _("最长逾期 %(days)d 天，逾期金额占 %(share)s%%") % {
        "days": worst,
        "share": (share * 100).quantize(Decimal("1")),
    }
    return FactorScore("payment", bands[band], max_points, value, False)


def _years_between(start: date, today: date) -> Decimal:
    days = max(0, (today - start).days)
    return (Decimal(days) / Decimal("365.25")).quantize(CENT)


def score_years(facts: CreditFacts, policy: dict[str, Any]) -> FactorScore:
    max_points = int(policy["factor_max"])
    start = facts.cooperation_since or facts.first_order_date
    if start is None:
        return FactorScore("years", int(policy["neutral"]["years"]), max_points, "", True)
    years = _years_between(start, facts.today)
    points = 0
    for minimum, pts in policy["years_breaks"]:
        if years >= _dec(minimum):
            points = int(pts)
            break
    return FactorScore(
        "years", points, max_points, _("合作 %(years)s 年") % {"years": years}, False
    )


def score_volume(facts: CreditFacts, policy: dict[str, Any]) -> FactorScore:
    max_points = int(policy["factor_max"])
    if facts.order_count == 0:  # not trading yet: unknown, not small
        return FactorScore("volume", int(policy["neutral"]["volume"]), max_points, "", True)
    points = 0
    for minimum, pts in policy["volume_breaks"]:
        if facts.t12_revenue >= _dec(minimum):
            points = int(pts)
            break
    return FactorScore(
        "volume",
        points,
        max_points,
        _("近12个月 ¥%(amount)s") % {"amount": f"{facts.t12_revenue.quantize(CENT):,}"},
        False,
    )


def score_finances(facts: CreditFacts, policy: dict[str, Any]) -> FactorScore:
    max_points = int(policy["factor_max"])
    if facts.finance_score is None:
        return FactorScore("finances", int(policy["neutral"]["finances"]), max_points, "", True)
    points = max(0, min(int(facts.finance_score), max_points))
    return FactorScore(
        "finances",
        points,
        max_points,
        _("财务评分 %(score)s") % {"score": facts.finance_score},
        False,
    )


def score_legal(facts: CreditFacts, policy: dict[str, Any]) -> FactorScore:
    max_points = int(policy["factor_max"])
    if facts.legal_record not in policy["legal"]:
        return FactorScore("legal", int(policy["neutral"]["legal"]), max_points, "", True)
    points = int(policy["legal"][facts.legal_record])
    return FactorScore(
        "legal",
        points,
        max_points,
        str(_LEGAL_LABELS.get(facts.legal_record, facts.legal_record)),
        False,
    )


def grade_for(score: int, policy: dict[str, Any]) -> str:
    bounds = policy["grade_bounds"]
    for grade in ("A", "B", "C"):
        if score >= int(bounds[grade]):
            return grade
    return "D"


def limit_for(
    *,
    grade: str,
    t12_revenue: Decimal,
    payment_days: int,
    registered_capital: Decimal | None,
    annual_turnover: Decimal | None,
    policy: dict[str, Any],
) -> tuple[Decimal, Decimal, Decimal | None, Decimal | None, Decimal, Decimal]:
    """(limit, need, capital cap, turnover cap, k, j): min(need, k·capital, j·turnover) over the
    known figures; grade D is cash only (0)."""
    k = _dec(policy["limit_k"].get(grade, "0"))
    j = _dec(policy["limit_j"].get(grade, "0"))
    need = (max(t12_revenue, ZERO) / 12 * (payment_days + 30) / 30).quantize(CENT, ROUND_DOWN)
    capital_cap = (
        None if registered_capital is None else (k * registered_capital).quantize(CENT, ROUND_DOWN)
    )
    turnover_cap = (
        None if annual_turnover is None else (j * annual_turnover).quantize(CENT, ROUND_DOWN)
    )
    if grade == "D":
        return ZERO, need, capital_cap, turnover_cap, k, j
    candidates = [need] + [cap for cap in (capital_cap, turnover_cap) if cap is not None]
    return max(min(candidates), ZERO), need, capital_cap, turnover_cap, k, j


def assess(facts: CreditFacts, policy: dict[str, Any]) -> CreditAssessment:
    """Score, grade and limit of one customer. ``policy`` is a merged config (merge_policy)."""
    factors = (
        score_payment(facts, policy),
        score_years(facts, policy),
        score_volume(facts, policy),
        score_finances(facts, policy),
        score_legal(facts, policy),
    )
    score = max(0, min(100, sum(f.points for f in factors)))
    score_grade = grade_for(score, policy)
    grade = score_grade
    cap = str(policy.get("lawsuit_caps_at", "C"))
    if (
        facts.legal_record == "lawsuit"
        and cap in GRADES
        and GRADES.index(grade) < GRADES.index(cap)
    ):
        grade = cap
    limit, need, capital_cap, turnover_cap, k, j = limit_for(
        grade=grade,
        t12_revenue=facts.t12_revenue,
        payment_days=facts.payment_days,
        registered_capital=facts.registered_capital,
        annual_turnover=facts.annual_turnover,
        policy=policy,
    )
    return CreditAssessment(
        score=score,
        grade=grade,
        score_grade=score_grade,
        factors=factors,
        need=need,
        capital_cap=capital_cap,
        turnover_cap=turnover_cap,
        limit=limit,
        k=k,
        j=j,
        facts=facts,
    )
