"""Every change to tiers and tier rules goes through here (分层分类, domain.md §3).

When tiers move
    Tiers follow the nightly job (kefu.tiering.tasks, 02:30, with hysteresis) or a manager's
    explicit recompute (API, UI, ``kefu recompute_tiers --now``, no hysteresis). They do NOT
    follow ``kefu.orders.signals.orders_changed``: a recompute ranks every customer against all
    the others, so one order batch would mean a full recompute, and an import must stay fast.

Hysteresis (nightly)
    An upgrade applies at once. A lower computed tier applies only once it has been lower in
    two distinct calendar quarters (``low_quarters`` counts them, ``last_low_quarter`` keeps the
    last one seen); the count starts again when the computed tier is back at or above the
    current one. A customer never evaluated before takes its computed tier at once.

Pins
    A manager may pin a tier with a reason and an expiry; the pin holds through its expiry day
    and the first recompute after it removes the pin (a TierChange of kind UNPIN) and applies
    the computed tier at once.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.core.text import clean_text
from kefu.customers.models import Customer
from kefu.org.models import Team, User
from kefu.tiering.measures import MEASURES, figures_for_all
from kefu.tiering.models import CustomerTierState, TierChange, TierLevel, TierRuleSet
from kefu.tiering.rules import (
    RANKED_TIERS,
    TIER_RANK,
    RuleSpec,
    compute_tiers,
    explain,
    tier_label,
)
from kefu.tiering.writes import write_results

Tier = Customer.Tier
_MAX_VALUE = Decimal("99999999999999.99")  # CustomerTierState.measure_value: 16 digits, 2 places


@dataclass
class RecomputeResult:
    evaluated: int = 0
    upgraded: int = 0
    downgraded: int = 0
    unchanged: int = 0
    pending_downgrades: int = 0
    duration: float = 0.0
    rule_set_id: int | None = None
    kind: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def active_rule_set(*, lock: bool = False) -> TierRuleSet:
    rule_sets = TierRuleSet.objects.filter(is_active=True)
    if lock:
        rule_sets = rule_sets.select_for_update()
    rule_set = rule_sets.first()
    if rule_set is None:
        raise ApplicationError(_("没有启用的分层规则，请先启用一套规则。"), code="no_rule_set")
    return rule_set


@dataclass
class _State:
    """A CustomerTierState row as plain values: 100,000 of these load and compare far faster
    than model instances; only the rows that changed become model instances for the upsert."""

    computed_tier: str = ""
    measure_value: Decimal = Decimal("0.00")
    low_since_quarter: str = ""
    low_quarters: int = 0
    last_low_quarter: str = ""
    pinned_tier: str = ""
    pin_reason: str = ""
    pin_expires_on: date | None = None
    pinned_by_id: int | None = None

    def reset_low(self) -> None:
        self.low_quarters, self.last_low_quarter, self.low_since_quarter = 0, "", ""

    def row(self, customer_id: int, now: datetime) -> CustomerTierState:
        return CustomerTierState(
            customer_id=customer_id,
            evaluated_at=now,
            computed_tier=self.computed_tier,
            measure_value=self.measure_value,
            low_since_quarter=self.low_since_quarter,
            low_quarters=self.low_quarters,
            last_low_quarter=self.last_low_quarter,
            pinned_tier=self.pinned_tier,
            pin_reason=self.pin_reason,
            pin_expires_on=self.pin_expires_on,
            pinned_by_id=self.pinned_by_id,
        )


def _reset_low(state: CustomerTierState) -> None:
    state.low_quarters, state.last_low_quarter, state.low_since_quarter = 0, "", ""


def _load_states() -> dict[int, _State]:
    names = [f.name for f in fields(_State)]
    return {
        row[0]: _State(*row[1:])
        for row in CustomerTierState.objects.order_by().values_list("customer_id", *names)
    }


@transaction.atomic
def tiers_recompute(
    *, actor: User | None = None, hysteresis: bool = True, today: date | None = None
) -> RecomputeResult:
    """Recompute every customer's tier under the active rule set.

    1. Lock the active rule set (a second recompute or a pin waits for this one).
    2. Read the T12 figures of every customer in one GROUP BY and apply the rules in memory.
    3. Decide each customer's tier: pin, hysteresis, or the computed tier.
    4. Write the changes in bulk: TierChange rows, Customer.tier (one UPDATE per tier and
       chunk), the CustomerTierState rows that changed (one upsert per batch) plus one UPDATE
       stamping evaluated_at, and one audit event with the counts.
    """
    started = time.monotonic()
    if actor is not None and not actor.has_perm("tiering.recompute_tiers"):
        raise Forbidden(_("您没有重新计算客户等级的权限。"))
    today = today or timezone.localdate()
    rule_set = active_rule_set(lock=True)
    spec = RuleSpec.of(rule_set)
    figures = figures_for_all(today)
    computed = compute_tiers(spec, figures)
    states = _load_states()
    kind = TierChange.Kind.NIGHTLY if hysteresis else TierChange.Kind.RECOMPUTE
    quarter = quarter_of(today)
    now = timezone.now()
    result = RecomputeResult(rule_set_id=rule_set.pk, kind=str(kind), evaluated=len(computed))
    changes: list[TierChange] = []
    moves: dict[str, list[int]] = defaultdict(list)
    to_save: list[CustomerTierState] = []
    for pk, item in computed.items():
        current = figures[pk].tier
        old = states.get(pk)
        fresh = old is None
        state = _State() if old is None else replace(old)
        state.computed_tier = item.tier
        state.measure_value = max(min(item.value, _MAX_VALUE), -_MAX_VALUE)
        prefix = suffix = ""
        change_kind: str = kind
        unpinned = pinned = False
        if state.pinned_tier and (state.pin_expires_on is None or state.pin_expires_on >= today):
            state.reset_low()
            target, pinned = state.pinned_tier, True
        else:
            if state.pinned_tier:
                prefix = _("人工指定的%(tier)s已于 %(day)s 到期，恢复按规则计算：") % {
                    "tier": tier_label(state.pinned_tier),
                    "day": state.pin_expires_on,
                }
                state.pinned_tier, state.pin_reason = "", ""
                state.pin_expires_on, state.pinned_by_id = None, None
                change_kind, unpinned = TierChange.Kind.UNPIN, True
            target = current
            lower = TIER_RANK[item.tier] < TIER_RANK[current]
            if not lower or fresh or unpinned or not hysteresis:
                target = item.tier
                state.reset_low()
            else:
                if state.last_low_quarter != quarter:
                    state.low_quarters += 1
                    state.last_low_quarter = quarter
                    if state.low_quarters == 1:
                        state.low_since_quarter = quarter
                if state.low_quarters >= 2:
                    target = item.tier
                    suffix = _("；自 %(since)s 起已有 %(n)s 个季度低于原等级，降级") % {
                        "since": state.low_since_quarter,
                        "n": state.low_quarters,
                    }
                    state.reset_low()
                else:
                    result.pending_downgrades += 1
        if state != old:
            to_save.append(state.row(pk, now))
        if target != current or unpinned:
            if pinned:
                reason = _("人工指定为%(tier)s：%(reason)s") % {
                    "tier": tier_label(target),
                    "reason": state.pin_reason,
                }
            else:
                reason = prefix + explain(spec, item) + suffix
            changes.append(
                TierChange(
                    customer_id=pk,
                    from_tier=current,
                    to_tier=target,
                    kind=change_kind,
                    reason=reason[:300],
                    figures=item.figures(spec.measure),
                    rule_set=rule_set,
                    actor=actor,
                )
            )
        if target != current:
            moves[target].append(pk)
        if TIER_RANK[target] > TIER_RANK[current]:
            result.upgraded += 1
        elif TIER_RANK[target] < TIER_RANK[current]:
            result.downgraded += 1
        else:
            result.unchanged += 1
    write_results(changes=changes, moves=moves, states=to_save, now=now)
    result.duration = round(time.monotonic() - started, 3)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=rule_set,
        field="tiers",
        changes={k: v for k, v in result.as_dict().items() if k != "rule_set_id"},
        note=_("客户分层重算（%(kind)s）") % {"kind": TierChange.Kind(kind).label},
    )
    return result


# --- pins ---------------------------------------------------------------------------------


def _may_pin(actor: User) -> None:
    if not actor.has_perm("tiering.change_tierruleset"):
        raise Forbidden(_("您没有人工指定客户等级的权限。"))


def _lock_for_customer(customer: Customer) -> tuple[Customer, CustomerTierState]:
    # The active rule set's lock serialises pins with a running recompute (which rewrites
    # every state row); then the customer row itself.
    TierRuleSet.objects.select_for_update().filter(is_active=True).first()
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    state, _created = CustomerTierState.objects.select_for_update().get_or_create(
        customer=locked, defaults={"computed_tier": locked.tier}
    )
    return locked, state


@transaction.atomic
def tier_pin(
    *,
    actor: User,
    customer: Customer,
    tier: str,
    reason: str,
    expires_on: date | None,
    today: date | None = None,
) -> TierChange:
    """Pin the customer's tier by hand until ``expires_on`` (inclusive); applies at once."""
    _may_pin(actor)
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if tier not in Tier.values:
        errors["tier"] = [_("等级只能是钻石、金、银或普通。")]
    try:
        reason = clean_text(reason or "", max_length=200, required=True)
    except ValueError as exc:
        errors["reason"] = [str(exc)]
    if expires_on is None:
        errors["expires_on"] = [_("请填写到期日。")]
    elif expires_on <= today:
        errors["expires_on"] = [_("到期日必须晚于今天。")]
    if customer.merged_into_id is not None:
        errors["customer_id"] = [_("该客户已合并到其他客户，不能指定等级。")]
    if errors:
        raise ApplicationError(_("提交的内容有误，请检查标出的字段。"), fields=errors)
    locked, state = _lock_for_customer(customer)
    previous = locked.tier
    state.pinned_tier, state.pin_reason = tier, reason
    state.pin_expires_on, state.pinned_by = expires_on, actor
    _reset_low(state)
    state.save()
    if previous != tier:
        Customer.objects.filter(pk=locked.pk).update(tier=tier, updated_at=timezone.now())
        customer.tier = tier
    change = TierChange.objects.create(
        customer=locked,
        from_tier=previous,
        to_tier=tier,
        kind=TierChange.Kind.PIN,
        reason=(
            _("人工指定为%(tier)s，至 %(day)s：%(reason)s")
            % {"tier": tier_label(tier), "day": expires_on, "reason": reason}
        )[:300],
        figures={"pinned_tier": tier, "expires_on": str(expires_on)},
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=locked,
        field="tier",
        changes={"tier": [previous, tier], "pin_expires_on": str(expires_on)},
        note=_("人工指定等级：%(reason)s") % {"reason": reason},
    )
    return change


