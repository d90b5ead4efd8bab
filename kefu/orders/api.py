"""Orders API: the sales system pushes orders (one or a list, idempotent by order number);
staff read them through the customers they may see."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.api.auth import AuthedRequest
from kefu.api.pagination import PageQuery, paginate
from kefu.api.schemas import ERRORS, Id
from kefu.core.exceptions import ApplicationError
from kefu.orders.models import Order
from kefu.orders.selectors import order_get_for_user, order_list, payment_status
from kefu.orders.services import MAX_BATCH, MAX_LINES, orders_upsert

router = Router(tags=["orders"])

_MONEY = {
    "anyOf": [{"type": "string", "maxLength": 40}, {"type": "number"}, {"type": "integer"}],
    "description": '元，十进制字符串（如 "1234.50"），最多两位小数；也接受数字',
}
_DATE_OR_NULL = {
    "anyOf": [{"type": "string", "maxLength": 40}, {"type": "null"}],
    "description": "YYYY-MM-DD，可为空",
}
_LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["product", "quantity", "amount"],
    "properties": {
        "product": {"type": "string", "maxLength": 100, "description": "产品"},
        "quantity": {**_MONEY, "description": "数量，大于 0，最多两位小数"},
        "amount": {**_MONEY, "description": "金额（元），不小于 0"},
        "cost": {
            "anyOf": [*_MONEY["anyOf"], {"type": "null"}],
            "description": "成本（元），不小于 0，缺省为 0",
        },
    },
}
_ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["order_no", "date", "lines"],
    "properties": {
        "order_no": {"type": "string", "maxLength": 64, "description": "订单号（每个来源唯一）"},
        "customer_id": {
            "anyOf": [{"type": "integer"}, {"type": "null"}],
            "description": "客户 ID（与 customer_code 二选一）",
        },
        "customer_code": {
            "anyOf": [{"type": "string", "maxLength": 32}, {"type": "null"}],
            "description": "客户编码（销售系统的客户主键）",
        },
        "date": {"type": "string", "maxLength": 40, "description": "下单日期 YYYY-MM-DD"},
        "due_date": {**_DATE_OR_NULL, "description": "应付款日 YYYY-MM-DD"},
        "paid_date": {**_DATE_OR_NULL, "description": "付款日 YYYY-MM-DD，未付为空"},
        "lines": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_LINES,
            "items": _LINE_SCHEMA,
        },
    },
    "example": {
        "order_no": "SO20250101001",
        "customer_code": "C0001",
        "date": "2025-01-01",
        "due_date": "2025-01-31",
        "paid_date": None,
        "lines": [
            {"product": "空调 KFR-35", "quantity": "2", "amount": "6999.00", "cost": "5200.00"}
        ],
    },
}

_POST_DESCRIPTION = f"""
接收销售系统的订单：请求体为**一个订单对象**，或**订单对象的列表**（每次最多 {MAX_BATCH} 个）。

* 按订单号幂等：订单号已存在且内容相同 → `unchanged`（不做任何修改）；内容不同 → 报错，
  除非查询参数 `update_existing=true`，此时覆盖该订单（整体替换订单行）。
* 同一批内订单号重复：内容完全相同的合并为一个；内容不同则报错。
* 全有或全无：任何一个订单有错，整批都不保存，返回 422。
* 客户用 `customer_id` 或 `customer_code` 指定；不存在或不在您可见范围内的客户一律报“客户不存在”。
* 金额以元为单位的十进制字符串，最多两位小数。订单金额、成本为各行之和。

**错误字段的命名约定**：无论请求体是单个对象还是列表，`error.fields` 的键一律以 `items[i]`
开头（单个对象即 `items[0]`），订单行为 `items[i].lines[j]`，例如
`"items[3].lines[0].quantity": ["数量不能为负数。"]`；
整批的问题（如超过 {MAX_BATCH} 个）键为 `__all__`。

