"""What credit adds to the 360° archive page: a panel and timeline events (registered in
CreditConfig.ready())."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.credit.models import CreditChange
from kefu.credit.selectors import (
    breakdown,
    can_manage_credit,
    can_view_credit,
    change_text,
    credit_alert,
    credit_note,
    exposure_percent,
    is_over_limit,
    yuan,
)
from kefu.credit.services import credit_assess_customer
from kefu.customers.archive import TimelineEvent
from kefu.customers.models import Customer
from kefu.org.models import User

PANEL_CHANGES = 10


def panel_context(customer: Customer, user: User) -> dict[str, Any]:
    result = credit_assess_customer(customer=customer)
    changes = list(
        CreditChange.objects.filter(customer=customer).select_related("actor")[:PANEL_CHANGES]
    )
    return {
        "credit": {
            "grade": customer.credit_grade,
            "score": customer.credit_score,
            "limit": yuan(customer.credit_limit),
            "limit_manual": customer.credit_limit_manual,
            "exposure": yuan(customer.credit_exposure),
            "percent": exposure_percent(customer),
            "over_limit": is_over_limit(customer),
            "alert": credit_alert(customer),
            "note": credit_note(customer),
            "breakdown": breakdown(result),
            "live_score": result.score,
            "live_grade": result.grade,
            "changes": [{"change": c, "text": change_text(c)} for c in changes],
            "can_manage": can_manage_credit(user),
            "edit_url": reverse("credit:customer_edit", args=[customer.pk]),
        }
    }


def timeline(customer: Customer, user: User, limit: int) -> list[TimelineEvent]:
    if not can_view_credit(user):
        return []
    changes = CreditChange.objects.filter(customer=customer).select_related("actor")[:limit]
    return [
        TimelineEvent(
            at=change.created_at,
            kind="credit",
            title=change_text(change),
            detail=change.reason + (f" · {change.actor}" if change.actor else ""),
            icon=_("信"),
            extra={"field": change.field},
        )
        for change in changes
    ]
