"""Choosing the SLA policy of a ticket: defaults, specificity, tier bump and code, complaints."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kefu.sla.engine import Targets, ticket_targets
from kefu.sla.models import ComplaintDeadline, SlaPolicy
from kefu.tiering.models import TierLevel

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def _policy(name: str, response: timedelta, resolution: timedelta, **match: str) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name=name, response_target=response, resolution_target=resolution, **match
    )


@pytest.mark.parametrize(
    ("priority", "response", "resolution", "business_hours"),
    [
        ("urgent", timedelta(minutes=30), 4 * H, False),
        ("high", 2 * H, 8 * H, True),
        ("normal", 4 * H, 24 * H, True),  # 3 working days
        ("low", 8 * H, 48 * H, True),  # P3 doubled: 6 working days
    ],
)
def test_the_seeded_defaults_follow_domain_section_5(
    priority: str, response: timedelta, resolution: timedelta, business_hours: bool
) -> None:
    targets = ticket_targets(ticket_type="inquiry", priority=priority)
    seeded = SlaPolicy.objects.get(priority=priority, ticket_type="", tier="", code="")
    assert targets == Targets(response, resolution, business_hours, seeded.pk, priority, None)


def test_a_diamond_customer_is_bumped_one_priority_and_urgent_stays_urgent() -> None:
    # the default tier rule set (migration of kefu.tiering) gives diamond priority_bump 1
    targets = ticket_targets(ticket_type="inquiry", priority="normal", tier="diamond")
    assert (targets.priority, targets.response, targets.resolution) == ("high", 2 * H, 8 * H)
    assert ticket_targets(ticket_type="inquiry", priority="urgent", tier="diamond").priority == (
        "urgent"
    )
    assert ticket_targets(ticket_type="inquiry", priority="normal", tier="gold").priority == (
        "normal"
    )


def test_targets_cost_no_query_once_loaded(django_assert_num_queries: Any) -> None:
    ticket_targets(ticket_type="inquiry", priority="normal")
    with django_assert_num_queries(0):
        for tier in ("", "diamond", "gold", "silver", "ordinary") * 200:
            ticket_targets(ticket_type="complaint", priority="normal", tier=tier)


def test_a_changed_tier_bump_applies_at_once() -> None:
    level = TierLevel.objects.get(rule_set__is_active=True, tier="gold")
    level.priority_bump = 2
    level.save()
    assert ticket_targets(ticket_type="inquiry", priority="low", tier="gold").priority == "high"


def test_the_most_specific_policy_wins_and_ties_go_to_the_lowest_id() -> None:
    both = _policy("投诉高优先级", H, 6 * H, ticket_type="complaint", priority="high")
    type_only = _policy("投诉", 3 * H, 20 * H, ticket_type="complaint")
    # type and priority beat the seeded priority-only P2
    assert ticket_targets(ticket_type="complaint", priority="high").policy_id == both.pk
    # type-only and the seeded priority-only P3 are equally specific: the older (seeded) wins
    seeded_p3 = SlaPolicy.objects.get(priority="normal", ticket_type="")
    assert seeded_p3.pk < type_only.pk
    assert ticket_targets(ticket_type="complaint", priority="normal").policy_id == seeded_p3.pk
    # a tier adds specificity too
    gold_complaints = _policy("金牌投诉", H, 10 * H, ticket_type="complaint", tier="gold")
    assert (
        ticket_targets(ticket_type="complaint", priority="normal", tier="gold").policy_id
        == gold_complaints.pk
    )


def test_policies_carrying_the_tiers_code_come_first() -> None:
    # given a diamond policy (TierLevel.sla_policy = "diamond") for any type and priority
    diamond = _policy("钻石客户", timedelta(minutes=15), 3 * H, code="diamond")
    # then a diamond customer gets it, even over more specific general policies
    targets = ticket_targets(ticket_type="repair", priority="low", tier="diamond")
    assert (targets.policy_id, targets.response, targets.priority) == (
        diamond.pk,
        timedelta(minutes=15),
        "normal",  # the bump still applies
    )
    # and nobody else does: silver has no code, gold's code has no policy
    for tier in ("silver", "gold", ""):
        assert ticket_targets(ticket_type="repair", priority="low", tier=tier).policy_id != (
            diamond.pk
        )


def test_inactive_policies_are_ignored_and_none_left_means_the_built_in_defaults() -> None:
    SlaPolicy.objects.filter(priority="high").update(is_active=False)
    SlaPolicy.objects.first().save()  # type: ignore[union-attr]  # (update() sends no signal)
    targets = ticket_targets(ticket_type="order", priority="high")
    assert targets == Targets(2 * H, 8 * H, True, None, "high", None)


@pytest.mark.parametrize(
    ("level", "days"), [("general", 5), ("serious", 10), ("major", 15), ("", 5)]
)
def test_complaints_carry_their_closing_deadline_by_level(level: str, days: int) -> None:
    targets = ticket_targets(ticket_type="complaint", priority="normal", complaint_level=level)
    assert targets.close_workdays == days


def test_other_types_have_no_closing_deadline_and_edited_deadlines_apply() -> None:
    assert ticket_targets(ticket_type="claim", priority="normal").close_workdays is None
    deadline = ComplaintDeadline.objects.get(level="major")
    deadline.close_workdays = 20
    deadline.save()
    targets = ticket_targets(ticket_type="complaint", priority="high", complaint_level="major")
    assert targets.close_workdays == 20


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ticket_type": "chat", "priority": "normal"},
        {"ticket_type": "inquiry", "priority": "P1"},
        {"ticket_type": "complaint", "priority": "normal", "complaint_level": "huge"},
    ],
)
def test_unknown_codes_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="unknown"):
        ticket_targets(**kwargs)


def test_policy_validation_refuses_zero_and_response_longer_than_resolution() -> None:
    from django.core.exceptions import ValidationError

    bad = SlaPolicy(name="x", response_target=timedelta(0), resolution_target=H)
    with pytest.raises(ValidationError, match="时限必须大于 0"):
        bad.full_clean()
    bad = SlaPolicy(name="x", response_target=5 * H, resolution_target=H)
    with pytest.raises(ValidationError, match="不能长于"):
        bad.full_clean()
