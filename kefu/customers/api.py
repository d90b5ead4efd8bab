from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kefu.api.auth import AuthedRequest
from kefu.api.errors import error_body
from kefu.api.pagination import paginate
from kefu.api.schemas import ERRORS, ErrorOut, Id
from kefu.core.phones import national_mobile
from kefu.customers.access import (
    address_get_for_user,
    asset_get_for_user,
    can_reveal,
    contact_get_for_user,
    customer_get_for_user,
)
from kefu.customers.identifiers import mask_id_number
from kefu.customers.models import Address, Asset, Contact, Customer
from kefu.customers.schemas import (
    AddressCreateIn,
    AddressListOut,
    AddressOut,
    AddressPatchIn,
    AssetCreateIn,
    AssetListOut,
    AssetOut,
    AssetPatchIn,
    ContactCreateIn,
    ContactDetailOut,
    ContactListOut,
    ContactPatchIn,
    CustomerCreateIn,
    CustomerListOut,
    CustomerListQuery,
    CustomerOut,
    CustomerPatchIn,
    CustomerRevealOut,
    MergeIn,
    MergeOut,
)
from kefu.customers.selectors import (
    CustomerFilters,
    address_list,
    asset_list,
    contact_list,
    customer_list,
)
from kefu.customers.services import (
    AddressInput,
    AssetInput,
    ContactInput,
    CustomerInput,
    DuplicateCustomer,
    address_create,
    address_delete,
    address_update,
    asset_create,
    asset_delete,
    asset_update,
    contact_create,
    contact_delete,
    contact_update,
    customer_create,
    customer_merge,
    customer_reveal,
    customer_update,
    customers_reveal_many,
    warranty_status,
)

router = Router(tags=["customers"])
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}


def credit_over_limit(customer: Customer) -> bool:
    """Exposure past a positive limit; a cash-only customer (limit 0) is never flagged."""
    return customer.credit_limit > 0 and customer.credit_exposure > customer.credit_limit


