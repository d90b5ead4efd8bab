from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "刷新查询规划器的统计信息：SQLite 执行 ANALYZE（PostgreSQL 由 autovacuum 自行维护，"
        "不做任何事）。每晚由定时任务执行，也可手动运行。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        from kefu.core.statistics import planner_statistics_refresh

        self.stdout.write(planner_statistics_refresh())