@transaction.atomic
def tier_unpin(*, actor: User, customer: Customer, reason: str = "") -> TierChange:
    """Remove a pin; the tier computed by the last recompute applies at once."""
    _may_pin(actor)
    try:
        reason = clean_text(reason or "", max_length=200)
    except ValueError as exc:
        raise ApplicationError(str(exc), fields={"reason": [str(exc)]}) from None
    locked, state = _lock_for_customer(customer)
    if not state.pinned_tier:
        raise ApplicationError(_("该客户没有人工指定的等级。"), code="not_pinned")
    previous, target = locked.tier, state.computed_tier or locked.tier
    pinned = state.pinned_tier
    state.pinned_tier, state.pin_reason, state.pin_expires_on, state.pinned_by = "", "", None, None
    state.save()
    if previous != target:
        Customer.objects.filter(pk=locked.pk).update(tier=target, updated_at=timezone.now())
        customer.tier = target
    text = _("取消人工指定的%(tier)s，恢复按规则计算的%(target)s") % {
        "tier": tier_label(pinned),
        "target": tier_label(target),
    }
    if reason:
        text += _("：%(reason)s") % {"reason": reason}
    change = TierChange.objects.create(
        customer=locked,
        from_tier=previous,
        to_tier=target,
        kind=TierChange.Kind.UNPIN,
        reason=text[:300],
        figures={"pinned_tier": pinned, "computed_tier": target},
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=locked,
        field="tier",
        changes={"tier": [previous, target], "pinned_tier": [pinned, ""]},
        note=text,
    )
    return change


