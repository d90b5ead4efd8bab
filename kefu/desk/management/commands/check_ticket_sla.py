from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "工单 SLA 检查：80% 预警处理人，超时通知主管，两倍时限通知经理（幂等）。"

    def handle(self, *args: Any, **options: Any) -> None:
        from kefu.desk.escalation import tickets_sla_check

        counts = tickets_sla_check()
        self.stdout.write(", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "0")
