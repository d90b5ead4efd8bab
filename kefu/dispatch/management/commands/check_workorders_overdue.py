from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "派工单逾期检查：每张逾期未完成的派工单通知一次处理人和承办部门（幂等）。"

    def handle(self, *args: Any, **options: Any) -> None:
        from kefu.dispatch.services import workorders_overdue_notify

        self.stdout.write(str(workorders_overdue_notify()))
