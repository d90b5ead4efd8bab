"""The whole report, every registered section with the real classifier: one month of a small
company, through the API, the page and both exports."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from django.test import Client
from openpyxl import load_workbook

from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.org.models import User
from kefu.reports.sections import sections

pytestmark = pytest.mark.django_db


def test_every_section_builds_and_exports(
    api_as: Callable[[User], Any], manager: User, make_user: Callable[..., User]
) -> None:
    rep = make_user("rep", "sales", department="sales")
    falling = Customer.objects.create(name="华东机电有限公司", owner=rep)
    for number, (day, amount) in enumerate(
        [
            (date(2026, 5, 3), 33_332),
            (date(2026, 6, 2), 33_334),
            (date(2026, 7, 2), 33_334),
            (date(2026, 8, 1), 15_000),
            (date(2026, 8, 31), 15_000),
            (date(2026, 9, 30), 15_000),
            (date(2026, 10, 30), 15_000),
        ]
    ):
        Order.objects.create(
            customer=falling,
            order_no=f"FR{number:06d}",
            date=day,
            amount=Decimal(amount),
            cost=Decimal(amount) * Decimal("0.7"),
            content_hash="x",
        )
    keys = [section.key for section in sections()]
    assert keys[:5] == ["movements", "complaints", "service", "profitability", "actions"]

    body = api_as(manager).get("/api/v1/reports/monthly", month="2026-10").json()

    assert [s["key"] for s in body["sections"]] == keys
    assert [s["key"] for s in body["sections"] if s["failed"]] == []
    assert [c["name"] for c in body["customers"]["falling"]] == ["华东机电有限公司"]
    client = Client()
    client.force_login(manager)
    page = client.get("/reports/monthly/2026-10/")
    assert page.status_code == 200
    assert "华东机电有限公司" in page.content.decode()
    report_id = body["report_id"]
    workbook = load_workbook(io.BytesIO(client.get(f"/reports/archive/{report_id}/xlsx/").content))
    assert len(workbook.sheetnames) == len(keys)
    pdf = pdfium.PdfDocument(client.get(f"/reports/archive/{report_id}/pdf/").content)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "客服月报 2026年10月" in text
    assert body["customers"]["falling"][0]["reason"] in text
