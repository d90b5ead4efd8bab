from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "超时自动下线：在线或忙碌、但超过设定分钟数未被看到的坐席改为离线（幂等）。"

    def handle(self, *args: Any, **options: Any) -> None:
        from kefu.routing.services import presence_expire

        self.stdout.write(str(presence_expire()))
