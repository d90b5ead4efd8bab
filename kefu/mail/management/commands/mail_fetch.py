from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "收一次邮件：新邮件建单或追加到工单，重试失败的邮件（与每分钟的定时任务相同）。"

    def handle(self, *args: Any, **options: Any) -> None:
        from kefu.mail.fetch import fetch_enabled, mail_fetch

        if not fetch_enabled():
            self.stdout.write("KEFU_MAIL_IMAP_HOST is not set: fetching is off.")
            return
        counts = mail_fetch()
        self.stdout.write(", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
