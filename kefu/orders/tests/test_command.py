"""kefu import_orders FILE (and its alias import-orders)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kefu.orders.models import Order
from kefu.orders.tests.helpers import GOOD_ROWS, csv_bytes, make_customer, xlsx_bytes


@pytest.fixture
def customers(org: dict[str, Any]) -> None:
    make_customer("C001", org["team_a"])


def test_the_command_imports_a_good_file(
    tmp_path: Path, customers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.xlsx"
    path.write_bytes(xlsx_bytes(GOOD_ROWS))
    call_command("import_orders", str(path))
    assert Order.objects.count() == 2
    assert "新增 2" in capsys.readouterr().out
    call_command("import-orders", str(path))
    assert "未变 2" in capsys.readouterr().out


def test_the_command_fails_prints_the_rows_and_imports_nothing(
    tmp_path: Path, customers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(
        csv_bytes([*GOOD_ROWS, ["SO-9", "C001", "2025-01-05", "", "", "x", "-3", "1", ""]])
    )
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("import_orders", str(path))
    assert "第 5 行\t数量\t数量不能为负数。" in capsys.readouterr().err
    assert not Order.objects.exists()


def test_the_update_flag_of_the_command(tmp_path: Path, customers: None) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS))
    call_command("import_orders", str(path))
    changed = [[*GOOD_ROWS[0][:7], "7000", "5200"], GOOD_ROWS[1], GOOD_ROWS[2]]
    path.write_bytes(csv_bytes(changed))
    with pytest.raises(CommandError):
        call_command("import_orders", str(path))
    call_command("import_orders", str(path), "--update-existing")
    assert str(Order.objects.get(order_no="SO-1").amount) == "7300.00"
