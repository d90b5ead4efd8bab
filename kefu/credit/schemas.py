from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, StrictInt

from kefu.api.pagination import PageQuery
from kefu.api.schemas import Id, InputSchema, Text
from kefu.customers.schemas import DateText

Money = str  # yuan, a decimal string with two places: "1234.56"


class CreditFactorOut(Schema):
    key: Literal["payment", "years", "volume", "finances", "legal"]
    label: str
    points: int
    max: int
    value: str = Field(description="得分依据的数据；中性默认分时为空")
    neutral: bool = Field(description="该项未知，按中性默认分计")


class CreditInputsOut(Schema):
    registered_capital: Money | None
    annual_turnover: Money | None
    finance_score: int | None
    legal_record: Literal["unknown", "clean", "minor", "lawsuit"]
    payment_days: int
    cooperation_since: dt.date | None


class CreditChangeOut(Schema):
    id: int
    customer_id: int
    field: str
    old_value: str
    new_value: str
    text: str
    reason: str
    figures: dict[str, Any]
    actor: str | None
    created_at: dt.datetime


class CreditCustomerOut(Schema):
    id: int
    name: str
    grade: Literal["A", "B", "C", "D"]
    score: int | None
    limit: Money
    limit_manual: bool
    exposure: Money
    over_limit: bool = Field(description="信用占用超过正数额度（现款客户额度为 0，不算超额）")
    alert: str = Field(description="超额提示；未超额时为空")
    note: str
    factors: CreditInputsOut
    breakdown: list[CreditFactorOut]
    changes: list[CreditChangeOut]


class CreditCustomerPatchIn(InputSchema):
    """Fields given are changed; null means unknown (factors) or back to the computed limit
    (credit_limit). Negative amounts are reported per field."""

    registered_capital: Decimal | None = None
    annual_turnover: Decimal | None = None
    finance_score: StrictInt | None = Field(None, description="0-15")
    legal_record: Literal["unknown", "clean", "minor", "lawsuit"] | None = None
    payment_days: StrictInt | None = None
    cooperation_since: DateText | None = None
    credit_limit: Decimal | None = Field(None, description="手工额度（元）；null 恢复按评分计算")
    reason: Text(300) = ""  # type: ignore[valid-type]


class CreditChangeQuery(PageQuery):
    customer_id: Id | None = None


class CreditChangeListOut(Schema):
    items: list[CreditChangeOut]
    count: int


class CreditPolicyOut(Schema):
    config: dict[str, Any]
    updated_at: dt.datetime
    updated_by: str | None


class CreditPolicyPatchIn(InputSchema):
    config: dict[str, Any] = Field(description="要修改的参数节，未给出的保持不变")
    reason: Text(300) = ""  # type: ignore[valid-type]


class CustomerRef(Schema):
    id: int
    name: str


class CreditHoldOut(Schema):
    id: int
    order_no: str
    date: dt.date
    due_date: dt.date | None
    amount: Money
    customer: CustomerRef
    customer_limit: Money
    customer_exposure: Money


class CreditHoldListOut(Schema):
    items: list[CreditHoldOut]
    count: int


class CreditHoldClearIn(InputSchema):
    note: Text(300) = ""  # type: ignore[valid-type]