成功返回 `{{"created", "updated", "unchanged", "items": [{{"order_no", "id", "result"}}]}}`，
`items` 与请求中的订单一一对应、顺序相同。
"""


class OrderItemOut(Schema):
    order_no: str
    id: int
    result: Literal["created", "updated", "unchanged"]


class OrderPostAnswer(Schema):
    created: int
    updated: int
    unchanged: int
    items: list[OrderItemOut]


class OrderLineOut(Schema):
    line_no: int
    product: str
    quantity: str
    amount: str
    cost: str


class OrderOut(Schema):
    id: int
    source: str
    order_no: str
    customer_id: int
    customer_code: str | None
    customer_name: str
    date: dt.date
    due_date: dt.date | None
    paid_date: dt.date | None
    amount: str = Field(description="金额（元），十进制字符串")
    cost: str = Field(description="成本（元）")
    gross_profit: str = Field(description="毛利（元）")
    payment_status: Literal["paid", "unpaid", "overdue"]
    credit_hold: bool


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]


class OrderListOut(Schema):
    items: list[OrderOut]
    count: int


class OrderListQuery(PageQuery):
    customer_id: Id | None = Field(None, description="只列出该客户的订单")


class OrderPostQuery(Schema):
    update_existing: bool = Field(
        False, description="订单号已存在且内容不同时覆盖（需要修改订单权限）"
    )


def _money(value: Any) -> str:
    return f"{value:.2f}"


def order_out(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "source": order.source,
        "order_no": order.order_no,
        "customer_id": order.customer_id,
        "customer_code": order.customer.code,
        "customer_name": order.customer.name,
        "date": order.date,
        "due_date": order.due_date,
        "paid_date": order.paid_date,
        "amount": _money(order.amount),
        "cost": _money(order.cost),
        "gross_profit": _money(order.gross_profit),
        "payment_status": payment_status(order),
        "credit_hold": order.credit_hold,
    }


def _read_body(request: AuthedRequest) -> list[Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        raise ApplicationError(
            _("请求内容无法解析，请发送有效的 JSON。"), code="malformed", status=400
        ) from None
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        if not body:
            raise ApplicationError(
                _("提交的内容有误，请检查标出的字段。"),
                fields={"__all__": [_("请至少提交一个订单。")]},
            )
        if len(body) > MAX_BATCH:
            raise ApplicationError(
                _("提交的内容有误，请检查标出的字段。"),
                fields={
                    "__all__": [
                        _("每次最多提交 %(max)d 个订单（本次 %(count)d 个）。")
                        % {"max": MAX_BATCH, "count": len(body)}
                    ]
                },
            )
        return body
    raise ApplicationError(
        _("提交的内容有误，请检查标出的字段。"),
        fields={"__all__": [_("必须是订单对象或订单对象的列表。")]},
    )


@router.post(
    "",
    response={200: OrderPostAnswer, **ERRORS},
    summary="接收订单（单个或批量，按订单号幂等）",
    description=_POST_DESCRIPTION,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            _ORDER_SCHEMA,
                            {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": MAX_BATCH,
                                "items": _ORDER_SCHEMA,
                            },
                        ]
                    }
                }
            },
        }
    },
)
def orders_create(request: AuthedRequest, flags: Query[OrderPostQuery]) -> dict[str, Any]:
    items = _read_body(request)
    result = orders_upsert(
        actor=request.auth, items=items, update_existing=flags.update_existing, channel="api"
    )
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "items": [
            {"order_no": item.order_no, "id": item.id, "result": item.result}
            for item in result.items
        ],
    }


@router.get("", response={200: OrderListOut, **ERRORS}, summary="订单列表（可按客户筛选）")
def orders_list(request: AuthedRequest, filters: Query[OrderListQuery]) -> dict[str, Any]:
    orders = order_list(user=request.auth, customer_id=filters.customer_id)
    items, count = paginate(orders, page=filters.page, page_size=filters.page_size)
    return {"items": [order_out(order) for order in items], "count": count}


@router.get("/{order_id}", response={200: OrderDetailOut, **ERRORS}, summary="订单详情（含订单行）")
def orders_detail(request: AuthedRequest, order_id: Id) -> dict[str, Any]:
    order = order_get_for_user(user=request.auth, order_id=order_id)
    answer = order_out(order)
    answer["lines"] = [
        {
            "line_no": line.line_no,
            "product": line.product,
            "quantity": _money(line.quantity),
            "amount": _money(line.amount),
            "cost": _money(line.cost),
        }
        for line in order.lines.all()
    ]
    return answer
