from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, Field

from kefu.api.pagination import PageQuery
from kefu.api.schemas import Id, InputSchema, Text
from kefu.core.phones import InvalidPhone, normalize_mobile


def _valid_mobile(value: str | None) -> str | None:
    """Check the number here too, so a bad mobile is reported with the other bad fields in one
    answer; the service normalises it (the same rule, kefu.core.phones)."""
    if value and value.strip():
        try:
            normalize_mobile(value)
        except InvalidPhone as exc:
            raise ValueError(exc.message) from None
    return value


Mobile = Annotated[Text(32) | None, AfterValidator(_valid_mobile)]  # type: ignore[valid-type]


class TeamRef(Schema):
    id: int
    name: str


class CustomerCreateIn(InputSchema):
    name: Text(100, 1)  # type: ignore[valid-type]
    kind: Literal["company", "person"] = "company"
    mobile: Mobile = None  # type: ignore[valid-type]
    region: Text(64) = ""  # type: ignore[valid-type]
    industry: Text(64) = ""  # type: ignore[valid-type]
    note: Text(2000) = ""  # type: ignore[valid-type]
    contact_name: Text(64) = ""  # type: ignore[valid-type]
    serving_team_id: Id | None = None


class CustomerPatchIn(InputSchema):
    name: Text(100, 1) | None = None  # type: ignore[valid-type]
    kind: Literal["company", "person"] | None = None
    mobile: Mobile = None  # type: ignore[valid-type]
    region: Text(64) | None = None  # type: ignore[valid-type]
    industry: Text(64) | None = None  # type: ignore[valid-type]
    note: Text(2000) | None = None  # type: ignore[valid-type]
    serving_team_id: Id | None = None


class CustomerOut(Schema):
    id: int
    name: str
    kind: Literal["company", "person"]
    kind_display: str
    region: str
    industry: str
    note: str
    mobile: str = Field(description="手机号；无查看权限时为掩码（138****1234）")
    mobile_masked: str
    mobile_revealed: bool
    serving_team: TeamRef | None
    created_at: datetime
    updated_at: datetime


class CustomerListQuery(PageQuery):
    q: Text(100) = Field("", description="按客户名称或手机号（至少 4 位尾号）搜索")  # type: ignore[valid-type]
    kind: Literal["company", "person", ""] = ""


class CustomerListOut(Schema):
    items: list[CustomerOut]
    count: int


class ContactOut(Schema):
    id: int
    name: str
    title: str
    mobile: str
    email: str
    is_primary: bool


class CustomerRevealOut(Schema):
    id: int
    contacts: list[ContactOut]
