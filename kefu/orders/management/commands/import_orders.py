"""kefu import_orders FILE [--update-existing] [--user NAME]: import an order file (CSV/XLSX)
from the command line under the same all-or-nothing rule as the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kefu.core.exceptions import ApplicationError
from kefu.core.imports import RowsRejected, check_import_size
from kefu.orders.imports import import_order_file
from kefu.org.models import User


class Command(BaseCommand):
    help = "导入订单文件（CSV 或 XLSX）：整个文件校验通过才导入，否则不导入并列出错误行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or XLSX file, one row per order line")
        parser.add_argument(
            "--update-existing",
            action="store_true",
            help="update orders whose number exists with different content",
        )
        parser.add_argument(
            "--user",
            default="",
            help="import as this user (their permissions and customer scope); "
            "default: the command line, which sees every customer",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"用户不存在：{options['user']}")
        try:
            check_import_size(path.stat().st_size)
            with path.open("rb") as stream:
                result = import_order_file(
                    actor=actor,
                    stream=stream,
                    filename=path.name,
                    update_existing=options["update_existing"],
                )
        except RowsRejected as rejected:
            for error in rejected.errors:
                row = error.row or "-"
                self.stderr.write(f"第 {row} 行\t{error.column or '-'}\t{error.message}")
            raise CommandError(f"{len(rejected.errors)} 处错误，未导入任何数据。") from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"导入完成：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}。"
        )
