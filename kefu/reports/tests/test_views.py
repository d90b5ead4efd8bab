"""The /reports/ pages: permissions, the month's page, regenerate, downloads (audited)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from kefu.audit.models import AuditEvent
from kefu.org.models import User
from kefu.reports.models import MonthlyReport
from kefu.reports.sections import Column, ReportContext, Section, SectionResult, Table
from kefu.reports.services import previous_month
from kefu.web.nav import items_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_movements_section")]

OCTOBER_URL = "/reports/monthly/2026-10/"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_nav_entry_for_readers_only(agent: User, sales: User, manager: User) -> None:
    assert "reports" in [item.key for item in items_for(sales)]
    assert "reports" in [item.key for item in items_for(manager)]
    assert "reports" not in [item.key for item in items_for(agent)]
    item = next(item for item in items_for(manager) if item.key == "reports")
    assert (str(item.label), item.order, item.url) == ("报表", 70, "/reports/")


def test_index_defaults_to_last_month_and_lists_the_archive(
    fake_classify: list[Any], manager: User
) -> None:
    client_for(manager).get(OCTOBER_URL)

    page = client_for(manager).get("/reports/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="{previous_month():%Y-%m}"' in html
    assert "2026年10月" in html
    assert "手工生成" in html
    assert "/reports/settings/" in html


def test_index_month_picker_redirects_and_refuses_a_bad_month(
    fake_classify: list[Any], sales: User
) -> None:
    client = client_for(sales)
    answer = client.get("/reports/", {"month": "2026-10"})
    assert (answer.status_code, answer["Location"]) == (302, OCTOBER_URL)
    bad = client.get("/reports/", {"month": "2026-13"})
    assert bad.status_code == 422
    assert "月份格式应为 YYYY-MM" in bad.content.decode()


def test_pages_refuse_roles_without_the_view_permission(
    fake_classify: list[Any], agent: User, manager: User
) -> None:
    report_id = client_for(manager).get(OCTOBER_URL).context["report"].pk
    client = client_for(agent)
    for url in (
        "/reports/",
        OCTOBER_URL,
        f"/reports/archive/{report_id}/",
        f"/reports/archive/{report_id}/xlsx/",
        "/reports/settings/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{OCTOBER_URL}regenerate/").status_code == 403
    assert MonthlyReport.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_month_page_shows_movements_in_words_then_every_section(
    fake_classify: list[Any], sales: User, customers: dict[str, Any]
) -> None:
    page = client_for(sales).get(OCTOBER_URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert "客服月报 2026年10月" in html
    words = html.index("客户动态（文字说明）")
    assert (
        html.index("华东机电有限公司</a>：近3月订单额较前3月下降62%，最近一次下单已过97天") > words
    )
    # the movements come first, in their own tab, the words right after its counts
    section = html.index('data-section="movements"')
    assert html.index('href="#pane-movements"') == html.index('href="#pane-')  # the first tab
    following = html.find('data-section="', section + 1)
    assert section < words
    assert following == -1 or words < following
    assert "¥38,000.00" in html
    assert "¥250,000.50" in html
    assert 'id="chart-movements-movements_by_status-data"' in html
    assert "vendor/echarts/echarts.min.js" in html
    assert "reports/monthly_report.js" in html
    assert "生成人：sales1" in " ".join(html.split()).replace("生成人 ：", "生成人：")
    assert 'data-testid="regenerate"' not in html  # sales may read, not regenerate
    report = MonthlyReport.objects.get()
    assert f"/reports/archive/{report.pk}/xlsx/" in html


def test_regenerate_archives_anew_for_a_manager_only(
    fake_classify: list[Any], manager: User, sales: User
) -> None:
    client_for(sales).get(OCTOBER_URL)

    refused = client_for(sales).post(f"{OCTOBER_URL}regenerate/")
    assert refused.status_code == 403
    assert MonthlyReport.objects.count() == 1

    answer = client_for(manager).post(f"{OCTOBER_URL}regenerate/")
    assert (answer.status_code, answer["Location"]) == (302, OCTOBER_URL)
    assert MonthlyReport.objects.count() == 2
    page = client_for(manager).get(OCTOBER_URL)
    assert page.context["report"].generated_by == manager
    assert "本月的存档版本" in page.content.decode()


class _Broken:
    key = "broken"
    title = "投诉分析"
    order = 20

    def build(self, ctx: ReportContext) -> SectionResult:
        raise ValueError("投诉表缺失")


def test_month_page_says_which_section_failed(
    fake_classify: list[Any], manager: User, extra_sections: Callable[[Section], None]
) -> None:
    extra_sections(_Broken())  # type: ignore[arg-type]

    html = client_for(manager).get(OCTOBER_URL).content.decode()

    assert "以下章节生成失败，其余章节不受影响" in html
    assert "ValueError: 投诉表缺失" in html
    assert 'data-section="movements"' in html


def test_bad_or_future_months_and_unknown_reports(fake_classify: list[Any], manager: User) -> None:
    client = client_for(manager)
    assert client.get("/reports/monthly/2026-13/").status_code == 422
    future = client.get("/reports/monthly/2031-01/")
    assert future.status_code == 400
    assert "2031年01月 尚未到来" in future.content.decode()
    assert client.get("/reports/archive/999999/").status_code == 404
    assert client.get("/reports/archive/999999/pdf/").status_code == 404
    report_id = client.get(OCTOBER_URL).context["report"].pk
    assert client.get(f"/reports/archive/{report_id}/docx/").status_code == 404
    assert MonthlyReport.objects.count() == 1


def test_downloads_are_audited_with_who_and_which_month(
    fake_classify: list[Any], finance: User
) -> None:
    client = client_for(finance)
    report_id = client.get(OCTOBER_URL).context["report"].pk

    xlsx = client.get(f"/reports/archive/{report_id}/xlsx/")
    pdf = client.get(f"/reports/archive/{report_id}/pdf/")

    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="kefu-monthly-report-2026-10.xlsx"' in xlsx["Content-Disposition"]
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames == ["客户动态"]
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    events = list(AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).order_by("id"))
    assert [(e.actor, e.object_type, e.object_id) for e in events] == [
        (finance, "reports.monthlyreport", str(report_id)),
        (finance, "reports.monthlyreport", str(report_id)),
    ]
    assert [e.changes for e in events] == [
        {"month": "2026-10", "format": "xlsx", "report_id": report_id},
        {"month": "2026-10", "format": "pdf", "report_id": report_id},
    ]
    assert events[1].note == "导出客服月报 2026-10（PDF）"


def test_an_older_version_stays_readable(fake_classify: list[Any], manager: User) -> None:
    client = client_for(manager)
    first = client.get(OCTOBER_URL).context["report"].pk
    client.post(f"{OCTOBER_URL}regenerate/")

    page = client.get(f"/reports/archive/{first}/")

    assert page.status_code == 200
    assert page.context["report"].pk == first
    assert "历史版本" in page.content.decode()
    assert MonthlyReport.objects.filter(month=date(2026, 10, 1)).count() == 2


class _Long:
    key = "long"
    title = "长表"
    order = 30

    def build(self, ctx: ReportContext) -> SectionResult:
        return SectionResult(
            key=self.key,
            title=self.title,
            tables=[
                Table(
                    "many",
                    "很多行",
                    [Column("n", "序号", "int")],
                    [{"n": n} for n in range(1, 4)],
                )
            ],
        )


def test_page_and_pdf_show_the_first_rows_and_say_so_the_xlsx_has_all(
    fake_classify: list[Any],
    manager: User,
    extra_sections: Callable[[Section], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra_sections(_Long())  # type: ignore[arg-type]
    monkeypatch.setattr("kefu.reports.exports.SHOWN_ROWS", 2)
    client = client_for(manager)

    page = client.get(OCTOBER_URL)

    html = page.content.decode()
    assert "仅显示前 2 行，共 3 行；完整数据请下载 XLSX。" in html
    table = html[html.index('data-table="many"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 3  # the heading and two rows
    report_id = page.context["report"].pk
    sheet = load_workbook(io.BytesIO(client.get(f"/reports/archive/{report_id}/xlsx/").content))
    numbers = [row[0] for row in sheet["长表"].iter_rows(min_row=6, values_only=True)]
    assert numbers == [1, 2, 3]


def test_a_month_not_over_yet_says_its_figures_are_partial(
    fake_classify: list[Any], manager: User
) -> None:
    client = client_for(manager)
    this_month = f"{timezone.localdate():%Y-%m}"  # Asia/Shanghai

    current = client.get(f"/reports/monthly/{this_month}/").content.decode()
    past = client.get(OCTOBER_URL).content.decode()

    assert "生成时本月尚未结束" in current
    assert "生成时本月尚未结束" not in past
