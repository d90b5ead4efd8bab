from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import Query, Router

from kefu.api.auth import AuthedRequest
from kefu.api.pagination import paginate
from kefu.api.schemas import ERRORS, ErrorOut, Id
from kefu.core.exceptions import Forbidden, NotFound
from kefu.credit.models import CreditChange
from kefu.credit.schemas import (
    CreditChangeListOut,
    CreditChangeQuery,
    CreditCustomerOut,
    CreditCustomerPatchIn,
    CreditHoldClearIn,
    CreditHoldListOut,
    CreditHoldOut,
    CreditPolicyOut,
    CreditPolicyPatchIn,
)
from kefu.credit.selectors import (
    breakdown,
    can_manage_credit,
    can_view_credit,
    change_text,
    credit_alert,
    credit_changes_for_user,
    credit_note,
    holds_for_user,
    is_over_limit,
    order_get_for_user,
)
from kefu.credit.services import (
    credit_assess_customer,
    credit_customer_update,
    credit_hold_clear,
    credit_policy_update,
    policy_config,
    policy_get,
)
from kefu.customers.access import customer_get_for_user
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.org.models import User

router = Router(tags=["credit"])
LAST_CHANGES = 20


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def change_out(change: CreditChange) -> dict[str, Any]:
    return {
        "id": change.pk,
        "customer_id": change.customer_id,
        "field": change.field,
        "old_value": change.old_value,
        "new_value": change.new_value,
        "text": change_text(change),
        "reason": change.reason,
        "figures": change.figures,
        "actor": str(change.actor) if change.actor else None,
        "created_at": change.created_at,
    }


def customer_credit_out(customer: Customer) -> dict[str, Any]:
    result = credit_assess_customer(customer=customer)
    changes = CreditChange.objects.filter(customer=customer).select_related("actor")
    return {
        "id": customer.pk,
        "name": customer.name,
        "grade": customer.credit_grade,
        "score": customer.credit_score,
        "limit": _money(customer.credit_limit),
        "limit_manual": customer.credit_limit_manual,
        "exposure": _money(customer.credit_exposure),
        "over_limit": is_over_limit(customer),
        "alert": credit_alert(customer),
        "note": credit_note(customer),
        "factors": {
            "registered_capital": _money(customer.registered_capital),
            "annual_turnover": _money(customer.annual_turnover),
            "finance_score": customer.finance_score,
            "legal_record": customer.legal_record,
            "payment_days": customer.payment_days,
            "cooperation_since": customer.cooperation_since,
        },
        "breakdown": breakdown(result),
        "changes": [change_out(change) for change in changes[:LAST_CHANGES]],
    }


def _customer(user: User, customer_id: int) -> Customer:
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    if not can_view_credit(user):
        raise Forbidden(_("您没有查看信用信息的权限。"))
    return customer


@router.get(
    "/customers/{customer_id}", response={200: CreditCustomerOut, **ERRORS}, summary="客户信用"
)
def credit_customer_detail(request: AuthedRequest, customer_id: Id) -> dict[str, Any]:
    return customer_credit_out(_customer(request.auth, customer_id))


@router.patch(
    "/customers/{customer_id}",
    response={200: CreditCustomerOut, **ERRORS},
    summary="修改客户信用资料或手工额度（财务、客服经理）",
)
def credit_customer_patch(
    request: AuthedRequest, customer_id: Id, payload: CreditCustomerPatchIn
) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    if not can_manage_credit(request.auth):
        raise Forbidden(_("您没有维护信用资料的权限。"))
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    updated = credit_customer_update(
        actor=request.auth, customer=customer, data=data, reason=reason
    )
    return customer_credit_out(updated)


@router.get("/changes", response={200: CreditChangeListOut, **ERRORS}, summary="信用变更记录")
def credit_changes(request: AuthedRequest, filters: Query[CreditChangeQuery]) -> dict[str, Any]:
    customer = None
    if filters.customer_id is not None:
        customer = customer_get_for_user(user=request.auth, customer_id=filters.customer_id)
    changes = credit_changes_for_user(user=request.auth, customer=customer)
    items, count = paginate(changes, page=filters.page, page_size=filters.page_size)
    return {"items": [change_out(change) for change in items], "count": count}


def _policy_out() -> dict[str, Any]:
    policy = policy_get()
    return {
        "config": policy_config(),
        "updated_at": policy.updated_at,
        "updated_by": str(policy.updated_by) if policy.updated_by else None,
    }


@router.get("/policy", response={200: CreditPolicyOut, **ERRORS}, summary="信用评分规则")
def credit_policy(request: AuthedRequest) -> dict[str, Any]:
    if not can_view_credit(request.auth):
        raise Forbidden(_("您没有查看信用信息的权限。"))
    return _policy_out()


@router.patch("/policy", response={200: CreditPolicyOut, **ERRORS}, summary="修改信用评分规则")
def credit_policy_patch(request: AuthedRequest, payload: CreditPolicyPatchIn) -> dict[str, Any]:
    credit_policy_update(actor=request.auth, config=payload.config, reason=payload.reason)
    return _policy_out()


def hold_out(order: Order) -> dict[str, Any]:
    customer = order.customer
    return {
        "id": order.pk,
        "order_no": order.order_no,
        "date": order.date,
        "due_date": order.due_date,
        "amount": _money(order.amount),
        "customer": {"id": customer.pk, "name": customer.name},
        "customer_limit": _money(customer.credit_limit),
        "customer_exposure": _money(customer.credit_exposure),
    }


@router.get("/holds", response={200: CreditHoldListOut, **ERRORS}, summary="超额度挂起待审的订单")
def credit_holds(request: AuthedRequest, filters: Query[CreditChangeQuery]) -> dict[str, Any]:
    orders = holds_for_user(user=request.auth)
    if filters.customer_id is not None:
        orders = orders.filter(customer_id=filters.customer_id)
    items, count = paginate(orders, page=filters.page, page_size=filters.page_size)
    return {"items": [hold_out(order) for order in items], "count": count}


@router.post(
    "/holds/{order_id}/clear",
    response={200: CreditHoldOut, 409: ErrorOut, **ERRORS},
    summary="审核放行挂起的订单（财务、客服经理）",
)
def credit_hold_clear_api(
    request: AuthedRequest, order_id: Id, payload: CreditHoldClearIn
) -> dict[str, Any]:
    order = order_get_for_user(user=request.auth, order_id=order_id)
    if order is None:
        raise NotFound(_("订单不存在。"))
    cleared = credit_hold_clear(actor=request.auth, order=order, note=payload.note)
    cleared.customer = order.customer
    return hold_out(cleared)
