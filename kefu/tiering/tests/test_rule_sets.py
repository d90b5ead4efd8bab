"""Rule sets are data a manager edits: validated as a whole, nothing saved when anything is bad."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.org.models import User
from kefu.tiering.models import TierLevel, TierRuleSet
from kefu.tiering.services import (
    LevelInput,
    RuleSetInput,
    tier_rule_set_activate,
    tier_rule_set_create,
    tier_rule_set_update,
)
from kefu.tiering.tests.helpers import default_rule_set

pytestmark = pytest.mark.django_db


def _thresholds(diamond: str, gold: str, silver: str) -> list[LevelInput]:
    return [
        LevelInput(tier="diamond", min_value=Decimal(diamond), sla_policy="diamond"),
        LevelInput(tier="gold", min_value=Decimal(gold)),
        LevelInput(tier="silver", min_value=Decimal(silver), followup_days=90),
    ]


def test_manager_switches_the_default_to_fixed_thresholds(manager: User) -> None:
    rule_set = tier_rule_set_update(
        actor=manager,
        rule_set=default_rule_set(),
        data=RuleSetInput(method="thresholds", levels=_thresholds("100000", "50000", "10000")),
    )

    levels = {level.tier: level for level in rule_set.levels.all()}
    assert rule_set.method == "thresholds"
    assert levels["gold"].min_value == Decimal("50000.00")
    assert levels["silver"].followup_days == 90
    assert levels["ordinary"].min_value is None
    event = AuditEvent.objects.get(action="update", object_type="tiering.tierruleset")
    assert event.changes["method"] == ["ranking", "thresholds"]


@pytest.mark.parametrize(
    ("bounds", "bad_fields"),
    [
        (("100000", "100000", "10000"), {"levels.gold.min_value"}),  # equal: overlap
        (("100000", "50000", "60000"), {"levels.silver.min_value"}),  # out of order
        (("40000", "50000", "10000"), {"levels.gold.min_value"}),
        (("100000", "50000", "0"), {"levels.silver.min_value"}),  # not above zero
    ],
)
def test_overlapping_or_out_of_order_thresholds_are_refused(
    manager: User, bounds: tuple[str, str, str], bad_fields: set[str]
) -> None:
    with pytest.raises(ApplicationError) as caught:
        tier_rule_set_update(
            actor=manager,
            rule_set=default_rule_set(),
            data=RuleSetInput(method="thresholds", levels=_thresholds(*bounds)),
        )

    assert set(caught.value.fields) == bad_fields
    assert caught.value.status == 422
    assert default_rule_set().method == "ranking"  # nothing saved
    assert not TierLevel.objects.filter(min_value__isnull=False).exists()


def test_overlap_message_names_both_tiers(manager: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        tier_rule_set_update(
            actor=manager,
            rule_set=default_rule_set(),
            data=RuleSetInput(method="thresholds", levels=_thresholds("100", "100", "10")),
        )

    assert caught.value.fields["levels.gold.min_value"] == [
        "金的下限必须低于钻石的下限（100），不能重叠。"
    ]


def test_thresholds_method_needs_every_bound(manager: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        tier_rule_set_update(
            actor=manager, rule_set=default_rule_set(), data=RuleSetInput(method="thresholds")
        )

    assert set(caught.value.fields) == {
        "levels.diamond.min_value",
        "levels.gold.min_value",
        "levels.silver.min_value",
    }


def test_cuts_shares_and_weights_are_checked(manager: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        tier_rule_set_update(
            actor=manager,
            rule_set=default_rule_set(),
            data=RuleSetInput(
                measure="weighted",
                cut_a=Decimal("0.95"),
                cut_b=Decimal("0.90"),
                diamond_share=Decimal("1.5"),
                weights={"revenue_t12": "0.5", "order_count_t12": "0.3"},
                levels=[LevelInput(tier="gold", discount_rate=Decimal("1.2"), priority_bump=9)],
            ),
        )

    assert set(caught.value.fields) == {
        "cut_b",
        "diamond_share",
        "weights",
        "levels.gold.discount_rate",
        "levels.gold.priority_bump",
    }
    assert "各项权重之和必须等于 1" in caught.value.fields["weights"][0]


def test_create_makes_an_inactive_rule_set_with_four_levels(manager: User) -> None:
    rule_set = tier_rule_set_create(
        actor=manager,
        data=RuleSetInput(
            name="按销售额阈值",
            measure="revenue_t12",
            method="thresholds",
            levels=_thresholds("500000", "200000", "50000"),
        ),
    )

    assert not rule_set.is_active
    assert rule_set.levels.count() == 4
    assert AuditEvent.objects.filter(action="create", object_id=str(rule_set.pk)).exists()


def test_create_refuses_a_duplicate_name(manager: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        tier_rule_set_create(actor=manager, data=RuleSetInput(name="默认规则（ABC毛利排名）"))

    assert caught.value.fields == {"name": ["已有同名的分层规则。"]}


def test_activate_leaves_exactly_one_active_rule_set(manager: User) -> None:
    other = tier_rule_set_create(actor=manager, data=RuleSetInput(name="备选规则"))

    tier_rule_set_activate(actor=manager, rule_set=other)

    assert list(TierRuleSet.objects.filter(is_active=True)) == [other]


def test_an_agent_may_not_change_rules(agent: User) -> None:
    with pytest.raises(Forbidden):
        tier_rule_set_update(
            actor=agent, rule_set=default_rule_set(), data=RuleSetInput(cut_a=Decimal("0.5"))
        )
    with pytest.raises(Forbidden):
        tier_rule_set_create(actor=agent, data=RuleSetInput(name="x"))
