from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "清理卡在“发送中”的客户通知和邮件回复：超时的重新排队发送，已达最大尝试次数的标记为"
        "发送失败并通知主管（幂等，可与定时任务同时运行）。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        from kefu.core.sweeps import sweep_all

        for name, counts in sweep_all().items():
            self.stdout.write(f"{name}: {counts}")