# --- rule sets -----------------------------------------------------------------------------


@dataclass
class LevelInput:
    """One tier's threshold and benefits, given whole (a PATCH replaces the level it names)."""

    tier: str
    min_value: Decimal | None = None
    sla_policy: str = ""
    priority_bump: int = 0
    followup_days: int | None = None
    discount_rate: Decimal = Decimal("0")
    dedicated_team_id: int | None = None


@dataclass
class RuleSetInput:
    """Rule set fields; ``None`` means "not given" (for partial updates)."""

    name: str | None = None
    measure: str | None = None
    method: str | None = None
    weights: dict[str, Any] | None = None
    cut_a: Decimal | None = None
    cut_b: Decimal | None = None
    diamond_share: Decimal | None = None
    apply_credit_caps: bool | None = None
    levels: list[LevelInput] | None = field(default=None)


_RULE_FIELDS = (
    "name",
    "measure",
    "method",
    "weights",
    "cut_a",
    "cut_b",
    "diamond_share",
    "apply_credit_caps",
)
_LEVEL_FIELDS = (
    "min_value",
    "sla_policy",
    "priority_bump",
    "followup_days",
    "discount_rate",
    "dedicated_team_id",
)


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _validate_rule_set(
    values: dict[str, Any], levels: dict[str, dict[str, Any]], *, exclude_pk: int | None
) -> dict[str, list[str]]:
    """Every problem with the rule set as it would be saved, by field (levels.<tier>.<field>)."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    try:
        values["name"] = clean_text(str(values.get("name") or ""), max_length=64, required=True)
    except ValueError as exc:
        add("name", str(exc))
    else:
        same_name = TierRuleSet.objects.filter(name=values["name"])
        if exclude_pk is not None:
            same_name = same_name.exclude(pk=exclude_pk)
        if same_name.exists():
            add("name", _("已有同名的分层规则。"))
    if values.get("measure") not in TierRuleSet.Measure.values:
        add("measure", _("衡量指标无效。"))
    if values.get("method") not in TierRuleSet.Method.values:
        add("method", _("分层方法无效。"))
    cuts = {key: _decimal(values.get(key)) for key in ("cut_a", "cut_b", "diamond_share")}
    cut_a, cut_b, share = cuts["cut_a"], cuts["cut_b"], cuts["diamond_share"]
    if cut_a is None or not Decimal(0) < cut_a < Decimal(1):
        add("cut_a", _("A类累计占比必须大于 0 且小于 1。"))
    if cut_b is None or not Decimal(0) < cut_b <= Decimal(1):
        add("cut_b", _("B类累计占比必须大于 0 且不超过 1。"))
    elif cut_a is not None and cut_b <= cut_a:
        add("cut_b", _("B类累计占比必须大于A类累计占比。"))
    if share is None or not Decimal(0) <= share <= Decimal(1):
        add("diamond_share", _("钻石占比必须在 0 到 1 之间。"))
    _validate_weights(values, add)
    _validate_levels(values, levels, add)
    return errors


def _validate_weights(values: dict[str, Any], add: Any) -> None:
    weights = values.get("weights") or {}
    if not isinstance(weights, dict):
        add("weights", _("权重必须是“指标: 权重”的对象。"))
        return
    clean: dict[str, float] = {}
    for key, raw in weights.items():
        number = _decimal(raw)
        if key not in MEASURES:
            add("weights", _("未知的指标：%(key)s。") % {"key": str(key)[:40]})
        elif number is None or number < 0 or number > 1:
            add("weights", _("%(key)s 的权重必须在 0 到 1 之间。") % {"key": key})
        else:
            clean[key] = float(number)
    if values.get("measure") == TierRuleSet.Measure.WEIGHTED:
        if not clean:
            add("weights", _("加权综合分需要至少一个指标的权重。"))
        elif abs(sum(clean.values()) - 1) > 0.0001:
            add(
                "weights",
                _("各项权重之和必须等于 1（当前为 %(sum)s）。") % {"sum": sum(clean.values())},
            )
    values["weights"] = {key: str(_decimal(value)) for key, value in clean.items()}


def _validate_levels(values: dict[str, Any], levels: dict[str, dict[str, Any]], add: Any) -> None:
    for tier, level in levels.items():
        prefix = f"levels.{tier}."
        rate = _decimal(level.get("discount_rate", 0))
        if rate is None or not Decimal(0) <= rate < Decimal(1):
            add(prefix + "discount_rate", _("折扣率必须在 0 到 1 之间（如 0.05 表示 5%）。"))
        bump = level.get("priority_bump") or 0
        if not isinstance(bump, int) or not 0 <= bump <= 3:
            add(prefix + "priority_bump", _("优先级提升档数必须是 0 到 3。"))
        days = level.get("followup_days")
        if days is not None and (not isinstance(days, int) or not 1 <= days <= 366):
            add(prefix + "followup_days", _("回访周期必须是 1 到 366 天，或留空表示不回访。"))
        try:
            level["sla_policy"] = clean_text(str(level.get("sla_policy") or ""), max_length=32)
        except ValueError as exc:
            add(prefix + "sla_policy", str(exc))
        team_id = level.get("dedicated_team_id")
        if team_id is not None and not Team.objects.filter(pk=team_id).exists():
            add(prefix + "dedicated_team_id", _("班组不存在。"))
        raw = level.get("min_value")
        if raw is not None and raw != "":
            number = _decimal(raw)
            if number is None or abs(number) > _MAX_VALUE:
                add(prefix + "min_value", _("下限必须是数字。"))
            level["min_value"] = number
        else:
            level["min_value"] = None
    if values.get("method") != TierRuleSet.Method.THRESHOLDS:
        return
    # Fixed thresholds: 钻石 > 金 > 银 > 0, strictly; anything else overlaps.
    higher: tuple[str, Decimal] | None = None
    for tier in RANKED_TIERS:
        key = f"levels.{tier}.min_value"
        bound = levels.get(tier, {}).get("min_value")
        if bound is None:
            add(key, _("固定阈值方法需要填写%(tier)s的下限。") % {"tier": tier_label(tier)})
            continue
        if bound <= 0:
            add(key, _("下限必须大于 0。"))
        if higher is not None and bound >= higher[1]:
            add(
                key,
                _("%(tier)s的下限必须低于%(higher)s的下限（%(bound)s），不能重叠。")
                % {"tier": tier_label(tier), "higher": tier_label(higher[0]), "bound": higher[1]},
            )
        higher = (tier, bound)
    if Tier.ORDINARY in levels:
        levels[Tier.ORDINARY]["min_value"] = None


def _levels_of(rule_set: TierRuleSet | None) -> dict[str, dict[str, Any]]:
    current: dict[str, dict[str, Any]] = {
        tier: {"min_value": None, "sla_policy": "", "priority_bump": 0, "discount_rate": "0"}
        for tier in Tier.values
    }
    if rule_set is not None:
        for level in rule_set.levels.all():
            current[level.tier] = {name: getattr(level, name) for name in _LEVEL_FIELDS}
    return current


def _save_levels(rule_set: TierRuleSet, levels: dict[str, dict[str, Any]]) -> None:
    existing = {level.tier: level for level in rule_set.levels.all()}
    for tier in Tier.values:
        data = levels[tier]
        level = existing.get(tier) or TierLevel(rule_set=rule_set, tier=tier)
        for name in _LEVEL_FIELDS:
            setattr(level, name, data.get(name, getattr(level, name)))
        level.discount_rate = _decimal(data.get("discount_rate", 0)) or Decimal(0)
        level.save()


_NEW_RULE_SET: dict[str, Any] = {
    "name": "",
    "measure": TierRuleSet.Measure.GROSS_PROFIT,
    "method": TierRuleSet.Method.RANKING,
    "weights": {},
    "cut_a": Decimal("0.70"),
    "cut_b": Decimal("0.90"),
    "diamond_share": Decimal("0.05"),
    "apply_credit_caps": True,
}
Levels = dict[str, dict[str, Any]]


def _merged(rule_set: TierRuleSet | None, data: RuleSetInput) -> tuple[dict[str, Any], Levels]:
    if rule_set is None:
        values = dict(_NEW_RULE_SET)
    else:
        values = {name: getattr(rule_set, name) for name in _RULE_FIELDS}
    for name in _RULE_FIELDS:
        given = getattr(data, name)
        if given is not None:
            values[name] = given
    levels = _levels_of(rule_set)
    for level in data.levels or []:
        if level.tier not in Tier.values:
            raise ApplicationError(
                _("提交的内容有误，请检查标出的字段。"),
                fields={"levels": [_("未知的等级：%(tier)s。") % {"tier": str(level.tier)[:20]}]},
            )
        levels[level.tier] = {name: getattr(level, name) for name in _LEVEL_FIELDS}
    return values, levels


def _may_change(actor: User, perm: str = "tiering.change_tierruleset") -> None:
    if not actor.has_perm(perm):
        raise Forbidden(_("您没有维护分层规则的权限。"))


def _snapshot(rule_set: TierRuleSet) -> dict[str, Any]:
    snap: dict[str, Any] = {name: getattr(rule_set, name) for name in _RULE_FIELDS}
    snap["levels"] = {
        level.tier: {name: getattr(level, name) for name in _LEVEL_FIELDS}
        for level in rule_set.levels.all()
    }
    return snap


def _store(rule_set: TierRuleSet, values: dict[str, Any], levels: Levels, actor: User) -> None:
    for name in _RULE_FIELDS:
        setattr(rule_set, name, values[name])
    rule_set.cut_a = _decimal(values["cut_a"]) or Decimal(0)
    rule_set.cut_b = _decimal(values["cut_b"]) or Decimal(0)
    rule_set.diamond_share = _decimal(values["diamond_share"]) or Decimal(0)
    rule_set.updated_by = actor
    try:
        with transaction.atomic():
            rule_set.save()
    except IntegrityError:
        raise ApplicationError(
            _("提交的内容有误，请检查标出的字段。"), fields={"name": [_("已有同名的分层规则。")]}
        ) from None
    _save_levels(rule_set, levels)


@transaction.atomic
def tier_rule_set_create(*, actor: User, data: RuleSetInput) -> TierRuleSet:
    """A new rule set, inactive until a manager activates it; all four tiers get a level."""
    _may_change(actor, "tiering.add_tierruleset")
    values, levels = _merged(None, data)
    errors = _validate_rule_set(values, levels, exclude_pk=None)
    if errors:
        raise ApplicationError(_("提交的内容有误，请检查标出的字段。"), fields=errors)
    rule_set = TierRuleSet(is_active=False)
    _store(rule_set, values, levels, actor)
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, target=rule_set, changes=_snapshot(rule_set)
    )
    return rule_set


@transaction.atomic
def tier_rule_set_update(*, actor: User, rule_set: TierRuleSet, data: RuleSetInput) -> TierRuleSet:
    """Change fields and levels; validated as a whole (nothing is saved when anything is bad).
    Tiers move at the next recompute, not here."""
    _may_change(actor)
    locked = TierRuleSet.objects.select_for_update().get(pk=rule_set.pk)
    before = _snapshot(locked)
    values, levels = _merged(locked, data)
    errors = _validate_rule_set(values, levels, exclude_pk=locked.pk)
    if errors:
        raise ApplicationError(_("提交的内容有误，请检查标出的字段。"), fields=errors)
    _store(locked, values, levels, actor)
    after = _snapshot(locked)
    diff = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if diff:
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=locked, changes=diff)
    return locked


@transaction.atomic
def tier_rule_set_activate(*, actor: User, rule_set: TierRuleSet) -> TierRuleSet:
    """Make this the rule set recomputes apply (one active at a time)."""
    _may_change(actor)
    locked = TierRuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if locked.is_active:
        return locked
    previous = list(
        TierRuleSet.objects.select_for_update().filter(is_active=True).values_list("pk", flat=True)
    )
    TierRuleSet.objects.filter(pk__in=previous).update(is_active=False)
    locked.is_active, locked.updated_by = True, actor
    locked.save(update_fields=["is_active", "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=locked,
        field="is_active",
        changes={"is_active": [False, True], "deactivated": previous},
    )
    return locked
