from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kefu.core.exceptions import ApplicationError
from kefu.reports.models import MonthlyReport
from kefu.reports.services import month_parse, previous_month, report_current, report_generate


class Command(BaseCommand):
    help = (
        "Generate and archive the monthly report (also run by the worker on the 1st at 02:00 for "
        "the previous month). Without --refresh a month already archived is left as it is."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: last month)")
        parser.add_argument(
            "--refresh", action="store_true", help="regenerate and archive anew even if archived"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = month_parse(options["month"]) if options["month"] else previous_month()
            if not options["refresh"]:
                current = report_current(month=month)
                if current is not None:
                    self.stdout.write(
                        f"{month:%Y-%m}: already archived (#{current.pk}, "
                        f"{current.generated_at:%Y-%m-%d %H:%M}); use --refresh to regenerate."
                    )
                    return
            began = time.perf_counter()
            report = report_generate(
                month=month, actor=None, trigger=MonthlyReport.Trigger.SCHEDULE
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        failed = [s["key"] for s in report.content["sections"] if s.get("failed")]
        self.stdout.write(
            f"{month:%Y-%m}: archived report #{report.pk} with "
            f"{len(report.content['sections'])} sections in "
            f"{time.perf_counter() - began:.2f} s (build {report.duration_ms} ms)"
            + (f"; FAILED sections: {', '.join(failed)}" if failed else "")
            + "."
        )
