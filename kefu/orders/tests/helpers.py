"""Shared pieces of the orders tests: customers with codes, order dicts, files in memory."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from kefu.customers.models import Customer

HEADER = ["订单号", "客户编码", "下单日期", "应付款日", "付款日", "产品", "数量", "金额", "成本"]


def make_customer(code: str, team: Any, name: str = "") -> Customer:
    return Customer.objects.create(code=code, name=name or f"客户{code}", serving_team=team)


def order(
    order_no: str = "SO-0001",
    *,
    code: str | None = "C001",
    date: str = "2025-01-05",
    lines: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "order_no": order_no,
        "customer_code": code,
        "date": date,
        "due_date": "2025-02-04",
        "paid_date": None,
        "lines": lines
        if lines is not None
        else [
            {"product": "空调 KFR-35", "quantity": "2", "amount": "6999.00", "cost": "5200.00"},
            {"product": "安装服务", "quantity": "1", "amount": "300", "cost": "100.5"},
        ],
        **extra,
    }


def csv_bytes(
    rows: list[list[Any]], *, header: list[str] = HEADER, encoding: str = "utf-8-sig"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], *, header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


GOOD_ROWS = [
    ["SO-1", "C001", "2025-01-05", "2025-02-04", "", "空调", "2", "6999.00", "5200"],
    ["SO-1", "C001", "2025-01-05", "2025-02-04", "", "安装", "1", "300", "100"],
    ["SO-2", "C001", "2025/3/1", "", "2025-03-02", "滤网", "10", "50.5", "20"],
]
