"""Import jobs run in the Huey worker (immediate in tests): load the job by id, run it."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task()  # type: ignore[untyped-decorator]
def import_job_task(job_id: int) -> str:
    from kefu.core.models import ImportJob
    from kefu.customers.imports import customer_import_job_run
    from kefu.orders.imports import order_import_job_run

    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.VALIDATING
    )
    if not claimed:
        return "skipped"  # a job runs once, even if the queue delivers it twice
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.kind == ImportJob.Kind.CUSTOMERS:
        customer_import_job_run(job)
    else:
        order_import_job_run(job)
    return str(job.status)
