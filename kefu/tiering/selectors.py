"""Reading tier rules and tier history, scoped to the user (the customer's scope decides)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.core.exceptions import Forbidden, NotFound
from kefu.customers.access import customer_scope_filter
from kefu.customers.models import Customer
from kefu.org.models import User
from kefu.tiering.models import TierChange, TierLevel, TierRuleSet

MAX_ID = 2**63 - 1


def require_tier_view(user: User) -> None:
    if not user.has_perm("tiering.view_tierruleset"):
        raise Forbidden(_("您没有查看客户分层的权限。"))


def rule_set_list(*, user: User) -> QuerySet[TierRuleSet]:
    require_tier_view(user)
    return TierRuleSet.objects.select_related("updated_by").prefetch_related("levels")


def rule_set_get(*, user: User, rule_set_id: int) -> TierRuleSet:
    require_tier_view(user)
    rule_set = (
        rule_set_list(user=user).filter(pk=rule_set_id).first()
        if 0 < rule_set_id <= MAX_ID
        else None
    )
    if rule_set is None:
        raise NotFound(_("分层规则不存在。"))
    return rule_set


def tier_change_list(*, user: User, customer: Customer | None = None) -> QuerySet[TierChange]:
    """Tier changes of one customer (already checked to be in scope) or of every customer the
    user may see, newest first."""
    require_tier_view(user)
    changes = TierChange.objects.select_related("customer", "actor", "rule_set")
    if customer is not None:
        return changes.filter(customer=customer)
    visible = customer_scope_filter(user)
    if visible is None:
        return changes
    return changes.filter(customer__in=Customer.objects.filter(visible).values("pk"))


def level_for(rule_set: TierRuleSet, tier: str) -> TierLevel | None:
    return next((level for level in rule_set.levels.all() if level.tier == tier), None)
