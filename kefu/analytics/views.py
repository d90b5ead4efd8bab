from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.analytics.forms import ServiceCostForm, parse_month
from kefu.analytics.models import ServiceCost
from kefu.analytics.services import service_costs_set
from kefu.core.exceptions import ApplicationError
from kefu.org.models import User

HISTORY_MONTHS = 24


def can_view_costs(user: User) -> bool:
    return user.has_perm("analytics.view_servicecost")


def can_edit_costs(user: User) -> bool:
    return user.has_perm("analytics.add_servicecost") and user.has_perm(
        "analytics.change_servicecost"
    )


def _refused(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    return render(request, "web/error.html", {"message": message}, status=status)


@login_required
def costs_view(request: HttpRequest) -> HttpResponse:
    """A month's service costs (GET ?month=YYYY-MM, default this month), one form for every
    category, and the totals of the last 24 months that have costs."""
    user = cast(User, request.user)
    if not can_view_costs(user):
        return _refused(request, _("您没有查看服务成本的权限。"))
    can_edit = can_edit_costs(user)
    if request.method == "POST":
        if not can_edit:
            return _refused(request, _("您没有录入服务成本的权限。"))
        form = ServiceCostForm(request.POST)
        if form.is_valid():
            month: date = form.cleaned_data["month"]
            try:
                service_costs_set(actor=user, month=month, items=form.items())
            except ApplicationError as exc:
                for name, errors in (exc.fields or {"__all__": [exc.message]}).items():
                    field = f"amount_{name}" if f"amount_{name}" in form.fields else None
                    for error in errors:
                        form.add_error(field, error)
            else:
                messages.success(
                    request, _("已保存 %(month)s 的服务成本。") % {"month": f"{month:%Y年%m月}"}
                )
                return redirect(f"{request.path}?month={month:%Y-%m}")
        return _page(request, form, can_edit, status=422)
    month = parse_month(request.GET.get("month", "")) or timezone.localdate().replace(day=1)
    form = ServiceCostForm(initial=ServiceCostForm.initial_for(month))
    if not can_edit:
        for each in form.fields.values():
            each.disabled = True
    return _page(request, form, can_edit)


def _page(
    request: HttpRequest, form: ServiceCostForm, can_edit: bool, status: int = 200
) -> HttpResponse:
    history = list(
        ServiceCost.objects.order_by()
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by("-month")[:HISTORY_MONTHS]
    )
    grand = sum((row["total"] for row in history), Decimal(0))
    return render(
        request,
        "analytics/servicecost_form.html",
        {"form": form, "can_edit": can_edit, "history": history, "grand_total": grand},
        status=status,
    )
