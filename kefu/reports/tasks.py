from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task

from kefu.core.schedules import MONTHLY_REPORT


@db_periodic_task(MONTHLY_REPORT)  # type: ignore[untyped-decorator]
def monthly_report_task() -> int:
    """On the 1st at 02:00: the previous month's report, generated and archived by the worker
    (generated_by empty, trigger "schedule"). Returns the archived report's id."""
    from kefu.reports.models import MonthlyReport
    from kefu.reports.services import previous_month, report_generate

    report = report_generate(
        month=previous_month(), actor=None, trigger=MonthlyReport.Trigger.SCHEDULE
    )
    return report.pk
