from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.credit.forms import CreditFactorsForm, CreditPolicyForm
from kefu.credit.selectors import (
    can_manage_credit,
    holds_for_user,
    order_get_for_user,
    over_limit_for_user,
    yuan,
)
from kefu.credit.services import (
    credit_customer_update,
    credit_hold_clear,
    credit_policy_update,
    policy_config,
    policy_get,
)
from kefu.customers.access import customer_get_for_user
from kefu.org.models import User

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _error_page(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


def _require_manage(user: User) -> None:
    if not can_manage_credit(user):
        raise Forbidden(_("您没有维护信用资料的权限。"))


@login_required
def credit_overview_view(request: HttpRequest) -> HttpResponse:
    """Finance's page: customers over their limit and orders on hold, within the user's scope."""
    user = _user(request)
    try:
        _require_manage(user)
        over = over_limit_for_user(user=user)
        holds = holds_for_user(user=user)
    except Forbidden as exc:
        return _error_page(request, exc)
    over_page = Paginator(over, PAGE_SIZE).get_page(request.GET.get("page"))
    hold_page = Paginator(holds, PAGE_SIZE).get_page(request.GET.get("holds_page"))
    rows = [
        {
            "customer": customer,
            "limit": yuan(customer.credit_limit),
            "exposure": yuan(customer.credit_exposure),
            "over": yuan(customer.credit_exposure - customer.credit_limit),
        }
        for customer in over_page
    ]
    return render(
        request,
        "credit/credit_overview.html",
        {"over_page": over_page, "rows": rows, "hold_page": hold_page, "nav_section": "credit"},
    )


def _initial(customer: Any) -> dict[str, Any]:
    def plain(value: Any) -> str:
        return "" if value is None else str(value)

    return {
        "registered_capital": plain(customer.registered_capital),
        "annual_turnover": plain(customer.annual_turnover),
        "finance_score": plain(customer.finance_score),
        "legal_record": customer.legal_record,
        "payment_days": customer.payment_days,
        "cooperation_since": customer.cooperation_since.isoformat()
        if customer.cooperation_since
        else "",
        "limit_mode": "manual" if customer.credit_limit_manual else "computed",
        "credit_limit": plain(customer.credit_limit) if customer.credit_limit_manual else "",
    }


@login_required
def credit_customer_edit_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = customer_get_for_user(user=user, customer_id=customer_id)
        _require_manage(user)
    except NotFound:
        raise Http404(_("客户不存在。")) from None
    except Forbidden as exc:
        return _error_page(request, exc)
    form = CreditFactorsForm(request.POST or None, initial=_initial(customer))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            changes: dict[str, Any] = {
                name: data[name]
                for name in (
                    "registered_capital",
                    "annual_turnover",
                    "finance_score",
                    "legal_record",
                    "payment_days",
                    "cooperation_since",
                )
            }
            manual = data["limit_mode"] == "manual"
            if manual or customer.credit_limit_manual:
                changes["credit_limit"] = data["credit_limit"] if manual else None
                if manual and not str(data["credit_limit"]).strip():
                    changes["credit_limit"] = "0"  # manual with no amount: cash only
            try:
                credit_customer_update(
                    actor=user, customer=customer, data=changes, reason=data["reason"]
                )
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已保存信用资料并重新评估。"))
                return redirect("customers:detail", customer_id=customer.pk)
        status = 422
    return render(
        request,
        "credit/credit_customer_form.html",
        {"form": form, "customer": customer, "nav_section": "credit"},
        status=status,
    )


@login_required
@require_POST
def credit_hold_clear_view(request: HttpRequest, order_id: int) -> HttpResponse:
    user = _user(request)
    try:
        order = order_get_for_user(user=user, order_id=order_id)
        if order is None:
            raise Http404(_("订单不存在。"))
        credit_hold_clear(actor=user, order=order, note=request.POST.get("note", "")[:300])
    except ApplicationError as exc:
        if exc.status in (403, 404):
            return _error_page(request, exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("订单 %(no)s 已审核放行。") % {"no": order.order_no})
    return redirect("credit:overview")


@login_required
def credit_policy_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        _require_manage(user)
    except Forbidden as exc:
        return _error_page(request, exc)
    can_edit = user.has_perm("credit.change_creditpolicy")
    config = policy_config()
    form = CreditPolicyForm(request.POST or None if can_edit else None, config=config)
    status = 200
    if request.method == "POST" and can_edit:
        if form.is_valid():
            try:
                credit_policy_update(
                    actor=user, config=form.to_config(), reason=form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已保存信用评分规则，全部客户将在后台重新评估。"))
                return redirect("credit:policy")
        status = 422
    return render(
        request,
        "credit/credit_policy.html",
        {"form": form, "can_edit": can_edit, "policy": policy_get(), "nav_section": "credit"},
        status=status,
    )
