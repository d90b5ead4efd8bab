"""Writes of the analytics context: the monthly service costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.analytics.models import ServiceCost
from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.org.models import User

MAX_AMOUNT = Decimal("999999999999.99")


@dataclass(frozen=True)
class CostInput:
    category: str
    amount: Decimal
    note: str = ""


def _check(month: date, items: list[CostInput]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if month.day != 1:
        errors["month"] = [_("月份必须是某月的第一天。")]
    seen: set[str] = set()
    for item in items:
        if item.category not in ServiceCost.Category.values:
            errors.setdefault("__all__", []).append(
                _("未知的成本类别：%(category)s") % {"category": item.category}
            )
            continue
        if item.category in seen:
            errors.setdefault(item.category, []).append(_("同一类别只能填写一次。"))
        seen.add(item.category)
        try:
            amount = Decimal(item.amount)
        except (InvalidOperation, TypeError, ValueError):
            errors.setdefault(item.category, []).append(_("金额必须是数字。"))
            continue
        if not amount.is_finite():
            errors.setdefault(item.category, []).append(_("金额必须是数字。"))
        elif amount < 0:
            errors.setdefault(item.category, []).append(_("金额不能为负数。"))
        elif amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
            errors.setdefault(item.category, []).append(
                _("金额最多两位小数，且不超过 999,999,999,999.99 元。")
            )
        if len(item.note) > 200:
            errors.setdefault(item.category, []).append(_("备注不能超过 200 个字符。"))
    return errors


@transaction.atomic
def service_costs_set(*, actor: User, month: date, items: list[CostInput]) -> list[ServiceCost]:
    """Set one month's costs, one row per category given: every amount is checked first and a
    single bad one refuses them all (nothing is saved). Each change is audit-logged."""
    if not actor.has_perm("analytics.change_servicecost") or not actor.has_perm(
        "analytics.add_servicecost"
    ):
        raise Forbidden(_("您没有录入服务成本的权限。"))
    errors = _check(month, items)
    if errors:
        message = next(iter(errors.values()))[0]
        raise ApplicationError(message, code="invalid_cost", fields=errors)
    existing = {cost.category: cost for cost in ServiceCost.objects.filter(month=month)}
    saved: list[ServiceCost] = []
    for item in items:
        amount = Decimal(item.amount).quantize(Decimal("0.01"))
        cost = existing.get(item.category)
        if cost is None:
            cost = ServiceCost.objects.create(
                month=month,
                category=item.category,
                amount=amount,
                note=item.note,
                updated_by=actor,
            )
            audit_record(
                actor=actor,
                action=AuditEvent.Action.CREATE,
                target=cost,
                changes={"amount": [None, str(amount)]},
            )
        elif cost.amount != amount or cost.note != item.note:
            before = str(cost.amount)
            cost.amount, cost.note, cost.updated_by = amount, item.note, actor
            cost.save(update_fields=["amount", "note", "updated_by", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                target=cost,
                field="amount",
                changes={"amount": [before, str(amount)]},
            )
        saved.append(cost)
    return saved
