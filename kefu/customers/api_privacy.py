"""Data-subject requests (PIPL): a copy of everything held on one customer, and erasure."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field, StrictBool

from kefu.api.auth import AuthedRequest
from kefu.api.schemas import ERRORS, Id, InputSchema, Text
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.customers.access import customer_get_for_user
from kefu.customers.privacy import (
    subject_erase,
    subject_export,
    subject_export_json,
    subject_export_xlsx,
)

router = Router(tags=["privacy"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SubjectExportQuery(Schema):
    format: Literal["json", "xlsx"] = Field("json", description="json 或 xlsx（每类一张工作表）")


class SubjectSectionOut(Schema):
    title: str
    rows: list[dict[str, Any]]


class SubjectExportOut(Schema):
    generated_at: str
    sections: dict[str, SubjectSectionOut]


class SubjectEraseIn(InputSchema):
    reason: Text(300, 1)  # type: ignore[valid-type]
    confirm: StrictBool = Field(description="必须为 true：删除不可撤销")


class SubjectEraseOut(Schema):
    id: int
    name: str
    erased_at: datetime | None


@router.get(
    "/customers/{customer_id}/export",
    response={200: SubjectExportOut, **ERRORS},
    summary="导出某客户的全部个人信息（JSON 或 XLSX，记入审计日志）",
    openapi_extra={
        "responses": {200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}}
    },
)
def privacy_export(
    request: AuthedRequest, customer_id: Id, query: Query[SubjectExportQuery]
) -> Any:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    sections = subject_export(actor=request.auth, customer=customer, fmt=query.format)
    if query.format == "xlsx":
        content = subject_export_xlsx(sections, actor=request.auth)
        response = HttpResponse(content, content_type=XLSX)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        name = f"customer-{customer.pk}-personal-data-{stamp}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return subject_export_json(sections)


@router.post(
    "/customers/{customer_id}/erase",
    response={200: SubjectEraseOut, **ERRORS},
    summary="删除某客户的个人信息（匿名化，保留订单与统计，记入审计日志）",
)
def privacy_erase(
    request: AuthedRequest, customer_id: Id, payload: SubjectEraseIn
) -> dict[str, Any]:
    customer = customer_get_for_user(user=request.auth, customer_id=customer_id)
    if not request.auth.has_perm("customers.erase_personal_data"):
        raise Forbidden(_("您没有处理个人信息删除请求的权限。"))
    if payload.confirm is not True:
        raise ApplicationError(
            _("请确认删除：个人信息删除后无法恢复。"),
            fields={"confirm": [_("必须为 true。")]},
        )
    erased = subject_erase(actor=request.auth, customer=customer, reason=payload.reason)
    return {"id": erased.pk, "name": erased.name, "erased_at": erased.erased_at}
