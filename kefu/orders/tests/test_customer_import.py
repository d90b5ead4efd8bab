"""Customer files (客户编码 as the key): all or nothing, unchanged re-imports, the update flag."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kefu.audit.models import AuditEvent
from kefu.core.models import ImportJob
from kefu.customers.models import Contact, Customer
from kefu.orders.tests.helpers import csv_bytes, upload, xlsx_bytes
from kefu.org.models import User

HEADER = [
    "客户编码",
    "客户名称",
    "类型",
    "地区",
    "行业",
    "手机",
    "联系人",
    "统一社会信用代码",
    "来源",
]
ROWS = [
    [
        "K001",
        "上海示例科技有限公司",
        "企业",
        "上海市",
        "制造业",
        "13812345678",
        "王经理",
        "91310000MA1FL8TQ36",
        "展会",
    ],
    ["K002", "张三", "个人", "北京市", "", "139 0000 1111", "", "", ""],
]


@pytest.fixture
def browser(manager: User) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def _send(
    client: Client, content: bytes, capture: Any, name: str = "c.csv", **data: Any
) -> ImportJob:
    with capture(execute=True):
        client.post("/orders/import/?kind=customers", {"file": upload(name, content), **data})
    job = ImportJob.objects.order_by("-id").first()
    assert job is not None
    job.refresh_from_db()
    return job


def test_customers_are_created_with_contacts_and_audited_once(
    browser: Client, org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    job = _send(browser, csv_bytes(ROWS, header=HEADER), django_capture_on_commit_callbacks)
    assert (job.kind, job.status, job.created_count) == ("customers", "done", 2), job.errors
    company = Customer.objects.get(code="K001")
    assert company.mobile == "+8613812345678"
    assert company.uscc == "91310000MA1FL8TQ36"
    person = Customer.objects.get(code="K002")
    assert person.kind == "person"
    assert person.mobile == "+8613900001111"
    assert Contact.objects.get(customer=company).name == "王经理"
    assert AuditEvent.objects.filter(object_type="customers.customer").count() == 1


def test_re_import_is_unchanged_and_a_change_needs_the_flag(
    browser: Client, org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    _send(browser, csv_bytes(ROWS, header=HEADER), django_capture_on_commit_callbacks)
    job = _send(
        browser, xlsx_bytes(ROWS, header=HEADER), django_capture_on_commit_callbacks, name="c.xlsx"
    )
    assert (job.status, job.unchanged_count) == ("done", 2)
    moved = [[*ROWS[0][:3], "杭州市", *ROWS[0][4:]], ROWS[1]]
    job = _send(browser, csv_bytes(moved, header=HEADER), django_capture_on_commit_callbacks)
    assert job.status == "rejected"
    assert job.errors[0]["row"] == 2
    assert "已存在且内容不同" in job.errors[0]["message"]
    assert Customer.objects.get(code="K001").region == "上海市"
    job = _send(
        browser,
        csv_bytes(moved, header=HEADER),
        django_capture_on_commit_callbacks,
        update_existing="1",
    )
    assert (job.status, job.updated_count, job.unchanged_count) == ("done", 1, 1)
    assert Customer.objects.get(code="K001").region == "杭州市"


def test_bad_rows_import_no_customer(
    browser: Client, org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    rows = [
        *ROWS,
        ["K003", "甲公司", "机器人", "", "", "010-12345678", "", "91310000MA1FL8TQ3X", ""],
        ["K001", "另一个名字", "企业", "", "", "", "", "", ""],
        ["", "无编码", "", "", "", "", "", "", ""],
    ]
    job = _send(browser, csv_bytes(rows, header=HEADER), django_capture_on_commit_callbacks)
    assert job.status == "rejected"
    assert not Customer.objects.exists()
    assert [(e["row"], e["field"]) for e in job.errors] == [
        (4, "手机"),
        (4, "类型"),
        (4, "统一社会信用代码"),
        (5, "客户编码"),
        (6, "客户编码"),
    ]


def test_customer_import_needs_its_permission(supervisor: User) -> None:
    client = Client()
    client.force_login(supervisor)
    assert client.get("/orders/import/?kind=customers").status_code == 403


def test_imported_customers_get_their_first_credit_grade(
    browser: Client, org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # given no customers; when a file brings two new ones (bulk inserted: no post_save)
    job = _send(browser, csv_bytes(ROWS, header=HEADER), django_capture_on_commit_callbacks)
    assert job.status == "done", job.errors
    # then each was scored like a customer created by hand: neutral factors, 57 points, C
    for code in ("K001", "K002"):
        customer = Customer.objects.get(code=code)
        assert (customer.credit_score, customer.credit_grade) == (57, "C")
        assert customer.credit_changes.filter(field="grade", new_value="C").count() == 1
