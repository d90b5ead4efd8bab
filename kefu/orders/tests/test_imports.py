"""Order files through the page and the Huey task: all or nothing, the report of rejected rows,
oversize and non-spreadsheet files, progress and job states."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from kefu.core.models import ImportJob
from kefu.orders.models import Order, OrderLine
from kefu.orders.tests.helpers import GOOD_ROWS, csv_bytes, make_customer, upload, xlsx_bytes
from kefu.org.models import User


@pytest.fixture
def customers(org: dict[str, Any]) -> dict[str, Any]:
    return {"a": make_customer("C001", org["team_a"]), "b": make_customer("C002", org["team_b"])}


@pytest.fixture
def browser(manager: User) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def _send(
    client: Client, name: str, content: bytes, capture: Any, **data: Any
) -> tuple[Any, ImportJob | None]:
    with capture(execute=True):
        response = client.post("/orders/import/", {"file": upload(name, content), **data})
    return response, ImportJob.objects.order_by("-id").first()


def test_a_good_csv_imports_whole_and_the_page_shows_the_counts(
    browser: Client, customers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    response, job = _send(
        browser, "orders.csv", csv_bytes(GOOD_ROWS), django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert job is not None
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, (job.message, job.errors)
    assert (job.created_count, job.total_rows, job.processed_rows) == (2, 3, 3)
    assert Order.objects.count() == 2
    assert OrderLine.objects.count() == 3
    page = browser.get(response["Location"])
    assert "新增" in page.content.decode()
    assert 'data-status="done"' in page.content.decode()
    assert "hx-trigger" not in page.content.decode()  # polling stops when the job is done


def test_re_importing_the_same_file_changes_nothing(
    browser: Client, customers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    _send(browser, "orders.csv", csv_bytes(GOOD_ROWS), django_capture_on_commit_callbacks)
    _response, job = _send(
        browser, "again.xlsx", xlsx_bytes(GOOD_ROWS), django_capture_on_commit_callbacks
    )
    assert job is not None
    job.refresh_from_db()
    assert (job.status, job.created_count, job.unchanged_count) == ("done", 0, 2)


def test_one_bad_row_imports_nothing_and_every_bad_row_is_reported(
    browser: Client, customers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    rows = [
        *GOOD_ROWS,
        ["SO-3", "C999", "2025-01-05", "", "", "空调", "1", "10", "5"],  # row 5
        ["SO-4", "C001", "2025-02-30", "", "", "空调", "1", "10", "5"],  # row 6
        ["SO-5", "C001", "2025-01-05", "", "", "空调", "-1", "10", "5"],  # row 7
        [
            "SO-1",
            "C001",
            "2025-01-05",
            "",
            "",
            "别的",
            "9",
            "10",
            "5",
        ],  # row 8: SO-1 again, other content
    ]
    response, job = _send(browser, "bad.csv", csv_bytes(rows), django_capture_on_commit_callbacks)
    assert job is not None
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REJECTED
    assert not Order.objects.exists()
    reported = [(e["row"], e["field"]) for e in job.errors]
    assert reported == [(5, "客户编码"), (6, "下单日期"), (7, "数量"), (8, "订单号")]
    messages = [e["message"] for e in job.errors]
    assert messages[0] == "客户编码“C999”不存在或不在您的范围内。"
    assert messages[2] == "数量不能为负数。"
    assert "在第 2 行已出现，且内容不同" in messages[3]
    page = browser.get(response["Location"]).content.decode()
    assert "C999" in page
    assert 'data-testid="errors-xlsx"' in page
    report = browser.get(f"/orders/import/{job.pk}/errors.xlsx")
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("行号", "列", "原因")
    assert values[1][:2] == (5, "客户编码")
    csv_report = browser.get(f"/orders/import/{job.pk}/errors.csv").content.decode("utf-8-sig")
    assert csv_report.splitlines()[1].startswith("5,客户编码,")


def test_rows_of_one_order_must_agree_on_customer_and_dates(
    browser: Client, customers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    rows = [GOOD_ROWS[0], [*GOOD_ROWS[1][:2], "2025-01-06", *GOOD_ROWS[1][3:]]]
    _response, job = _send(browser, "x.csv", csv_bytes(rows), django_capture_on_commit_callbacks)
    assert job is not None
    job.refresh_from_db()
    assert [(e["row"], e["field"]) for e in job.errors] == [(3, "下单日期")]


def test_an_identical_copy_of_an_order_further_down_is_dropped(
    browser: Client, customers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    rows = [*GOOD_ROWS, GOOD_ROWS[0], GOOD_ROWS[1]]
    _response, job = _send(browser, "x.csv", csv_bytes(rows), django_capture_on_commit_callbacks)
    assert job is not None
    job.refresh_from_db()
    assert job.status == "done"
    assert job.created_count == 2
    assert OrderLine.objects.count() == 3


def test_gbk_csv_and_english_headers_are_read(
    browser: Client, customers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    header = [
        "order_no",
        "customer_code",
        "date",
        "due_date",
        "paid_date",
        "product",
        "quantity",
        "amount",
        "cost",
    ]
    _response, job = _send(
        browser,
        "gbk.csv",
        csv_bytes(GOOD_ROWS, header=header, encoding="gbk"),
        django_capture_on_commit_callbacks,
    )
    assert job is not None
    job.refresh_from_db()
    assert job.status == "done", job.errors
    assert Order.objects.get(order_no="SO-1").lines.first().product == "空调"  # type: ignore[union-attr]


def test_an_xlsx_that_is_not_a_spreadsheet_is_refused_clearly(
    browser: Client, customers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    _response, job = _send(
        browser, "orders.xlsx", b"PK\x03\x04 not really a zip", django_capture_on_commit_callbacks
    )
    assert job is not None
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REJECTED
    assert "不是有效的 CSV 或 XLSX 文件" in job.message
    _response, job = _send(
        browser, "photo.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00", django_capture_on_commit_callbacks
    )
    assert job is not None
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REJECTED
    assert "不是有效的" in job.message


def test_a_missing_column_rejects_the_file(
    browser: Client, customers: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    content = csv_bytes([["SO-1", "C001"]], header=["订单号", "客户编码"])
    _response, job = _send(browser, "x.csv", content, django_capture_on_commit_callbacks)
    assert job is not None
    job.refresh_from_db()
    assert job.status == "rejected"
    assert "缺少必填列" in job.message


def test_an_oversize_upload_is_refused_by_its_size_before_it_is_read(
    browser: Client, settings: Any, customers: dict[str, Any]
) -> None:
    settings.KEFU_IMPORT_MAX_BYTES = 1024
    # The declared Content-Length alone decides: the body is never parsed (no job, no file).
    response = browser.generic(
        "POST",
        "/orders/import/",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(200 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "文件过大" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_upload_larger_than_the_limit_is_stopped_while_streaming(
    browser: Client, settings: Any, customers: dict[str, Any]
) -> None:
    settings.KEFU_IMPORT_MAX_BYTES = 100 * 1024
    big = csv_bytes(GOOD_ROWS * 3000)
    assert len(big) > 200 * 1024
    response = browser.post("/orders/import/", {"file": upload("big.csv", big)})
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


def test_the_page_polls_while_the_job_runs(browser: Client, manager: User) -> None:
    job = ImportJob.objects.create(
        kind="orders",
        filename="x.csv",
        created_by=manager,
        status="validating",
        total_rows=4000,
        processed_rows=1000,
    )
    partial = browser.get(
        f"/orders/import/{job.pk}/", headers={"HX-Request": "true"}
    ).content.decode()
    assert 'hx-trigger="every 1s"' in partial
    assert "width: 25%" in partial
    assert "<html" not in partial


def test_import_needs_the_permission_and_jobs_are_private(
    agent: User, manager: User, customers: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(agent)
    assert client.get("/orders/import/").status_code == 403
    job = ImportJob.objects.create(kind="orders", filename="x.csv", created_by=manager)
    assert client.get(f"/orders/import/{job.pk}/").status_code == 404


def test_the_order_list_page_is_scoped(
    agent: User, manager: User, customers: dict[str, Any]
) -> None:
    from kefu.orders.services import orders_upsert
    from kefu.orders.tests.helpers import order

    orders_upsert(actor=manager, items=[order("SO-A"), order("SO-B", code="C002")])
    client = Client()
    client.force_login(agent)
    page = client.get("/orders/").content.decode()
    assert "SO-A" in page
    assert "SO-B" not in page
    assert "¥7,299.00" in page
    assert 'data-nav="orders"' in page


def test_the_job_is_rejected_when_the_uploader_is_gone(
    make_user: Callable[..., User], customers: dict[str, Any]
) -> None:
    from django.core.files.base import ContentFile

    from kefu.orders.imports import order_import_job_run

    job = ImportJob.objects.create(kind="orders", filename="x.csv", created_by=None)
    job.file.save("x.csv", ContentFile(csv_bytes(GOOD_ROWS)))
    order_import_job_run(job)
    job.refresh_from_db()
    assert job.status == "rejected"
    assert not Order.objects.exists()
