from __future__ import annotations

from typing import Any

from ninja import Query, Router, Status

from kefu.api.auth import AuthedRequest
from kefu.api.pagination import paginate
from kefu.api.schemas import ERRORS, Id
from kefu.core.phones import national_mobile
from kefu.customers.access import can_reveal, customer_get_for_user
from kefu.customers.models import Customer
from kefu.customers.schemas import (
    CustomerCreateIn,
    CustomerListOut,
    CustomerListQuery,
    CustomerOut,
    CustomerPatchIn,
    CustomerRevealOut,
)
from kefu.customers.selectors import customer_list
from kefu.customers.services import (
    CustomerInput,
    customer_create,
    customer_reveal,
    customer_update,
    customers_reveal_many,
)

router = Router(tags=["customers"])


def customer_out(customer: Customer, *, reveal: bool) -> dict[str, Any]:
    shown = reveal and bool(customer.mobile)
    team = customer.serving_team
    return {
        "id": customer.pk,
        "name": customer.name,
        "kind": customer.kind,
        "kind_display": str(customer.get_kind_display()),
        "region": customer.region,
        "industry": customer.industry,
        "note": customer.note,
        "mobile": national_mobile(customer.mobile) if shown else customer.mobile_masked,
        "mobile_masked": customer.mobile_masked,
        "mobile_revealed": shown,
        "serving_team": {"id": team.pk, "name": team.name} if team else None,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def _out_one(request: AuthedRequest, customer: Customer) -> dict[str, Any]:
    """Roles that may reveal get full numbers in API answers, and each reveal is audited."""
    reveal = can_reveal(request.auth)
    if reveal:
        customers_reveal_many(actor=request.auth, customers=[customer])
    return customer_out(customer, reveal=reveal)


@router.get("", response={200: CustomerListOut, **ERRORS}, summary="客户列表与搜索")
def customers_list(request: AuthedRequest, filters: Query[CustomerListQuery]) -> dict[str, Any]:
    customers = customer_list(user=request.auth, q=filters.q, kind=filters.kind)
    items, count = paginate(customers, page=filters.page, page_size=filters.page_size)
    reveal = can_reveal(request.auth)
    if reveal:
        customers_reveal_many(actor=request.auth, customers=items)
    return {"items": [customer_out(c, reveal=reveal) for c in items], "count": count}


@router.post("", response={201: CustomerOut, **ERRORS}, summary="新建客户")
def customers_create(request: AuthedRequest, payload: CustomerCreateIn) -> Status[dict[str, Any]]:
    customer = customer_create(actor=request.auth, data=CustomerInput(**payload.dict()))
    return Status(201, _out_one(request, customer))


@router.get("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="客户详情")
def customers_detail(request: AuthedRequest, customer_id: Id) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    return _out_one(request, customer)


@router.patch("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="修改客户")
def customers_update(
    request: AuthedRequest, customer_id: Id, payload: CustomerPatchIn
) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id, write=True)
    data = CustomerInput(**payload.dict(exclude_unset=True))
    updated = customer_update(actor=request.auth, customer=customer, data=data)
    return _out_one(request, updated)


@router.post(
    "/{customer_id}/reveal",
    response={200: CustomerRevealOut, **ERRORS},
    summary="查看客户完整联系方式（记入审计日志）",
)
def customers_reveal(request: AuthedRequest, customer_id: Id) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    contacts = customer_reveal(actor=request.auth, customer=customer)
    return {
        "id": customer.pk,
        "contacts": [
            {
                "id": contact.pk,
                "name": contact.name,
                "title": contact.title,
                "mobile": national_mobile(contact.mobile),
                "email": contact.email,
                "is_primary": contact.is_primary,
            }
            for contact in contacts
        ],
    }
