from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "预先计算服务看板的指标卡片（全中心及每个班组，今日与本周）并写入缓存；"
        "缓存须为各进程共用的（Redis），否则无效。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        from kefu.dashboard.selectors import dashboard_kpis_warm

        self.stdout.write(str(dashboard_kpis_warm()))