def customer_out(customer: Customer, *, reveal: bool) -> dict[str, Any]:
    shown = reveal and bool(customer.mobile)
    team = customer.serving_team
    owner = customer.owner
    return {
        "id": customer.pk,
        "name": customer.name,
        "kind": customer.kind,
        "kind_display": str(customer.get_kind_display()),
        "code": customer.code,
        "uscc": customer.uscc,
        "id_number": customer.id_number if reveal else mask_id_number(customer.id_number),
        "region": customer.region,
        "industry": customer.industry,
        "source": customer.source,
        "lifecycle_stage": customer.lifecycle_stage,
        "lifecycle_stage_display": str(customer.get_lifecycle_stage_display()),
        "tags": [tag.name for tag in customer.tags.all()],
        "owner": {"id": owner.pk, "name": owner.display_name or owner.username} if owner else None,
        "note": customer.note,
        "mobile": national_mobile(customer.mobile) if shown else customer.mobile_masked,
        "mobile_masked": customer.mobile_masked,
        "mobile_revealed": shown,
        "serving_team": {"id": team.pk, "name": team.name} if team else None,
        "tier": customer.tier,
        "tier_display": str(customer.get_tier_display()),
        "credit_grade": customer.credit_grade,
        "credit_limit": customer.credit_limit,
        "credit_exposure": customer.credit_exposure,
        "credit_over_limit": credit_over_limit(customer),
        "marketing": {
            "consent": customer.marketing_consent,
            "consent_at": customer.marketing_consent_at,
            "channel": customer.marketing_consent_channel,
            "evidence": customer.marketing_consent_evidence,
            "opt_out": customer.marketing_opt_out,
            "opt_out_at": customer.marketing_opt_out_at,
        },
        "merged_into": customer.merged_into_id,
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
    customers = customer_list(
        user=request.auth,
        filters=CustomerFilters(
            q=filters.q,
            kind=filters.kind,
            tier=filters.tier,
            credit_grade=filters.credit_grade,
            tag=filters.tag,
            owner_id=filters.owner_id,
            region=filters.region,
            lifecycle_stage=filters.lifecycle_stage,
            include_merged=filters.include_merged,
        ),
    )
    items, count = paginate(customers, page=filters.page, page_size=filters.page_size)
    reveal = can_reveal(request.auth)
    if reveal:
        customers_reveal_many(actor=request.auth, customers=items)
    return {"items": [customer_out(c, reveal=reveal) for c in items], "count": count}


@router.post(
    "",
    response={201: CustomerOut, **WRITE_ERRORS},
    summary="新建客户（疑似重复时返回 409 duplicate，确认后带 force=true 重试）",
    description=(
        "同手机号（客户或任一联系人）、同统一社会信用代码、或同名称且同地区视为疑似重复：返回 409，"
        "`code` 为 `duplicate`，`fields` 中每个调用者有权查看的候选客户一项，键为 "
        "`duplicates.<客户id>`，内容为名称、掩码手机号与重复原因；范围外的重复只在 message 中提示。"
    ),
)
def customers_create(request: AuthedRequest, payload: CustomerCreateIn) -> Status[dict[str, Any]]:
    data = CustomerInput(**payload.dict(exclude_unset=True))
    try:
        customer = customer_create(actor=request.auth, data=data)
    except DuplicateCustomer as exc:
        # the one error shape: each candidate the caller may see is a "duplicates.<id>" entry
        fields = {
            f"duplicates.{c['id']}": [
                _("%(name)s（%(mobile)s）：%(reasons)s")
                % {
                    "name": c["name"],
                    "mobile": c["mobile_masked"] or _("无手机号"),
                    "reasons": "、".join(c["reasons"]),
                }
            ]
            for c in exc.extra["candidates"]
        }
        return Status(409, error_body(exc.code, exc.message, fields))
    return Status(201, _out_one(request, customer))


@router.get("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="客户详情")
def customers_detail(request: AuthedRequest, customer_id: Id) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    return _out_one(request, customer)


@router.patch("/{customer_id}", response={200: CustomerOut, **WRITE_ERRORS}, summary="修改客户")
def customers_update(
    request: AuthedRequest, customer_id: Id, payload: CustomerPatchIn
) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id, write=True)
    given = payload.dict(exclude_unset=True)
    if "owner_id" in given and given["owner_id"] is None:
        given["owner_id"] = 0  # an explicit null clears the owner
    given = {key: value for key, value in given.items() if value is not None}
    updated = customer_update(actor=request.auth, customer=customer, data=CustomerInput(**given))
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


@router.post(
    "/{customer_id}/merge",
    response={200: MergeOut, **WRITE_ERRORS},
    summary="合并重复客户：把 duplicate 的全部关联记录转到本客户",
)
def customers_merge(request: AuthedRequest, customer_id: Id, payload: MergeIn) -> dict[str, Any]:
    survivor = customer_get_for_user(user=request.auth, customer_id=customer_id)
    duplicate = customer_get_for_user(user=request.auth, customer_id=payload.duplicate_id)
    moved = customer_merge(
        actor=request.auth, survivor=survivor, duplicate=duplicate, reason=payload.reason
    )
    survivor = customer_get_for_user(user=request.auth, customer_id=customer_id)
    return {"survivor": customer_out(survivor, reveal=False), "moved": moved}


# --- contacts ----------------------------------------------------------------------------


def contact_out(contact: Contact, *, reveal: bool) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "name": contact.name,
        "title": contact.title,
        "role": contact.role,
        "role_display": str(contact.get_role_display()),
        "mobile": national_mobile(contact.mobile) if reveal else contact.mobile_masked,
        "mobile_masked": contact.mobile_masked,
        "email": contact.email,
        "is_primary": contact.is_primary,
    }


@router.get(
    "/{customer_id}/contacts",
    response={200: ContactListOut, **ERRORS},
    summary="客户的联系人（可查看完整号码的角色看到明文，记入审计日志）",
)
def contacts_list(request: AuthedRequest, customer_id: Id) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    reveal = can_reveal(request.auth)
    if reveal and customer.contacts.exists():
        contacts = customer_reveal(actor=request.auth, customer=customer)
    else:
        contacts = list(contact_list(customer=customer))
    items = [contact_out(contact, reveal=reveal) for contact in contacts]
    return {"items": items, "count": len(items)}


@router.post(
    "/{customer_id}/contacts",
    response={201: ContactDetailOut, **WRITE_ERRORS},
    summary="新增联系人",
)
def contacts_create(
    request: AuthedRequest, customer_id: Id, payload: ContactCreateIn
) -> Status[dict[str, Any]]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id, write=True)
    contact = contact_create(
        actor=request.auth, customer=customer, data=ContactInput(**payload.dict())
    )
    return Status(201, contact_out(contact, reveal=False))


@router.patch(
    "/{customer_id}/contacts/{contact_id}",
    response={200: ContactDetailOut, **WRITE_ERRORS},
    summary="修改联系人",
)
def contacts_update(
    request: AuthedRequest, customer_id: Id, contact_id: Id, payload: ContactPatchIn
) -> dict[str, Any]:
    contact = contact_get_for_user(
        user=request.auth, customer_id=customer_id, contact_id=contact_id, write=True
    )
    given = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    updated = contact_update(actor=request.auth, contact=contact, data=ContactInput(**given))
    return contact_out(updated, reveal=False)


