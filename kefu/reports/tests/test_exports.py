"""XLSX and PDF of an archived report: real numbers with formats, Chinese text in the PDF."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from kefu.org.models import User
from kefu.reports.exports import display, report_pdf, report_xlsx
from kefu.reports.sections import (
    Chart,
    Column,
    Figure,
    ReportContext,
    Section,
    SectionResult,
    Table,
)
from kefu.reports.services import report_generate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_movements_section")]

OCTOBER = date(2026, 10, 1)
VAR = Path(__file__).resolve().parents[3] / "var"


class _Kinds:
    key = "kinds"
    title = gettext_lazy(
        "服务成本与利润：每一种单元格类型都在这里[测试]/很长很长很长很长的标题文字"
    )
    order = 40

    def build(self, ctx: ReportContext) -> SectionResult:
        return SectionResult(
            key=self.key,
            title=str(self.title),
            figures=[
                Figure("服务成本合计", "1234.56", "money"),
                Figure("投诉率", 12.5, "percent"),
                Figure("工单数", 1200, "int"),
            ],
            tables=[
                Table(
                    "cost",
                    "服务成本超过毛利的客户",
                    [
                        Column("name", "客户", "text"),
                        Column("date", "日期", "date"),
                        Column("revenue", "收入", "money"),
                        Column("share", "占比", "percent"),
                        Column("ratio", "倍数", "decimal"),
                        Column("tickets", "工单", "int"),
                    ],
                    [
                        {
                            "name": '=HYPERLINK("x")',
                            "date": "2026-10-31",
                            "revenue": "98765.43",
                            "share": 37.5,
                            "ratio": 1.25,
                            "tickets": 7,
                        },
                        {
                            "name": "空值客户",
                            "date": None,
                            "revenue": None,
                            "share": None,
                            "ratio": None,
                            "tickets": None,
                        },
                    ],
                )
            ],
            charts=[Chart("c", "图", "bar", ["甲", "乙"], [{"name": "n", "data": [3, 1]}])],
            notes=["投诉率较上月上升 0.8 个万分点"],
        )


@pytest.fixture
def report(
    fake_classify: list[Any], manager: User, extra_sections: Callable[[Section], None]
) -> Any:
    extra_sections(_Kinds())
    return report_generate(month=OCTOBER, actor=manager, trigger="manual")


def test_xlsx_has_one_sheet_per_section_with_real_numbers(report: Any) -> None:
    workbook = load_workbook(io.BytesIO(report_xlsx(report)))

    assert workbook.sheetnames == [
        "客户动态",
        "服务成本与利润：每一种单元格类型都在这里测试很长很长很长很长的",
    ]
    assert all(len(name) <= 31 for name in workbook.sheetnames)
    movements = workbook["客户动态"]
    assert movements["A1"].value == "客服月报 2026年10月 · 客户动态"
    cells = {row[0]: row[1] for row in movements.iter_rows(min_row=5, max_col=2, values_only=True)}
    assert cells["流失"] == 1
    assert cells["稳定"] == 5
    rows = list(movements.iter_rows(values_only=True))
    falling = next(r for r in rows if r[1] == "华东机电有限公司")
    assert falling[2] == "近3月订单额较前3月下降62%，最近一次下单已过97天"
    assert falling[4] == Decimal("38000") or falling[4] == 38000
    assert isinstance(falling[4], int | float | Decimal)

    kinds = workbook.worksheets[1]
    by_label = {
        row[0].value: row[1] for row in kinds.iter_rows(min_row=5, max_col=2) if row[0].value
    }
    assert by_label["服务成本合计"].value == pytest.approx(1234.56)
    assert by_label["服务成本合计"].number_format == '"¥"#,##0.00'
    assert by_label["投诉率"].value == pytest.approx(0.125)
    assert by_label["投诉率"].number_format == "0.0%"
    assert by_label["工单数"].value == 1200
    header_row = next(r for r in kinds.iter_rows() if r[0].value == "客户")
    data = next(r for r in kinds.iter_rows(min_row=int(header_row[0].row or 0) + 1))
    assert data[0].value == '=HYPERLINK("x")'
    assert data[0].data_type == "s"
    assert data[1].data_type == "d"
    assert str(data[1].value)[:10] == "2026-10-31"
    assert data[1].number_format == "yyyy-mm-dd"
    assert data[2].value == pytest.approx(98765.43)
    assert data[3].value == pytest.approx(0.375)
    assert data[4].value == pytest.approx(1.25)
    assert data[5].value == 7
    empty = next(kinds.iter_rows(min_row=int(header_row[0].row or 0) + 2))
    assert [c.value for c in empty[:6]] == ["空值客户", None, None, None, None, None]


def test_pdf_renders_chinese_text_and_the_reasons(report: Any) -> None:
    pdf_bytes = report_pdf(report)

    document = pdfium.PdfDocument(pdf_bytes)
    page = document[0]
    text = page.get_textpage().get_text_range()
    assert "客服月报 2026年10月" in text
    assert "近3月订单额较前3月下降62%，最近一次下单已过97天" in text
    assert "青岛海工贸易" in text
    all_text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "¥98,765.43" in all_text
    assert "37.5%" in all_text
    image = page.render(scale=1.5).to_pil()
    VAR.mkdir(exist_ok=True)
    image.save(VAR / "report-monthly-page1.png")
    assert image.size[0] > 800
    # Not blank: the glyphs drew dark pixels.
    assert image.convert("L").getextrema()[0] < 100


def test_display_formats_for_people() -> None:
    assert display("1234.5", "money") == "¥1,234.50"
    assert display("-20", "money") == "-¥20.00"
    assert display(50, "percent") == "50.0%"
    assert display(1234567, "int") == "1,234,567"
    assert display(None, "money") == "—"
    assert display("2026-10-31", "date") == "2026-10-31"
