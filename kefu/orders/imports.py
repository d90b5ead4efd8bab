"""Order files (CSV/XLSX): one row per order line; the rows of one order sit together and share
its number, customer and dates. Validated whole, imported whole or not at all
(kefu.core.imports runs the job; kefu.orders.services validates and writes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.core.exceptions import ApplicationError
from kefu.core.imports import (
    Cell,
    Column,
    ImportResult,
    Progress,
    RowError,
    RowsRejected,
    SheetRow,
    cell_text,
    import_job_run,
    mark_importing,
    read_rows,
)
from kefu.core.models import ImportJob
from kefu.orders.services import OrdersInvalid, orders_apply, orders_prepare
from kefu.org.models import User

ORDER_COLUMNS = (
    Column("order_no", gettext_noop("订单号"), required=True, aliases=("单号", "order no")),
    Column(
        "customer_code",
        gettext_noop("客户编码"),
        required=True,
        aliases=("客户代码", "customer code"),
    ),
    Column("date", gettext_noop("下单日期"), required=True, aliases=("订单日期", "日期")),
    Column("due_date", gettext_noop("应付款日"), aliases=("应付日期", "付款期限")),
    Column("paid_date", gettext_noop("付款日"), aliases=("付款日期", "实付日期")),
    Column("product", gettext_noop("产品"), required=True, aliases=("产品名称", "商品")),
    Column("quantity", gettext_noop("数量"), required=True),
    Column("amount", gettext_noop("金额"), required=True, aliases=("金额（元）", "金额(元)")),
    Column("cost", gettext_noop("成本"), aliases=("成本（元）", "成本(元)")),
)
_HEADER_FIELDS = ("customer_code", "date", "due_date", "paid_date")
_LINE_FIELDS = ("product", "quantity", "amount", "cost")


def _columns() -> tuple[Column, ...]:
    """The columns with their labels in the current language (errors name them)."""
    return tuple(
        Column(c.key, _(c.label), c.required, (*c.aliases, c.label)) for c in ORDER_COLUMNS
    )


def _label(key: str) -> str:
    for column in ORDER_COLUMNS:
        if column.key == key:
            return _(column.label)
    return ""


def _value(key: str, cell: Cell) -> Any:
    """What the service reads: text for text, numbers and dates as the spreadsheet gave them."""
    if key in ("quantity", "amount", "cost") and isinstance(cell, int | float | Decimal):
        return None if isinstance(cell, bool) else cell
    if key in ("date", "due_date", "paid_date") and isinstance(cell, dt.date):
        return cell
    return cell_text(cell)


def _same(a: Cell, b: Cell) -> bool:
    return cell_text(a) == cell_text(b)


@dataclass
class _Block:
    order_no: str
    rows: list[SheetRow] = field(default_factory=list)

    def signature(self) -> tuple[Any, ...]:
        head = tuple(cell_text(self.rows[0].values.get(k)) for k in _HEADER_FIELDS)
        lines = sorted(
            tuple(cell_text(row.values.get(k)) for k in _LINE_FIELDS) for row in self.rows
        )
        return (head, tuple(lines))


def _blocks(rows: list[SheetRow], errors: list[RowError]) -> list[_Block]:
    """Group adjacent rows with the same order number. The same number again further down is
    the same order sent twice: identical → dropped, different → every row of it is an error."""
    blocks: list[_Block] = []
    for row in rows:
        number = cell_text(row.values.get("order_no"))
        if blocks and number and blocks[-1].order_no == number:
            blocks[-1].rows.append(row)
        else:
            blocks.append(_Block(order_no=number, rows=[row]))
    kept: list[_Block] = []
    first: dict[str, _Block] = {}
    for block in blocks:
        earlier = first.get(block.order_no) if block.order_no else None
        if earlier is None:
            if block.order_no:
                first[block.order_no] = block
            kept.append(block)
            continue
        if earlier.signature() == block.signature():
            continue  # an identical copy of an order already in the file
        for row in block.rows:
            errors.append(
                RowError(
                    row.number,
                    _label("order_no"),
                    _("订单号“%(no)s”在第 %(first)d 行已出现，且内容不同（同一订单的各行须相邻）。")
                    % {"no": block.order_no, "first": earlier.rows[0].number},
                )
            )
    for block in kept:
        head = block.rows[0]
        for row in block.rows[1:]:
            for key in _HEADER_FIELDS:
                if not _same(row.values.get(key), head.values.get(key)):
                    errors.append(
                        RowError(
                            row.number,
                            _label(key),
                            _("与同一订单（订单号“%(no)s”）第 %(first)d 行的“%(column)s”不一致。")
                            % {"no": block.order_no, "first": head.number, "column": _label(key)},
                        )
                    )
    return kept


def _item(block: _Block) -> dict[str, Any]:
    head = block.rows[0].values
    item: dict[str, Any] = {"order_no": block.order_no}
    for key in _HEADER_FIELDS:
        item[key] = _value(key, head.get(key))
    item["lines"] = [
        {key: _value(key, row.values.get(key)) for key in _LINE_FIELDS} for row in block.rows
    ]
    return item


def import_order_rows(
    *,
    actor: User | None,
    rows: list[SheetRow],
    update_existing: bool,
    filename: str,
    progress: Progress | None = None,
    on_valid: Callable[[], None] | None = None,
) -> ImportResult:
    """Validate every row, then import all in one transaction; RowsRejected lists every bad
    row (row number as in the file, column, reason) and nothing is written."""
    errors: list[RowError] = []
    blocks = _blocks(rows, errors)
    done_rows: list[int] = []
    total = 0
    for block in blocks:
        total += len(block.rows)
        done_rows.append(total)

    def items_done(count: int) -> None:
        if progress is not None and count:
            progress(done_rows[min(count, len(done_rows)) - 1])

    try:
        plan = orders_prepare(
            actor=actor,
            items=[_item(block) for block in blocks],
            update_existing=update_existing,
            strict_dates=False,
            progress=items_done,
        )
    except OrdersInvalid as invalid:
        for error in invalid.errors:
            block = blocks[error.item]
            row = block.rows[error.line] if error.line is not None else block.rows[0]
            errors.append(RowError(row.number, _label(error.field), error.message))
        plan = None
    if errors:
        errors.sort(key=lambda e: (e.row, e.column))
        raise RowsRejected(errors)
    assert plan is not None
    if on_valid is not None:
        on_valid()
    result = orders_apply(actor=actor, plan=plan, channel="file", note=filename[:200])
    return ImportResult(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        ids=result.customer_ids,
    )


def import_order_file(
    *, actor: User | None, stream: IO[bytes], filename: str, update_existing: bool
) -> ImportResult:
    """The command line's way in: read, validate, import (raises ImportFileError or
    RowsRejected)."""
    rows = read_rows(stream, filename, _columns())
    return import_order_rows(
        actor=actor, rows=rows, update_existing=update_existing, filename=filename
    )


def order_import_job_run(job: ImportJob) -> ImportJob:
    """Run an uploaded order file as the user who uploaded it (their permissions and scope)."""
    actor = job.created_by

    def importer(job: ImportJob, rows: list[SheetRow], progress: Progress) -> ImportResult:
        if actor is None:  # the uploader was deleted: nobody's scope to import in
            raise ApplicationError(_("上传该文件的用户已不存在，未导入。"))
        return import_order_rows(
            actor=actor,
            rows=rows,
            update_existing=job.update_existing,
            filename=job.filename,
            progress=progress,
            on_valid=lambda: mark_importing(job),
        )

    return import_job_run(job=job, columns=_columns(), importer=importer)
