from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.customers.access import can_reveal, customer_get_for_user
from kefu.customers.forms import CustomerForm
from kefu.customers.selectors import contact_list, customer_list
from kefu.customers.services import (
    CustomerInput,
    customer_create,
    customer_reveal,
    customer_update,
    customers_export_csv,
)
from kefu.org.access import assignable_teams
from kefu.org.models import User

PAGE_SIZE = 20


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _forbidden(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


def _get(request: HttpRequest, customer_id: int, *, write: bool = False):  # type: ignore[no-untyped-def]
    try:
        return customer_get_for_user(user=_user(request), customer_id=customer_id, write=write)
    except NotFound:
        raise Http404(_("客户不存在。")) from None


@login_required
def customer_list_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    q = request.GET.get("q", "")[:100].replace("\x00", "")
    try:
        customers = customer_list(user=user, q=q)
    except Forbidden as exc:
        return _forbidden(request, exc)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": q,
        "can_add": user.has_perm("customers.add_customer"),
        "can_export": user.has_perm("customers.export_customers"),
        "can_reveal": can_reveal(user),
    }
    partial = bool(getattr(request, "htmx", False))  # set by django-htmx's middleware
    template = "customers/partials/_results.html" if partial else "customers/customer_list.html"
    return render(request, template, context)


@login_required
def customer_create_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.has_perm("customers.add_customer"):
        return _forbidden(request, Forbidden(_("您没有新建客户的权限。")))
    teams = assignable_teams(user)
    form = CustomerForm(request.POST or None, teams=teams, initial={"kind": "company"})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                customer = customer_create(
                    actor=user,
                    data=CustomerInput(
                        name=data["name"],
                        kind=data["kind"],
                        mobile=data["mobile"],
                        contact_name=data["contact_name"],
                        region=data["region"],
                        industry=data["industry"],
                        note=data["note"],
                        serving_team_id=data["serving_team"],
                    ),
                )
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已新建客户“%(name)s”。") % {"name": customer.name})
                return redirect("customers:detail", customer_id=customer.pk)
        status = 422
    return render(
        request, "customers/customer_form.html", {"form": form, "creating": True}, status=status
    )


@login_required
def customer_detail_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = _get(request, customer_id)
    except Forbidden as exc:
        return _forbidden(request, exc)
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "contacts": contact_list(customer=customer),
            "can_reveal": can_reveal(user),
            "can_edit": user.has_perm("customers.change_customer"),
        },
    )


@login_required
def customer_edit_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = _get(request, customer_id, write=True)
    except Forbidden as exc:
        return _forbidden(request, exc)
    initial = {
        "name": customer.name,
        "kind": customer.kind,
        "mobile": customer.mobile_national,
        "region": customer.region,
        "industry": customer.industry,
        "note": customer.note,
        "serving_team": customer.serving_team_id,
    }
    form = CustomerForm(
        request.POST or None, teams=assignable_teams(user), editing=True, initial=initial
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                customer_update(
                    actor=user,
                    customer=customer,
                    data=CustomerInput(
                        name=data["name"],
                        kind=data["kind"],
                        mobile=data["mobile"],
                        region=data["region"],
                        industry=data["industry"],
                        note=data["note"],
                        serving_team_id=data["serving_team"],
                    ),
                )
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已保存修改。"))
                return redirect("customers:detail", customer_id=customer.pk)
        status = 422
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "creating": False, "customer": customer},
        status=status,
    )


@login_required
@require_POST
def customer_reveal_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = _get(request, customer_id)
        contacts = customer_reveal(actor=user, customer=customer)
    except Forbidden as exc:
        return _forbidden(request, exc)
    return render(
        request,
        "customers/partials/_contacts.html",
        {"customer": customer, "contacts": contacts, "revealed": True, "can_reveal": True},
    )


@login_required
@require_POST
def customer_export_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    q = request.POST.get("q", "")[:100].replace("\x00", "")
    try:
        customers = customer_list(user=user, q=q)
        content = customers_export_csv(actor=user, customers=customers.iterator(), query=q)
    except Forbidden as exc:
        return _forbidden(request, exc)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response
