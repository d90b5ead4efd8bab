"""Receiving orders from the sales system: validate a batch whole, then create, update or leave
each order in one transaction (the API, the file import and the command all come here).

Idempotent by order number (unique per source): an order already stored with the same content
(``content_hash``) is left alone ("unchanged"); with different content it is an error unless the
caller asks to update existing orders, which replaces its lines. A batch is all or nothing.

Errors are ``FieldError(item, line, field, message)``: the API shows them as
``items[3].lines[0].quantity``, the file import as a row number and a column.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.core.text import has_control_chars
from kefu.customers.access import customer_scope_filter
from kefu.customers.models import Customer
from kefu.orders.models import Order, OrderLine
from kefu.orders.signals import orders_changed
from kefu.org.models import User

SOURCE = "erp"
MAX_BATCH = 1_000  # orders per API call
MAX_LINES = 500  # lines per order
MAX_ID = 2**63 - 1
EARLIEST = dt.date(1990, 1, 1)
_IN_CHUNK = 900  # ids per IN (…): well under SQLite's variable limit

ORDER_FIELDS = (
    "order_no",
    "customer_id",
    "customer_code",
    "date",
    "due_date",
    "paid_date",
    "lines",
)
LINE_FIELDS = ("product", "quantity", "amount", "cost")

T = TypeVar("T")


def _chunks(values: Sequence[T], size: int = _IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass(frozen=True)
class FieldError:
    item: int  # index of the order in the batch
    line: int | None  # index of the line in the order, None for the order's own fields
    field: str  # "order_no", "date", "quantity", … or "" for the whole item
    message: str

    @property
    def path(self) -> str:
        """items[3].lines[0].quantity: the API's field key."""
        path = f"items[{self.item}]"
        if self.line is not None:
            path += f".lines[{self.line}]"
        return f"{path}.{self.field}" if self.field else path


class OrdersInvalid(ApplicationError):
    """Some orders of the batch are bad: nothing was written."""

    code = "invalid"
    status = 422

    def __init__(self, errors: list[FieldError]) -> None:
        fields: dict[str, list[str]] = {}
        for error in errors:
            fields.setdefault(error.path, []).append(error.message)
        super().__init__(
            _("有 %(count)d 处错误，本批订单均未保存。") % {"count": len(errors)}, fields=fields
        )
        self.errors = errors


@dataclass
class CleanLine:
    product: str
    quantity: Decimal
    amount: Decimal
    cost: Decimal


@dataclass
class CleanOrder:
    item: int
    order_no: str
    customer_id: int
    date: dt.date
    due_date: dt.date | None
    paid_date: dt.date | None
    lines: list[CleanLine]
    amount: Decimal = Decimal("0.00")
    cost: Decimal = Decimal("0.00")
    content_hash: str = ""
    result: str = ""  # "created", "updated", "unchanged"
    existing_id: int | None = None
    existing_customer_id: int | None = None
    duplicate_of: int | None = None  # index of an identical earlier order in the batch


@dataclass
class ItemResult:
    order_no: str
    id: int
    result: str


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    items: list[ItemResult] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)


@dataclass
class Plan:
    orders: list[CleanOrder]
    update_existing: bool


# --- parsing one value -------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOOSE_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_CENT = Decimal("0.01")


