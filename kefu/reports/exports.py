"""The archived report's content for people: formatted cells (the page and the PDF), the XLSX
workbook (one sheet per section, real numbers with number formats) and the PDF (WeasyPrint)."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from kefu.reports.models import MonthlyReport
from kefu.reports.movements_section import STATUSES

NUMBER_FORMATS = {
    "int": "#,##0",
    "money": '"¥"#,##0.00',
    "percent": "0.0%",
    "decimal": "#,##0.0##",
    "date": "yyyy-mm-dd",
}


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def display(value: Any, kind: str) -> str:
    """One value as people read it: ¥1,234.56, 50.0%, 1,234, 2026-10-31; "—" when empty."""
    if value is None or value == "":
        return "—"
    number = _decimal(value) if kind in ("int", "money", "percent", "decimal") else None
    if kind == "money" and number is not None:
        sign = "-" if number < 0 else ""
        return f"{sign}¥{abs(number):,.2f}"
    if kind == "percent" and number is not None:
        return f"{number:.1f}%"
    if kind == "int" and number is not None:
        return f"{int(number):,}"
    if kind == "decimal" and number is not None:
        # at most two decimals and no trailing zeros: 90, 72.1, 462.68 side by side
        return f"{number.quantize(Decimal('0.01')).normalize():,f}"
    return str(value)


def month_label(month: str) -> str:
    """'2026-10' → '2026年10月'."""
    year, number = month.split("-")
    return _("%(year)s年%(month)s月") % {"year": year, "month": number}


# --- what the page and the PDF show ------------------------------------------------------


@dataclass
class ShownTable:
    key: str
    title: str
    headers: list[tuple[str, str]]  # (label, kind)
    rows: list[list[tuple[str, str]]]  # (text, kind)
    total: int = 0  # rows in the report; more than len(rows) when the page shows the first few


@dataclass
class ShownSection:
    key: str
    title: str
    failed: bool
    error: str
    figures: list[tuple[str, str]] = field(default_factory=list)  # (label, text)
    tables: list[ShownTable] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# The page and the PDF show at most this many rows of a table (and customers of a status); the
# XLSX has them all. At 100,000 customers a status can list thousands, which no one reads on a
# page and which WeasyPrint would take minutes to lay out.
SHOWN_ROWS = 300


def shown_sections(content: dict[str, Any], *, limit: int | None = None) -> list[ShownSection]:
    limit = SHOWN_ROWS if limit is None else limit
    shown: list[ShownSection] = []
    for section in content.get("sections", []):
        tables = [
            ShownTable(
                key=table["key"],
                title=table["title"],
                headers=[(c["label"], c["kind"]) for c in table["columns"]],
                rows=[
                    [(display(row.get(c["key"]), c["kind"]), c["kind"]) for c in table["columns"]]
                    for row in table["rows"][:limit]
                ],
                total=len(table["rows"]),
            )
            for table in section.get("tables", [])
        ]
        shown.append(
            ShownSection(
                key=section["key"],
                title=section["title"],
                failed=bool(section.get("failed")),
                error=section.get("error", ""),
                figures=[(f["label"], display(f["value"], f["kind"])) for f in section["figures"]],
                tables=tables,
                charts=section.get("charts", []),
                notes=section.get("notes", []),
            )
        )
    return shown


def movements_in_words(
    content: dict[str, Any], *, limit: int | None = None
) -> list[dict[str, Any]]:
    """The report's "customers" lists, status by status, for the top of the page and PDF."""
    limit = SHOWN_ROWS if limit is None else limit
    customers = content.get("customers", {})
    return [
        {
            "key": key,
            "label": str(label),
            "customers": customers.get(key, [])[:limit],
            "total": len(customers.get(key, [])),
        }
        for key, label in STATUSES
    ]


# --- XLSX --------------------------------------------------------------------------------

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(title: str, taken: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub("", title).strip("'") or "Sheet"
    name = base[:31]
    n = 2
    while name in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name)
    return name


