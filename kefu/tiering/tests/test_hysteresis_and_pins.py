"""Nightly hysteresis (upgrade at once, downgrade after two low quarters), the manager's explicit
recompute, and pins with their expiry."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.org.models import User
from kefu.tiering.models import CustomerTierState, TierChange, TierLevel, TierRuleSet
from kefu.tiering.services import tier_pin, tier_unpin, tiers_recompute
from kefu.tiering.tests.helpers import customer, default_rule_set, order, tier_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def thresholds() -> None:
    """Fixed thresholds on T12 revenue keep the arithmetic obvious: 钻石 ≥ 100,000,
    金 ≥ 50,000, 银 ≥ 10,000."""
    rule_set = default_rule_set()
    rule_set.method, rule_set.measure = TierRuleSet.Method.THRESHOLDS, "revenue_t12"
    rule_set.save()
    for tier, bound in (("diamond", 100_000), ("gold", 50_000), ("silver", 10_000)):
        TierLevel.objects.filter(rule_set=rule_set, tier=tier).update(min_value=bound)


@pytest.fixture
def gold() -> Customer:
    """A gold customer (evaluated on 2026-03-01) whose revenue has since fallen to silver."""
    person = customer("金牌客户")
    order(person, 60_000, 0, on=date(2026, 2, 1))
    tiers_recompute(today=date(2026, 3, 1))
    assert tier_of(person) == "gold"
    Order.objects.filter(customer=person).update(amount=20_000)
    return person


def test_nightly_recompute_upgrades_at_once(db: None) -> None:
    person = customer("成长客户")
    order(person, 20_000, 0, on=date(2026, 2, 1))
    tiers_recompute(today=date(2026, 3, 1))
    assert tier_of(person) == "silver"
    order(person, 40_000, 0, on=date(2026, 3, 1))

    result = tiers_recompute(today=date(2026, 3, 2))

    assert tier_of(person) == "gold"
    assert result.upgraded == 1
    assert TierChange.objects.filter(customer=person, to_tier="gold", kind="nightly").exists()


def test_nightly_downgrade_waits_for_the_second_low_quarter(gold: Customer) -> None:
    first = tiers_recompute(today=date(2026, 3, 10))
    tiers_recompute(today=date(2026, 3, 31))  # the same quarter again: still one

    assert tier_of(gold) == "gold"
    assert first.pending_downgrades == 1
    state = CustomerTierState.objects.get(customer=gold)
    assert (state.low_quarters, state.low_since_quarter, state.computed_tier) == (
        1,
        "2026Q1",
        "silver",
    )

    second = tiers_recompute(today=date(2026, 4, 1))

    assert tier_of(gold) == "silver"
    assert (second.downgraded, second.pending_downgrades) == (1, 0)
    change = TierChange.objects.filter(customer=gold).first()
    assert change is not None
    assert (change.from_tier, change.to_tier, change.kind) == ("gold", "silver", "nightly")
    assert change.reason.endswith("；自 2026Q1 起已有 2 个季度低于原等级，降级")
    assert CustomerTierState.objects.get(customer=gold).low_quarters == 0


def test_low_quarters_reset_when_the_computed_tier_is_back(gold: Customer) -> None:
    tiers_recompute(today=date(2026, 3, 10))
    Order.objects.filter(customer=gold).update(amount=60_000)
    tiers_recompute(today=date(2026, 3, 20))
    Order.objects.filter(customer=gold).update(amount=20_000)

    tiers_recompute(today=date(2026, 4, 2))

    assert tier_of(gold) == "gold"  # a new first low quarter, not the second
    assert CustomerTierState.objects.get(customer=gold).low_since_quarter == "2026Q2"


def test_explicit_recompute_downgrades_at_once(gold: Customer) -> None:
    result = tiers_recompute(hysteresis=False, today=date(2026, 3, 10))

    assert tier_of(gold) == "silver"
    assert result.downgraded == 1
    assert TierChange.objects.filter(customer=gold).first().kind == "recompute"  # type: ignore[union-attr]


def test_recompute_refuses_a_user_without_the_permission(agent: User) -> None:
    with pytest.raises(Forbidden):
        tiers_recompute(actor=agent, hysteresis=False)


def test_recompute_needs_an_active_rule_set(db: None) -> None:
    TierRuleSet.objects.update(is_active=False)

    with pytest.raises(ApplicationError, match="没有启用的分层规则"):
        tiers_recompute()


def test_a_pin_holds_through_its_expiry_and_is_removed_after_it(
    manager: User, gold: Customer
) -> None:
    change = tier_pin(
        actor=manager,
        customer=gold,
        tier="diamond",
        reason="战略合作伙伴",
        expires_on=date(2026, 6, 30),
        today=date(2026, 3, 5),
    )
    assert tier_of(gold) == "diamond"
    assert (change.kind, change.from_tier, change.to_tier) == ("pin", "gold", "diamond")
    assert "战略合作伙伴" in change.reason

    kept = tiers_recompute(hysteresis=False, today=date(2026, 6, 30))
    assert tier_of(gold) == "diamond"
    assert kept.unchanged == 1

    tiers_recompute(hysteresis=False, today=date(2026, 7, 1))

    assert tier_of(gold) == "silver"
    unpin = TierChange.objects.filter(customer=gold).first()
    assert unpin is not None
    assert (unpin.kind, unpin.from_tier, unpin.to_tier) == ("unpin", "diamond", "silver")
    assert unpin.reason.startswith("人工指定的钻石已于 2026-06-30 到期，恢复按规则计算：")
    state = CustomerTierState.objects.get(customer=gold)
    assert (state.pinned_tier, state.pin_expires_on) == ("", None)


def test_an_expired_pin_is_removed_at_once_even_by_the_nightly_job(
    manager: User, gold: Customer
) -> None:
    tier_pin(
        actor=manager,
        customer=gold,
        tier="diamond",
        reason="试用",
        expires_on=date(2026, 3, 31),
        today=date(2026, 3, 5),
    )

    tiers_recompute(today=date(2026, 4, 1))

    assert tier_of(gold) == "silver"


def test_unpin_restores_the_computed_tier_at_once(manager: User, gold: Customer) -> None:
    tiers_recompute(today=date(2026, 3, 10))  # computed silver, still gold (one low quarter)
    tier_pin(
        actor=manager,
        customer=gold,
        tier="diamond",
        reason="年度大单谈判中",
        expires_on=date(2026, 12, 31),
        today=date(2026, 3, 10),
    )

    change = tier_unpin(actor=manager, customer=gold, reason="谈判结束")

    assert tier_of(gold) == "silver"
    assert (change.kind, change.from_tier, change.to_tier) == ("unpin", "diamond", "silver")
    assert change.reason == "取消人工指定的钻石，恢复按规则计算的银：谈判结束"


def test_pin_validates_its_fields(manager: User, gold: Customer) -> None:
    with pytest.raises(ApplicationError) as caught:
        tier_pin(
            actor=manager,
            customer=gold,
            tier="platinum",
            reason="  ",
            expires_on=date(2026, 3, 1),
            today=date(2026, 3, 5),
        )

    assert set(caught.value.fields) == {"tier", "reason", "expires_on"}
    assert caught.value.fields["expires_on"] == ["到期日必须晚于今天。"]
    assert tier_of(gold) == "gold"
    assert not TierChange.objects.filter(kind="pin").exists()


def test_an_agent_may_not_pin(agent: User, gold: Customer) -> None:
    with pytest.raises(Forbidden):
        tier_pin(
            actor=agent,
            customer=gold,
            tier="diamond",
            reason="想升级",
            expires_on=date(2099, 1, 1),
        )


def test_unpin_without_a_pin_is_refused(manager: User, gold: Customer) -> None:
    with pytest.raises(ApplicationError, match="没有人工指定"):
        tier_unpin(actor=manager, customer=gold)