class _Bad(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _text(value: Any, *, max_length: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _Bad(_("必须是文本。"))
    if len(value) > max_length:
        raise _Bad(
            _("最多 %(max)d 个字符（当前 %(len)d 个）。") % {"max": max_length, "len": len(value)}
        )
    value = value.strip()
    if has_control_chars(value):
        raise _Bad(_("不能包含控制字符。"))
    if required and not value:
        raise _Bad(_("此项为必填项。"))
    if len(value) > max_length:
        raise _Bad(
            _("最多 %(max)d 个字符（当前 %(len)d 个）。") % {"max": max_length, "len": len(value)}
        )
    return str(value)


def parse_decimal(value: Any, *, digits: int) -> Decimal:
    """A yuan amount or a quantity: a decimal string ("12.50", "1,234.5", "¥3") or a number,
    at most two decimals and ``digits`` digits before the point."""
    if isinstance(value, bool) or value is None:
        raise _Bad(_("必须是数字。"))
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Bad(_("必须是数字。"))
        number = Decimal(repr(value))
        rounded = number.quantize(_CENT) if abs(number) < 10**digits else number
        if abs(number - rounded) < Decimal("0.000001"):  # float noise from Excel formulas
            number = rounded
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        if len(value) > 40:
            raise _Bad(_("内容过长。"))
        text = value.strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
        if not _NUMBER.match(text):
            raise _Bad(_("“%(value)s”不是有效的数字。") % {"value": value[:30]})
        number = Decimal(text)
    else:
        raise _Bad(_("必须是数字。"))
    if not number.is_finite():
        raise _Bad(_("必须是数字。"))
    if abs(number) >= 10**digits:
        raise _Bad(_("数值过大。"))
    try:
        quantized = number.quantize(_CENT)
    except InvalidOperation:
        raise _Bad(_("数值过大。")) from None
    if quantized != number:
        raise _Bad(_("最多保留两位小数。"))
    return quantized


def parse_date(value: Any, *, strict: bool) -> dt.date:
    """YYYY-MM-DD (the API); files also take 2025/1/5, 2025.01.05, 2025年1月5日 and real
    spreadsheet dates."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise _Bad(_("必须是 YYYY-MM-DD 格式的日期。"))
    text = value.strip()
    if strict:
        match = _ISO_DATE.match(text)
        parts = text.split("-") if match else None
    else:
        loose = _LOOSE_DATE.match(text)
        parts = list(loose.groups()) if loose else None
    if not parts:
        raise _Bad(_("“%(value)s”不是有效的日期，应为 YYYY-MM-DD。") % {"value": value[:30]})
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise _Bad(_("日期“%(value)s”不存在。") % {"value": value[:30]}) from None


def _optional_date(value: Any, *, strict: bool) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_date(value, strict=strict)


# --- validation ---------------------------------------------------------------------------------


@dataclass
class _Parsed:
    item: int
    order_no: str = ""
    customer_id: int | None = None
    customer_code: str = ""
    date: dt.date | None = None
    due_date: dt.date | None = None
    paid_date: dt.date | None = None
    lines: list[CleanLine] = field(default_factory=list)
    ok: bool = True


def _parse_item(
    index: int, raw: Any, *, strict: bool, today: dt.date
) -> tuple[_Parsed, list[FieldError]]:
    parsed = _Parsed(item=index)
    errors: list[FieldError] = []

    def bad(field_name: str, message: str, line: int | None = None) -> None:
        errors.append(FieldError(index, line, field_name, message))

    if not isinstance(raw, dict):
        bad("", _("必须是 JSON 对象。"))
        parsed.ok = False
        return parsed, errors
    for key in raw:
        if key not in ORDER_FIELDS:
            bad(str(key)[:40], _("不允许的字段。"))
    try:
        parsed.order_no = _text(raw.get("order_no"), max_length=64, required=True)
    except _Bad as exc:
        bad("order_no", exc.message)
    customer_id = raw.get("customer_id")
    if customer_id is not None:
        if isinstance(customer_id, bool) or not isinstance(customer_id, int):
            bad("customer_id", _("必须是整数。"))
        elif not 0 < customer_id <= MAX_ID:
            bad("customer_id", _("客户不存在或不在您的范围内。"))
        else:
            parsed.customer_id = customer_id
    try:
        parsed.customer_code = _text(raw.get("customer_code"), max_length=32, required=False)
    except _Bad as exc:
        bad("customer_code", exc.message)
    if (
        customer_id is None
        and "customer_code" not in {e.field for e in errors}
        and not parsed.customer_code
    ):
        bad("customer_code", _("请填写客户编码（或 customer_id）。"))
    if "date" not in raw or raw.get("date") in (None, ""):
        bad("date", _("请填写下单日期。"))
    else:
        try:
            parsed.date = parse_date(raw["date"], strict=strict)
        except _Bad as exc:
            bad("date", exc.message)
    for name in ("due_date", "paid_date"):
        try:
            setattr(parsed, name, _optional_date(raw.get(name), strict=strict))
        except _Bad as exc:
            bad(name, exc.message)
    if parsed.date is not None:
        if parsed.date > today:
            bad("date", _("下单日期不能晚于今天。"))
        elif parsed.date < EARLIEST:
            bad("date", _("下单日期过早（应在 1990-01-01 之后）。"))
        if parsed.due_date is not None and parsed.due_date < parsed.date:
            bad("due_date", _("应付款日不能早于下单日期。"))
    if parsed.paid_date is not None:
        if parsed.paid_date > today:
            bad("paid_date", _("付款日不能晚于今天。"))
        elif parsed.paid_date < EARLIEST:
            bad("paid_date", _("付款日过早（应在 1990-01-01 之后）。"))
    lines = raw.get("lines")
    if not isinstance(lines, list):
        bad("lines", _("请至少填写一行订单明细。") if lines is None else _("必须是列表。"))
    elif not lines:
        bad("lines", _("请至少填写一行订单明细。"))
    elif len(lines) > MAX_LINES:
        bad("lines", _("一张订单最多 %(max)d 行明细。") % {"max": MAX_LINES})
    else:
        for number, line in enumerate(lines):
            clean = _parse_line(line, number, bad)
            if clean is not None:
                parsed.lines.append(clean)
    if (
        parsed.lines
        and not errors
        and (sum((line.amount for line in parsed.lines), Decimal(0)) >= 10**12)
    ):
        bad("lines", _("订单金额合计过大。"))
    parsed.ok = not errors
    return parsed, errors


def _parse_line(
    line: Any, number: int, bad: Callable[[str, str, int | None], None]
) -> CleanLine | None:
    if not isinstance(line, dict):
        bad("", _("必须是 JSON 对象。"), number)
        return None
    ok = True
    for key in line:
        if key not in LINE_FIELDS:
            bad(str(key)[:40], _("不允许的字段。"), number)
            ok = False
    values: dict[str, Any] = {}
    try:
        values["product"] = _text(line.get("product"), max_length=100, required=True)
    except _Bad as exc:
        bad("product", exc.message, number)
        ok = False
    for name, digits in (("quantity", 10), ("amount", 12), ("cost", 12)):
        raw = line.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if name == "cost":
                values[name] = Decimal("0.00")
                continue
            bad(name, _("请填写数量。") if name == "quantity" else _("请填写金额。"), number)
            ok = False
            continue
        try:
            value = parse_decimal(raw, digits=digits)
        except _Bad as exc:
            bad(name, exc.message, number)
            ok = False
            continue
        if name == "quantity" and value <= 0:
            bad(name, _("数量必须大于 0。") if value == 0 else _("数量不能为负数。"), number)
            ok = False
        elif name != "quantity" and value < 0:
            bad(name, _("金额不能为负数。") if name == "amount" else _("成本不能为负数。"), number)
            ok = False
        values[name] = value
    if not ok:
        return None
    return CleanLine(**values)


def content_hash(
    *,
    customer_id: int,
    date: dt.date,
    due_date: dt.date | None,
    paid_date: dt.date | None,
    lines: Sequence[CleanLine],
) -> str:
    """sha256 of the order's normalised content: customer, dates, and its lines sorted (the
    sales system may send the same lines in another order), amounts with two decimals."""
    normal = {
        "customer": customer_id,
        "date": date.isoformat(),
        "due_date": due_date.isoformat() if due_date else None,
        "paid_date": paid_date.isoformat() if paid_date else None,
        "lines": sorted(
            [line.product, f"{line.quantity:.2f}", f"{line.amount:.2f}", f"{line.cost:.2f}"]
            for line in lines
        ),
    }
    text = json.dumps(normal, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _scope(actor: User | None) -> Q | None:
    return None if actor is None else customer_scope_filter(actor)


def _resolve_customers(
    actor: User | None, parsed: list[_Parsed]
) -> tuple[dict[int, int], dict[str, int]]:
    """The customers of the batch the actor may see: {id: id} and {code: id}. Anything else
    is "unknown customer" (out of scope is not told apart from absent)."""
    visible = Customer.objects.all()
    scope = _scope(actor)
    if scope is not None:
        visible = visible.filter(scope)
    ids = sorted({p.customer_id for p in parsed if p.customer_id is not None})
    codes = sorted({p.customer_code for p in parsed if p.customer_code})
    by_id: dict[int, int] = {}
    by_code: dict[str, int] = {}
    for chunk in _chunks(ids):
        for pk in visible.filter(pk__in=chunk).values_list("pk", flat=True):
            by_id[pk] = pk
    for code_chunk in _chunks(codes):
        for code, pk in visible.filter(code__in=code_chunk).values_list("code", "pk"):
            if code:
                by_code[code] = pk
    return by_id, by_code


def orders_prepare(
    *,
    actor: User | None,
    items: Sequence[Any],
    update_existing: bool = False,
    strict_dates: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """Validate a batch whole and decide, for each order, created / updated / unchanged.

    Raises OrdersInvalid with every problem found, Forbidden without the permission.
    ``actor=None`` is the command line: every customer, no permission check.
    """
    if actor is not None and not actor.has_perm("orders.add_order"):
        raise Forbidden(_("您没有录入订单的权限。"))
    if actor is not None and update_existing and not actor.has_perm("orders.change_order"):
        raise Forbidden(_("您没有修改已有订单的权限。"))
    today = timezone.localdate()
    errors: list[FieldError] = []
    parsed: list[_Parsed] = []
    for index, raw in enumerate(items):
        one, found = _parse_item(index, raw, strict=strict_dates, today=today)
        parsed.append(one)
        errors.extend(found)
        if progress is not None and index % 500 == 499:
            progress(index + 1)
    by_id, by_code = _resolve_customers(actor, [p for p in parsed if p.ok])
    orders: list[CleanOrder] = []
    first_by_no: dict[str, CleanOrder] = {}
    for one in parsed:
        if not one.ok:
            continue
        customer_id = _customer_for(one, by_id, by_code, errors)
        if customer_id is None or one.date is None:
            continue
        order = CleanOrder(
            item=one.item,
            order_no=one.order_no,
            customer_id=customer_id,
            date=one.date,
            due_date=one.due_date,
            paid_date=one.paid_date,
            lines=one.lines,
            amount=sum((line.amount for line in one.lines), Decimal("0.00")),
            cost=sum((line.cost for line in one.lines), Decimal("0.00")),
        )
        order.content_hash = content_hash(
            customer_id=customer_id,
            date=one.date,
            due_date=one.due_date,
            paid_date=one.paid_date,
            lines=one.lines,
        )
        earlier = first_by_no.get(order.order_no)
        if earlier is not None:
            if earlier.content_hash == order.content_hash:
                order.duplicate_of = earlier.item  # identical duplicates collapse
            else:
                errors.append(
                    FieldError(
                        one.item,
                        None,
                        "order_no",
                        _("订单号“%(no)s”在本批中重复出现且内容不同（另见第 %(first)d 项）。")
                        % {"no": order.order_no, "first": earlier.item + 1},
                    )
                )
                continue
        else:
            first_by_no[order.order_no] = order
        orders.append(order)
    _compare_with_stored(actor, orders, update_existing=update_existing, errors=errors)
    if errors:
        errors.sort(key=lambda e: (e.item, -1 if e.line is None else e.line))
        raise OrdersInvalid(errors)
    if progress is not None:
        progress(len(items))
    return Plan(orders=orders, update_existing=update_existing)


def _customer_for(
    one: _Parsed, by_id: dict[int, int], by_code: dict[str, int], errors: list[FieldError]
) -> int | None:
    from_id = by_id.get(one.customer_id) if one.customer_id is not None else None
    from_code = by_code.get(one.customer_code) if one.customer_code else None
    if one.customer_id is not None and from_id is None:
        errors.append(FieldError(one.item, None, "customer_id", _("客户不存在或不在您的范围内。")))
        return None
    if one.customer_code and from_code is None:
        errors.append(
            FieldError(
                one.item,
                None,
                "customer_code",
                _("客户编码“%(code)s”不存在或不在您的范围内。") % {"code": one.customer_code},
            )
        )
        return None
    if from_id is not None and from_code is not None and from_id != from_code:
        errors.append(
            FieldError(one.item, None, "customer_code", _("客户编码与 customer_id 不是同一客户。"))
        )
        return None
    return from_id if from_id is not None else from_code


def _compare_with_stored(
    actor: User | None, orders: list[CleanOrder], *, update_existing: bool, errors: list[FieldError]
) -> None:
    numbers = sorted({order.order_no for order in orders if order.duplicate_of is None})
    stored: dict[str, tuple[int, str, int]] = {}
    for chunk in _chunks(numbers):
        for pk, number, digest, customer_id in Order.objects.filter(
            source=SOURCE, order_no__in=chunk
        ).values_list("pk", "order_no", "content_hash", "customer_id"):
            stored[number] = (pk, digest, customer_id)
    visible: set[int] = set()
    scope = _scope(actor)
    if stored and scope is not None:
        owners = sorted({customer_id for _pk, _digest, customer_id in stored.values()})
        for owner_chunk in _chunks(owners):
            visible.update(
                Customer.objects.filter(scope, pk__in=owner_chunk).values_list("pk", flat=True)
            )
    for order in orders:
        if order.duplicate_of is not None:
            order.result = "unchanged"
            continue
        found = stored.get(order.order_no)
        if found is None:
            order.result = "created"
            continue
        pk, digest, customer_id = found
        order.existing_id = pk
        order.existing_customer_id = customer_id
        if digest == order.content_hash:
            order.result = "unchanged"
        elif scope is not None and customer_id not in visible:
            errors.append(
                FieldError(
                    order.item,
                    None,
                    "order_no",
                    _("订单号“%(no)s”已被其他客户的订单使用。") % {"no": order.order_no},
                )
            )
        elif update_existing:
            order.result = "updated"
        else:
            errors.append(
                FieldError(
                    order.item,
                    None,
                    "order_no",
                    _("订单号“%(no)s”已存在且内容不同；如需覆盖，请选择“更新已有订单”。")
                    % {"no": order.order_no},
                )
            )


# --- writing ------------------------------------------------------------------------------------


def _lines_for(order_id: int, lines: Sequence[CleanLine]) -> list[OrderLine]:
    return [
        OrderLine(
            order_id=order_id,
            line_no=number,
            product=line.product,
            quantity=line.quantity,
            amount=line.amount,
            cost=line.cost,
        )
        for number, line in enumerate(lines, start=1)
    ]


@transaction.atomic
def orders_apply(*, actor: User | None, plan: Plan, channel: str, note: str = "") -> UpsertResult:
    """Write a validated batch in this one transaction; orders_changed goes out after commit.

    ``channel`` says where the batch came from for the audit log: "api", "file" or "command".
    """
    result = UpsertResult()
    to_create = [o for o in plan.orders if o.result == "created"]
    to_update = [o for o in plan.orders if o.result == "updated"]
    try:
        with transaction.atomic():
            created = Order.objects.bulk_create(
                [
                    Order(
                        source=SOURCE,
                        order_no=o.order_no,
                        customer_id=o.customer_id,
                        date=o.date,
                        due_date=o.due_date,
                        paid_date=o.paid_date,
                        amount=o.amount,
                        cost=o.cost,
                        content_hash=o.content_hash,
                    )
                    for o in to_create
                ],
                batch_size=1000,
            )
    except IntegrityError:
        raise Conflict(
            _("有相同订单号的订单正在被同时写入，请稍后重试。"), code="concurrent_import"
        ) from None
    ids = {o.order_no: row.pk for o, row in zip(to_create, created, strict=True)}
    lines: list[OrderLine] = []
    for o in to_create:
        lines.extend(_lines_for(ids[o.order_no], o.lines))
    if to_update:
        now = timezone.now()
        existing = {
            row.pk: row
            for chunk in _chunks([o.existing_id for o in to_update if o.existing_id])
            for row in Order.objects.select_for_update().filter(pk__in=chunk)
        }
        changed: list[Order] = []
        for o in to_update:
            assert o.existing_id is not None
            row = existing[o.existing_id]
            row.customer_id = o.customer_id
            row.date = o.date
            row.due_date = o.due_date
            row.paid_date = o.paid_date
            row.amount = o.amount
            row.cost = o.cost
            row.content_hash = o.content_hash
            row.updated_at = now
            changed.append(row)
            ids[o.order_no] = row.pk
            lines.extend(_lines_for(row.pk, o.lines))
        for chunk in _chunks([row.pk for row in changed]):
            OrderLine.objects.filter(order_id__in=chunk).delete()
        Order.objects.bulk_update(
            changed,
            [
                "customer_id",
                "date",
                "due_date",
                "paid_date",
                "amount",
                "cost",
                "content_hash",
                "updated_at",
            ],
            batch_size=500,
        )
    OrderLine.objects.bulk_create(lines, batch_size=2000)
    customer_ids: set[int] = set()
    for o in plan.orders:
        if o.result == "unchanged":
            if o.existing_id is not None:
                ids.setdefault(o.order_no, o.existing_id)
        else:
            customer_ids.add(o.customer_id)
            if o.existing_customer_id is not None:
                customer_ids.add(o.existing_customer_id)
    for o in plan.orders:
        result.items.append(ItemResult(order_no=o.order_no, id=ids[o.order_no], result=o.result))
    result.created = len(to_create)
    result.updated = len(to_update)
    result.unchanged = sum(
        1 for o in plan.orders if o.result == "unchanged" and o.duplicate_of is None
    )
    result.customer_ids = sorted(customer_ids)
    if to_create or to_update:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE if not to_create else AuditEvent.Action.CREATE,
            object_type=Order._meta.label_lower,
            object_repr=(
                _("接收订单：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d")
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                }
            ),
            changes={
                "channel": channel,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "updated_order_nos": [o.order_no for o in to_update][:1000],
                "customers": len(customer_ids),
            },
            note=note,
        )
        changed_ids = result.customer_ids
        transaction.on_commit(lambda: orders_changed.send(sender=Order, customer_ids=changed_ids))
    return result


def orders_upsert(
    *,
    actor: User | None,
    items: Sequence[Any],
    update_existing: bool = False,
    channel: str = "api",
    strict_dates: bool = True,
    note: str = "",
) -> UpsertResult:
    """Validate and write one batch (API, command): all or nothing."""
    plan = orders_prepare(
        actor=actor, items=items, update_existing=update_existing, strict_dates=strict_dates
    )
    return orders_apply(actor=actor, plan=plan, channel=channel, note=note)