def _cell_value(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind in ("int", "money", "percent", "decimal"):
        number = _decimal(value)
        if number is None:
            return str(value)
        if kind == "int":
            return int(number)
        if kind == "percent":
            return float(number / 100)
        if kind == "money":
            return number  # openpyxl writes a Decimal as a number, exactly
        return float(number)
    if kind == "date":
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    return str(value)


def _put(sheet: Any, row: int, column: int, value: Any, kind: str) -> None:
    cell = sheet.cell(row=row, column=column, value=_cell_value(value, kind))
    if isinstance(cell.value, str):
        # A customer named "=…" must stay text, never a formula.
        cell.data_type = "s"
    elif kind in NUMBER_FORMATS and cell.value is not None:
        cell.number_format = NUMBER_FORMATS[kind]


def report_xlsx(report: MonthlyReport) -> bytes:
    """One sheet per section: a heading, the figures block (指标 / 数值), the notes, then each
    table with its column headings; numbers are numbers with number formats."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    content = report.content
    bold = Font(bold=True)
    title_font = Font(bold=True, size=14)
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    taken: set[str] = set()
    heading = _("客服月报 %(month)s") % {"month": month_label(content["month"])}
    generated = _("生成时间：%(at)s；生成人：%(by)s") % {
        "at": content.get("generated_at", "")[:16].replace("T", " "),
        "by": content.get("generated_by") or _("系统定时任务"),
    }
    for section in content.get("sections", []):
        sheet = workbook.create_sheet(_sheet_name(section["title"], taken))
        sheet.cell(row=1, column=1, value=f"{heading} · {section['title']}").font = title_font
        sheet.cell(row=2, column=1, value=generated)
        row = 4
        widths: dict[int, int] = {1: 16, 2: 16}
        if section.get("failed"):
            sheet.cell(row=row, column=1, value=_("本章节生成失败：%(error)s") % section)
            row += 2
        if section.get("figures"):
            sheet.cell(row=row, column=1, value=_("指标")).font = bold
            sheet.cell(row=row, column=2, value=_("数值")).font = bold
            row += 1
            for figure in section["figures"]:
                _put(sheet, row, 1, figure["label"], "text")
                _put(sheet, row, 2, figure["value"], figure["kind"])
                widths[1] = max(widths[1], len(str(figure["label"])) * 2 + 2)
                row += 1
            row += 1
        for note in section.get("notes", []):
            _put(sheet, row, 1, note, "text")
            row += 1
        if section.get("notes"):
            row += 1
        for table in section.get("tables", []):
            sheet.cell(row=row, column=1, value=table["title"]).font = bold
            row += 1
            for index, column in enumerate(table["columns"], start=1):
                sheet.cell(row=row, column=index, value=column["label"]).font = bold
                widths[index] = max(widths.get(index, 10), len(column["label"]) * 2 + 2)
            row += 1
            if not table["rows"]:
                sheet.cell(row=row, column=1, value=_("（无）"))
                row += 1
            for data in table["rows"]:
                for index, column in enumerate(table["columns"], start=1):
                    value = data.get(column["key"])
                    _put(sheet, row, index, value, column["kind"])
                    if column["kind"] == "text" and value:
                        widths[index] = min(60, max(widths.get(index, 10), len(str(value)) * 2))
                row += 1
            row += 1
        for index, width in widths.items():
            sheet.column_dimensions[get_column_letter(index)].width = width
    if not workbook.worksheets:
        workbook.create_sheet(_("客服月报"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------------


def bar_svg(chart: dict[str, Any]) -> SafeString:
    """A bar chart as simple inline SVG (horizontal bars, the first series) for the PDF."""
    categories = [str(c) for c in chart.get("categories", [])]
    series = chart.get("series") or [{"data": []}]
    values = [float(_decimal(v) or 0) for v in series[0].get("data", [])]
    if not categories or not values:
        return mark_safe("")
    top = max(max(values), 1.0)
    bar_h, gap, label_w, bar_w = 14, 6, 110, 330
    height = len(categories) * (bar_h + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 80}" '
        f'height="{height}" font-family="Noto Sans CJK SC" font-size="9">'
    ]
    for i, (label, value) in enumerate(zip(categories, values, strict=False)):
        y = gap + i * (bar_h + gap)
        width = max(0.0, value / top * bar_w)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 3}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{bar_h}" fill="#1d3b64"/>'
            f'<text x="{label_w + width + 4:.1f}" y="{y + bar_h - 3}">{value:,.10g}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (labels escaped above)


def report_pdf(report: MonthlyReport) -> bytes:
    """A4, Noto Sans CJK SC, tables whose header rows repeat on each page."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    # WeasyPrint logs every layout step of every page at INFO: noise in the server's log.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

    content = report.content
    sections = shown_sections(content)
    charts = {
        section.key: [bar_svg(c) for c in section.charts if c.get("kind") in ("bar", "pie")]
        for section in sections
    }
    html = render_to_string(
        "reports/monthly_report_print.html",
        {
            "report": report,
            "content": content,
            "month_label": month_label(content["month"]),
            "generated_at": content.get("generated_at", "")[:16].replace("T", " "),
            "movements": movements_in_words(content),
            "sections": [(section, charts.get(section.key, [])) for section in sections],
        },
    )
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)
