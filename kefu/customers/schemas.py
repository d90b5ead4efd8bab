from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StrictInt

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


def _valid_email(value: str | None) -> str | None:
    if value and value.strip():
        try:
            validate_email(value.strip())
        except ValidationError:
            raise ValueError(_("“%(value)s”不是有效的邮箱地址。") % {"value": value[:60]}) from None
    return value


Email = Annotated[Text(254) | None, AfterValidator(_valid_email)]  # type: ignore[valid-type]


def _date_text(value: Any) -> Any:
    """A date is "YYYY-MM-DD" text: pydantic would also read 0 as 1970-01-01."""
    if value is not None and not isinstance(value, str | date):
        raise ValueError(_("日期格式应为 YYYY-MM-DD。"))
    return value


DateText = Annotated[date, BeforeValidator(_date_text)]
Mobile = Annotated[Text(32) | None, AfterValidator(_valid_mobile)]  # type: ignore[valid-type]
Stage = Literal["prospect", "active", "dormant", "ended"]
TagName = Text(32, 1)


class TeamRef(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    name: str


class _ArchiveFieldsIn(InputSchema):
    code: Text(32) | None = Field(  # type: ignore[valid-type]
        None, description="客户编码（销售系统的客户键，唯一）；空字符串清除"
    )
    uscc: Text(32) | None = Field(  # type: ignore[valid-type]
        None, description="统一社会信用代码（18 位，GB 32100-2015 校验）"
    )
    id_number: Text(32) | None = Field(  # type: ignore[valid-type]
        None, description="身份证号（仅个人客户，18 位，校验位检查）"
    )
    source: Text(64) | None = None  # type: ignore[valid-type]
    lifecycle_stage: Stage | None = None
    tags: list[TagName] | None = Field(  # type: ignore[valid-type]
        None, max_length=20, description="标签名称列表（最多 20 个）；不存在的标签自动创建"
    )
    owner_id: StrictInt | None = Field(
        None, ge=0, le=2**63 - 1, description="负责销售（“销售”角色的用户 id）；0 清除"
    )
    marketing_consent: StrictBool | None = None
    marketing_consent_channel: Text(32) | None = None  # type: ignore[valid-type]
    marketing_consent_evidence: Text(200) | None = None  # type: ignore[valid-type]
    marketing_opt_out: StrictBool | None = None


class CustomerCreateIn(_ArchiveFieldsIn):
    name: Text(100, 1)  # type: ignore[valid-type]
    kind: Literal["company", "person"] = "company"
    mobile: Mobile = None  # type: ignore[valid-type]
    region: Text(64) = ""  # type: ignore[valid-type]
    industry: Text(64) = ""  # type: ignore[valid-type]
    note: Text(2000) = ""  # type: ignore[valid-type]
    contact_name: Text(64) = ""  # type: ignore[valid-type]
    serving_team_id: Id | None = None
    force: StrictBool = Field(False, description="疑似重复时确认仍然创建")


class CustomerPatchIn(_ArchiveFieldsIn):
    name: Text(100, 1) | None = None  # type: ignore[valid-type]
    kind: Literal["company", "person"] | None = None
    mobile: Mobile = None  # type: ignore[valid-type]
    region: Text(64) | None = None  # type: ignore[valid-type]
    industry: Text(64) | None = None  # type: ignore[valid-type]
    note: Text(2000) | None = None  # type: ignore[valid-type]
    serving_team_id: Id | None = None


class ConsentOut(Schema):
    consent: bool
    consent_at: datetime | None
    channel: str
    evidence: str
    opt_out: bool
    opt_out_at: datetime | None


class CustomerOut(Schema):
    id: int
    name: str
    kind: Literal["company", "person"]
    kind_display: str
    code: str | None = Field(description="客户编码")
    uscc: str
    id_number: str = Field(description="身份证号；无查看权限时为掩码（110101********1234）")
    region: str
    industry: str
    source: str
    lifecycle_stage: Stage
    lifecycle_stage_display: str
    tags: list[str]
    owner: UserRef | None
    note: str
    mobile: str = Field(description="手机号；无查看权限时为掩码（138****1234）")
    mobile_masked: str
    mobile_revealed: bool
    serving_team: TeamRef | None
    tier: Literal["diamond", "gold", "silver", "ordinary"]
    tier_display: str
    credit_grade: Literal["A", "B", "C", "D"]
    credit_limit: Decimal = Field(description="信用额度（元）")
    credit_exposure: Decimal = Field(description="信用占用（元）")
    credit_over_limit: bool = Field(description="占用超过额度（额度为 0 的现款客户不提示）")
    marketing: ConsentOut
    merged_into: int | None = Field(description="已合并到的客户 id；未合并为 null")
    created_at: datetime
    updated_at: datetime


class CustomerListQuery(PageQuery):
    q: Text(100) = Field("", description="按客户名称或手机号（至少 4 位尾号）搜索")  # type: ignore[valid-type]
    kind: Literal["company", "person", ""] = ""
    tier: Literal["diamond", "gold", "silver", "ordinary", ""] = ""
    credit_grade: Literal["A", "B", "C", "D", ""] = ""
    tag: Text(32) = Field("", description="标签名称")  # type: ignore[valid-type]
    owner_id: Id | None = Field(None, description="负责销售的用户 id")
    region: Text(64) = Field("", description="地区（前缀匹配）")  # type: ignore[valid-type]
    lifecycle_stage: Literal["prospect", "active", "dormant", "ended", ""] = ""
    include_merged: bool = Field(False, description="包含已合并的客户")


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


class ContactDetailOut(Schema):
    id: int
    name: str
    title: str
    role: str
    role_display: str
    mobile: str = Field(description="手机号；无查看权限时为掩码")
    mobile_masked: str
    email: str
    is_primary: bool


class ContactCreateIn(InputSchema):
    name: Text(64) = ""  # type: ignore[valid-type]
    title: Text(64) = ""  # type: ignore[valid-type]
    role: Literal["decision", "purchasing", "finance", "technical", "user", "other"] = "other"
    mobile: Mobile = None  # type: ignore[valid-type]
    email: Email = ""  # type: ignore[valid-type]
    is_primary: StrictBool = False


class ContactPatchIn(InputSchema):
    name: Text(64) | None = None  # type: ignore[valid-type]
    title: Text(64) | None = None  # type: ignore[valid-type]
    role: Literal["decision", "purchasing", "finance", "technical", "user", "other"] | None = None
    mobile: Mobile = None  # type: ignore[valid-type]
    email: Email = None  # type: ignore[valid-type]
    is_primary: StrictBool | None = None


class AddressOut(Schema):
    id: int
    kind: str
    kind_display: str
    region: str
    detail: str
    is_default: bool


AddressKind = Literal["office", "shipping", "billing", "site"]


class AddressCreateIn(InputSchema):
    kind: AddressKind = "office"
    region: Text(64) = ""  # type: ignore[valid-type]
    detail: Text(200, 1)  # type: ignore[valid-type]
    is_default: StrictBool = False


class AddressPatchIn(InputSchema):
    kind: AddressKind | None = None
    region: Text(64) | None = None  # type: ignore[valid-type]
    detail: Text(200, 1) | None = None  # type: ignore[valid-type]
    is_default: StrictBool | None = None


class AssetOut(Schema):
    id: int
    product_model: str
    serial_number: str
    purchase_date: date | None
    warranty_end: date | None
    warranty_status: Literal["in", "out", ""] = Field(description="in 保内 / out 保外 / 空 未知")
    address_id: int | None
    note: str


class AssetCreateIn(InputSchema):
    product_model: Text(64, 1)  # type: ignore[valid-type]
    serial_number: Text(64) = ""  # type: ignore[valid-type]
    purchase_date: DateText | None = None
    warranty_end: DateText | None = None
    address_id: Id | None = None
    note: Text(200) = ""  # type: ignore[valid-type]


class AssetPatchIn(InputSchema):
    product_model: Text(64, 1) | None = None  # type: ignore[valid-type]
    serial_number: Text(64) | None = None  # type: ignore[valid-type]
    purchase_date: DateText | None = None
    warranty_end: DateText | None = None
    address_id: StrictInt | None = Field(None, ge=0, le=2**63 - 1, description="0 清除安装地址")
    note: Text(200) | None = None  # type: ignore[valid-type]


class MergeIn(InputSchema):
    duplicate_id: Id
    reason: Text(300, 1)  # type: ignore[valid-type]


class MergeOut(Schema):
    survivor: CustomerOut
    moved: dict[str, int] = Field(description="按模型统计转移的记录数")


# A customer's contacts, addresses and assets are few: answered whole, in the list shape every
# list of the API has ({"items", "count"}), without pages.
class ContactListOut(Schema):
    items: list[ContactDetailOut]
    count: int


class AddressListOut(Schema):
    items: list[AddressOut]
    count: int


class AssetListOut(Schema):
    items: list[AssetOut]
    count: int
