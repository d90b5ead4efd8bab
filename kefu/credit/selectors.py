"""Reads for credit: scoped lists and the summary the API, the archive panel and pages show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.exceptions import Forbidden
from kefu.credit.models import CreditChange
from kefu.credit.scorecard import CreditAssessment
from kefu.customers.access import customers_for_user
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.org.models import User

VIEW_PERM = "credit.view_creditchange"

FACTOR_LABELS = {
    "payment": gettext_lazy("付款记录"),
    "years": gettext_lazy("合作年限"),
    "volume": gettext_lazy("近12个月交易额"),
    "finances": gettext_lazy("财务状况"),
    "legal": gettext_lazy("法律记录"),
}
FIELD_LABELS = {
    "grade": gettext_lazy("信用等级"),
    "limit": gettext_lazy("信用额度"),
    "factors": gettext_lazy("信用资料"),
    "hold": gettext_lazy("订单挂起"),
}


def yuan(value: Decimal | None) -> str:
    """¥1,234.56"""
    if value is None:
        return "—"
    return f"¥{Decimal(value):,.2f}"


def can_view_credit(user: User | AnonymousUser) -> bool:
    return user.has_perm(VIEW_PERM) and user.has_perm("customers.view_customer")


def can_manage_credit(user: User | AnonymousUser) -> bool:
    return user.has_perm("customers.manage_credit")


def _require_view(user: User | AnonymousUser) -> None:
    if not can_view_credit(user):
        raise Forbidden(_("您没有查看信用信息的权限。"))


def is_over_limit(customer: Customer) -> bool:
    """Exposure past a positive limit. A cash-only customer (limit 0) is never over it."""
    return customer.credit_limit > 0 and customer.credit_exposure > customer.credit_limit


def credit_alert(customer: Customer) -> str:
    if is_over_limit(customer):
        return _(
            "信用占用 %(exposure)s 已超过信用额度 %(limit)s（超出 %(over)s），"
            "新收到的订单挂起待审。"
        ) % {
            "exposure": yuan(customer.credit_exposure),
            "limit": yuan(customer.credit_limit),
            "over": yuan(customer.credit_exposure - customer.credit_limit),
        }
    return ""


def credit_note(customer: Customer) -> str:
    """A plain remark (not an alert): cash-only customers."""
    if customer.credit_limit <= 0:
        return _("现款客户：信用额度为 0，不提供赊销，订单不因额度挂起。")
    return ""


def exposure_percent(customer: Customer) -> int:
    if customer.credit_limit <= 0:
        return 0
    share = customer.credit_exposure / customer.credit_limit * 100
    return int(min(Decimal(100), max(Decimal(0), share)))


def breakdown(result: CreditAssessment) -> list[dict[str, Any]]:
    return [
        {**factor.as_dict(), "label": str(FACTOR_LABELS[factor.key])} for factor in result.factors
    ]


def change_text(change: CreditChange) -> str:
    if change.field == "hold":
        if change.new_value:
            return _("订单 %(no)s 超额度挂起待审") % {"no": change.new_value}
        return _("订单 %(no)s 审核放行") % {"no": change.old_value}
    if change.field == "factors":
        return _("更新信用资料：%(fields)s") % {"fields": change.new_value}
    label = FIELD_LABELS.get(change.field, change.field)
    old = change.old_value or _("（无）")
    return _("%(label)s：%(old)s → %(new)s") % {"label": label, "old": old, "new": change.new_value}


def credit_changes_for_user(
    *, user: User | AnonymousUser, customer: Customer | None = None
) -> QuerySet[CreditChange]:
    _require_view(user)
    changes = CreditChange.objects.select_related("actor", "customer")
    if customer is not None:
        return changes.filter(customer=customer)
    return changes.filter(customer__in=customers_for_user(user))


def holds_for_user(*, user: User | AnonymousUser) -> QuerySet[Order]:
    _require_view(user)
    return (
        Order.objects.filter(credit_hold=True, customer__in=customers_for_user(user))
        .select_related("customer")
        .order_by("-date", "-id")
    )


def over_limit_for_user(*, user: User | AnonymousUser) -> QuerySet[Customer]:
    _require_view(user)
    return (
        customers_for_user(user)
        .filter(credit_limit__gt=0, credit_exposure__gt=F("credit_limit"))
        .order_by("-credit_exposure", "id")
    )


def order_get_for_user(*, user: User | AnonymousUser, order_id: int) -> Order | None:
    if not 0 < order_id <= 2**63 - 1:
        return None
    return (
        Order.objects.filter(pk=order_id, customer__in=customers_for_user(user))
        .select_related("customer")
        .first()
    )
