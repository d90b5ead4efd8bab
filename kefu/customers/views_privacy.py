"""The data-subject request page (PIPL): export a copy, erase on request."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.customers.access import customer_get_for_user
from kefu.customers.models import Customer
from kefu.customers.privacy import (
    can_handle_subject_requests,
    subject_data,
    subject_erase,
    subject_export,
    subject_export_json,
    subject_export_xlsx,
)
from kefu.org.models import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SubjectEraseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("删除原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text=gettext_lazy("例如：本人来电申请删除，已核验身份（工单号）。"),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("我确认删除该客户的个人信息；删除后无法恢复。"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    """404 outside the caller's scope, 403 (Forbidden) inside it without the permission."""
    user = _user(request)
    try:
        customer = customer_get_for_user(user=user, customer_id=customer_id)
    except NotFound:
        raise Http404(_("客户不存在。")) from None
    if not can_handle_subject_requests(user):
        raise Forbidden(_("您没有处理个人信息请求的权限。"))
    return customer


def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


def _page(
    request: HttpRequest, customer: Customer, form: SubjectEraseForm, status: int = 200
) -> HttpResponse:
    user = _user(request)
    sections = subject_data(customer)
    return render(
        request,
        "customers/privacy/subject_request.html",
        {
            "customer": customer,
            "sections": [(section.title, len(section.rows)) for section in sections],
            "form": form,
            "can_erase": user.has_perm("customers.erase_personal_data"),
        },
        status=status,
    )


@login_required
def subject_request_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    try:
        customer = _customer(request, customer_id)
    except Forbidden as exc:
        return _refused(request, exc)
    return _page(request, customer, SubjectEraseForm())


@login_required
def subject_export_view(request: HttpRequest, customer_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("json", "xlsx"):
        raise Http404(_("不支持的导出格式。"))
    user = _user(request)
    try:
        customer = _customer(request, customer_id)
        sections = subject_export(actor=user, customer=customer, fmt=fmt)
    except ApplicationError as exc:
        return _refused(request, exc)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"customer-{customer.pk}-personal-data-{stamp}.{fmt}"
    if fmt == "xlsx":
        response = HttpResponse(subject_export_xlsx(sections, actor=user), content_type=XLSX)
    else:
        content = json.dumps(
            subject_export_json(sections), ensure_ascii=False, indent=2, cls=DjangoJSONEncoder
        )
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def subject_erase_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = _customer(request, customer_id)
        if not user.has_perm("customers.erase_personal_data"):
            raise Forbidden(_("您没有处理个人信息删除请求的权限。"))
    except Forbidden as exc:
        return _refused(request, exc)
    form = SubjectEraseForm(request.POST)
    if not form.is_valid():
        return _page(request, customer, form, status=422)
    try:
        subject_erase(actor=user, customer=customer, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        for field, errors in (exc.fields or {"__all__": [exc.message]}).items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _page(request, customer, form, status=exc.status)
    messages.success(request, _("已删除该客户的个人信息；订单与统计数据保留。"))
    return redirect("privacy:customer", customer_id=customer.pk)
