"""What tiering puts on the customer archive page: a panel (current tier, how it was computed,
the pin form, the tier history) and the tier changes on the timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.customers.archive import TimelineEvent
from kefu.customers.models import Customer
from kefu.org.models import User
from kefu.tiering.forms import PinForm
from kefu.tiering.models import CustomerTierState, TierChange, TierRuleSet
from kefu.tiering.rules import format_value, tier_label
from kefu.tiering.selectors import level_for

HISTORY = 10


def can_view(user: User) -> bool:
    return user.has_perm("tiering.view_tierruleset")


def tier_panel_context(customer: Customer, user: User) -> dict[str, Any]:
    state = CustomerTierState.objects.filter(customer=customer).first()
    rule_set = TierRuleSet.objects.filter(is_active=True).prefetch_related("levels").first()
    history = list(TierChange.objects.filter(customer=customer).select_related("actor")[:HISTORY])
    last_computed = next((c for c in history if c.kind not in ("pin",)), None)
    measure_value = ""
    if state is not None and rule_set is not None and state.evaluated_at is not None:
        measure_value = format_value(rule_set.measure, state.measure_value)
    pin_active = bool(state and state.pinned_tier)
    return {
        "tier_state": state,
        "tier_rule_set": rule_set,
        "tier_level": level_for(rule_set, customer.tier) if rule_set else None,
        "tier_computed_label": tier_label(state.computed_tier) if state else "",
        "tier_measure_value": measure_value,
        "tier_last_reason": last_computed.reason if last_computed else "",
        "tier_history": history,
        "tier_pin_active": pin_active,
        "can_pin": user.has_perm("tiering.change_tierruleset"),
        "pin_form": PinForm(
            initial={
                "tier": customer.tier,
                "expires_on": timezone.localdate() + timedelta(days=90),
            }
        ),
    }


def tier_timeline(customer: Customer, user: User, limit: int) -> list[TimelineEvent]:
    if not can_view(user):
        return []
    return [
        TimelineEvent(
            at=change.created_at,
            kind="tier",
            title=_("客户等级 %(from)s → %(to)s")
            % {"from": tier_label(change.from_tier), "to": tier_label(change.to_tier)},
            detail=change.reason,
            icon=_("级"),
            extra={"kind": change.kind, "figures": change.figures},
        )
        for change in TierChange.objects.filter(customer=customer).order_by("-created_at", "-id")[
            :limit
        ]
    ]
