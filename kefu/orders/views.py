"""Order pages: the scoped order list and the file import (orders, and customers with
``?kind=customers``) with its progress bar and the report of rejected rows."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.core.imports import (
    ImportFileError,
    check_import_size,
    error_report_csv,
    error_report_xlsx,
    import_max_bytes,
)
from kefu.core.models import ImportJob
from kefu.orders.selectors import order_list, payment_status
from kefu.org.models import User

PAGE_SIZE = 20
_SLACK = 64 * 1024  # multipart framing and the other form fields around the file
_PERMS: dict[str, str] = {
    ImportJob.Kind.ORDERS: "orders.import_orders",
    ImportJob.Kind.CUSTOMERS: "customers.import_customers",
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _refuse(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


@login_required
def order_list_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    q = request.GET.get("q", "")[:64].replace("\x00", "").strip()
    try:
        orders = order_list(user=user, q=q)
    except Forbidden as exc:
        return _refuse(request, exc)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    for order in page.object_list:
        order.payment_status = payment_status(order)
    context = {
        "page": page,
        "q": q,
        "can_import": user.has_perm("orders.import_orders"),
    }
    return render(request, "orders/order_list.html", context)


class _SizeLimitHandler(FileUploadHandler):
    """Stops reading an upload once it passes the limit, for requests without (or with a
    false) Content-Length; the view then refuses it by its size."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        if content_length and content_length > self.limit + _SLACK:
            self.exceeded = True
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        return None


def _import_page(
    request: HttpRequest, kind: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    user = _user(request)
    jobs = ImportJob.objects.filter(created_by=user, kind=kind)[:10]
    return render(
        request,
        "orders/import.html",
        {
            "kind": kind,
            "is_customers": kind == ImportJob.Kind.CUSTOMERS,
            "jobs": jobs,
            "error": error,
            "max_mb": f"{import_max_bytes() / 1024 / 1024:.0f}",
        },
        status=status,
    )


@csrf_exempt  # checked below, once the size is known to be acceptable
@login_required
def import_view(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: refuse an oversize file by its Content-Length before a byte
    of the body is read (the CSRF check would parse it), then queue the job."""
    user = _user(request)
    kind = ImportJob.Kind.CUSTOMERS if request.GET.get("kind") == "customers" else ""
    kind = kind or ImportJob.Kind.ORDERS
    if not user.has_perm(_PERMS[kind]):
        return _refuse(request, Forbidden(_("您没有导入数据的权限。")))
    if request.method != "POST":
        return _import_page(request, kind)
    limit = import_max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + _SLACK:
        return _too_large(request, kind, declared)
    handler = _SizeLimitHandler(request, limit)
    request.upload_handlers = [handler, *request.upload_handlers]
    # The CSRF check reads the form (the token comes before the file in it).
    rejected = CsrfViewMiddleware(_csrf_ok).process_view(request, _csrf_ok, (), {})
    if handler.exceeded:
        return _too_large(request, kind, max(handler.received, declared))
    if rejected is not None:
        return rejected
    upload = request.FILES.get("file")
    if upload is None:
        return _import_page(request, kind, error=_("请选择要导入的文件。"), status=422)
    try:
        check_import_size(upload.size)
    except ImportFileError as exc:
        return _import_page(request, kind, error=exc.message, status=413)
    name = (upload.name or "import")[-200:]
    if not name.lower().endswith((".csv", ".xlsx", ".txt")):
        return _import_page(
            request,
            kind,
            error=_("只能导入 .csv 或 .xlsx 文件（“%(name)s”）。") % {"name": name[:100]},
            status=422,
        )
    job = ImportJob.objects.create(
        kind=kind,
        filename=name,
        update_existing=request.POST.get("update_existing") in ("on", "1", "true"),
        created_by=user,
    )
    job.file.save(name, upload, save=True)
    from kefu.orders.tasks import import_job_task

    transaction.on_commit(lambda: import_job_task(job.pk))
    return redirect("orders:import_job", job_id=job.pk)


def _csrf_ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def _too_large(request: HttpRequest, kind: str, size: int) -> HttpResponse:
    try:
        check_import_size(size)
        message = _("文件过大。")
    except ImportFileError as exc:
        message = exc.message
    response = _import_page(request, kind, error=message, status=413)
    response["Connection"] = "close"  # don't read the rest of the body for keep-alive
    return response


def _job_for(request: HttpRequest, job_id: int) -> ImportJob:
    user = _user(request)
    job = ImportJob.objects.filter(pk=job_id).first() if 0 < job_id < 2**63 else None
    if job is None or not (user.is_superuser or job.created_by_id == user.pk):
        raise Http404(_("导入任务不存在。"))
    return job


@login_required
def import_job_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_for(request, job_id)
    context = {"job": job, "errors": job.errors[:500], "more_errors": max(0, len(job.errors) - 500)}
    if getattr(request, "htmx", False):
        return render(request, "orders/partials/_job.html", context)
    return render(request, "orders/import_job.html", context)


@login_required
def import_job_errors_view(request: HttpRequest, job_id: int, fmt: str) -> HttpResponse:
    job = _job_for(request, job_id)
    if fmt not in ("xlsx", "csv"):
        raise Http404(_("没有这种格式的报告。"))
    if fmt == "xlsx":
        response = HttpResponse(
            error_report_xlsx(job.errors),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(
            error_report_csv(job.errors), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.{fmt}"'
    return response