@router.delete(
    "/{customer_id}/contacts/{contact_id}",
    response={204: None, **WRITE_ERRORS},
    summary="删除联系人",
)
def contacts_delete(request: AuthedRequest, customer_id: Id, contact_id: Id) -> Status[None]:
    contact = contact_get_for_user(
        user=request.auth, customer_id=customer_id, contact_id=contact_id, write=True
    )
    contact_delete(actor=request.auth, contact=contact)
    return Status(204, None)


# --- addresses ---------------------------------------------------------------------------


def address_out(address: Address) -> dict[str, Any]:
    return {
        "id": address.pk,
        "kind": address.kind,
        "kind_display": str(address.get_kind_display()),
        "region": address.region,
        "detail": address.detail,
        "is_default": address.is_default,
    }


@router.get(
    "/{customer_id}/addresses", response={200: AddressListOut, **ERRORS}, summary="客户地址"
)
def addresses_list(request: AuthedRequest, customer_id: Id) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    items = [address_out(address) for address in address_list(customer=customer)]
    return {"items": items, "count": len(items)}


@router.post(
    "/{customer_id}/addresses",
    response={201: AddressOut, **WRITE_ERRORS},
    summary="新增地址",
)
def addresses_create(
    request: AuthedRequest, customer_id: Id, payload: AddressCreateIn
) -> Status[dict[str, Any]]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id, write=True)
    address = address_create(
        actor=request.auth, customer=customer, data=AddressInput(**payload.dict())
    )
    return Status(201, address_out(address))


@router.patch(
    "/{customer_id}/addresses/{address_id}",
    response={200: AddressOut, **WRITE_ERRORS},
    summary="修改地址",
)
def addresses_update(
    request: AuthedRequest, customer_id: Id, address_id: Id, payload: AddressPatchIn
) -> dict[str, Any]:
    address = address_get_for_user(
        user=request.auth, customer_id=customer_id, address_id=address_id, write=True
    )
    given = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    updated = address_update(actor=request.auth, address=address, data=AddressInput(**given))
    return address_out(updated)


@router.delete(
    "/{customer_id}/addresses/{address_id}",
    response={204: None, **WRITE_ERRORS},
    summary="删除地址",
)
def addresses_delete(request: AuthedRequest, customer_id: Id, address_id: Id) -> Status[None]:
    address = address_get_for_user(
        user=request.auth, customer_id=customer_id, address_id=address_id, write=True
    )
    address_delete(actor=request.auth, address=address)
    return Status(204, None)


# --- assets ------------------------------------------------------------------------------


def asset_out(asset: Asset) -> dict[str, Any]:
    return {
        "id": asset.pk,
        "product_model": asset.product_model,
        "serial_number": asset.serial_number,
        "purchase_date": asset.purchase_date,
        "warranty_end": asset.warranty_end,
        "warranty_status": warranty_status(asset),
        "address_id": asset.address_id,
        "note": asset.note,
    }


@router.get("/{customer_id}/assets", response={200: AssetListOut, **ERRORS}, summary="客户设备档案")
def assets_list(request: AuthedRequest, customer_id: Id) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    items = [asset_out(asset) for asset in asset_list(customer=customer)]
    return {"items": items, "count": len(items)}


@router.post("/{customer_id}/assets", response={201: AssetOut, **WRITE_ERRORS}, summary="新增设备")
def assets_create(
    request: AuthedRequest, customer_id: Id, payload: AssetCreateIn
) -> Status[dict[str, Any]]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id, write=True)
    asset = asset_create(actor=request.auth, customer=customer, data=AssetInput(**payload.dict()))
    return Status(201, asset_out(asset))


@router.patch(
    "/{customer_id}/assets/{asset_id}",
    response={200: AssetOut, **WRITE_ERRORS},
    summary="修改设备",
)
def assets_update(
    request: AuthedRequest, customer_id: Id, asset_id: Id, payload: AssetPatchIn
) -> dict[str, Any]:
    asset = asset_get_for_user(
        user=request.auth, customer_id=customer_id, asset_id=asset_id, write=True
    )
    given = payload.dict(exclude_unset=True)
    clear = [name for name in ("purchase_date", "warranty_end") if given.get(name, 1) is None]
    if "address_id" in given and given["address_id"] is None:
        given["address_id"] = 0
    given = {k: v for k, v in given.items() if v is not None}
    updated = asset_update(actor=request.auth, asset=asset, data=AssetInput(**given, clear=clear))
    return asset_out(updated)


@router.delete(
    "/{customer_id}/assets/{asset_id}",
    response={204: None, **WRITE_ERRORS},
    summary="删除设备",
)
def assets_delete(request: AuthedRequest, customer_id: Id, asset_id: Id) -> Status[None]:
    asset = asset_get_for_user(
        user=request.auth, customer_id=customer_id, asset_id=asset_id, write=True
    )
    asset_delete(actor=request.auth, asset=asset)
    return Status(204, None)
