"""/workorders/: the desk's monitor of every open work order, a department's inbox with its
accept / return / complete buttons, one order's page, and the ticket page's panel with the
dispatch form. Plain POST-redirect forms; the services do the work."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError
from kefu.desk.access import ticket_get_for_user
from kefu.desk.models import Ticket
from kefu.dispatch.access import (
    is_desk,
    member_department_ids,
    sees_ticket,
    workorder_get_for_user,
    workorder_roles,
    workorders_for_user,
)
from kefu.dispatch.models import WorkOrder
from kefu.dispatch.selectors import (
    ACTIVE_FILTER,
    WorkOrderFilters,
    department_counts,
    inbox_departments,
    inbox_list,
    parse_statuses,
    ticket_workorders,
    workorder_list,
)
from kefu.dispatch.services import (
    deadline_parse,
    ticket_dispatch_refusal,
    workorder_default_deadline,
    workorder_dispatch,
    workorder_transition,
)
from kefu.dispatch.workflow import ACTION_LABELS, DEPARTMENT, DESK, OPEN, allowed_targets
from kefu.org.models import Department, User
from kefu.web.helpers import form_id, refuse, request_user

PAGE_SIZE = 50
INBOX_TABS = (
    ("open", gettext_lazy("待办")),
    ("dispatched", gettext_lazy("待接单")),
    ("accepted", gettext_lazy("处理中")),
    ("completed", gettext_lazy("已完成")),
    ("returned", gettext_lazy("已退回")),
    ("all", gettext_lazy("全部")),
)


def _local_input(moment: Any) -> str:
    """A datetime as a datetime-local input's value (local wall time, minutes)."""
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def order_actions(
    order: WorkOrder, roles: frozenset[str], *, ticket_open: bool = True
) -> list[dict[str, Any]]:
    """The buttons (with the inputs each step needs) this user has on the order; no
    re-dispatch while the ticket takes no work (resolved, closed, merged)."""
    return [
        {"to": to, "label": str(ACTION_LABELS[to])}
        for to in allowed_targets(order.status, roles)
        if ticket_open or to != WorkOrder.Status.DISPATCHED
    ]


def _roles_seen_from_ticket(user: User, order: WorkOrder) -> frozenset[str]:
    """Roles for someone already on the ticket's page (they see the ticket: no query)."""
    roles = set()
    if user.is_superuser or is_desk(user):
        roles.add(DESK)
    if user.is_superuser or order.department_id in member_department_ids(user):
        roles.add(DEPARTMENT)
    return frozenset(roles)


def ticket_panel_context(ticket: Ticket, user: User) -> dict[str, Any] | None:
    """The ticket page's card: the ticket's orders with their history and buttons, and the
    dispatch form for the desk while the ticket is open."""
    if not user.has_perm("desk.view_ticket"):
        return None
    orders = list(ticket_workorders(ticket))
    refusal = ticket_dispatch_refusal(ticket)
    rows = [
        {
            "order": order,
            "actions": order_actions(
                order, _roles_seen_from_ticket(user, order), ticket_open=refusal is None
            ),
        }
        for order in orders
    ]
    can_dispatch = is_desk(user) and refusal is None
    context: dict[str, Any] = {
        "rows": rows,
        "ticket": ticket,
        "can_dispatch": can_dispatch,
        "refusal": refusal,
        "next": reverse("desk:detail", args=[ticket.pk]) + "#work-orders",
        "departments": Department.objects.order_by("id") if is_desk(user) else [],
        "open_count": sum(1 for order in orders if order.status in OPEN),
    }
    if can_dispatch:
        context["default_deadline"] = _local_input(
            workorder_default_deadline(ticket=ticket, now=timezone.now())
        )
        context["idempotency_key"] = uuid.uuid4().hex
    return context


@login_required
def monitor_view(request: HttpRequest) -> HttpResponse:
    """Every open work order the desk sees: filters, counts per department, overdue rows red
    and due-soon rows orange. Staff who only receive work orders go to their inbox."""
    user = request_user(request)
    if not is_desk(user):
        if user.is_superuser or member_department_ids(user):
            return redirect("dispatch:inbox")
        return refuse(request, ApplicationError(_("您没有查看派工单的权限。"), status=403))
    status_param = request.GET.get("status", ACTIVE_FILTER)[:100]
    statuses, _unknown = parse_statuses(status_param)
    if not statuses and status_param != "all":
        status_param, statuses = ACTIVE_FILTER, parse_statuses(ACTIVE_FILTER)[0]
    overdue = {"1": True, "0": False}.get(request.GET.get("overdue", ""))
    department_id = form_id(request.GET.get("department"))
    scope = workorders_for_user(user)
    orders = workorder_list(
        user=user,
        filters=WorkOrderFilters(statuses=statuses, department_id=department_id, overdue=overdue),
        base=scope,
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "counts": department_counts(scope),
        "departments": Department.objects.order_by("id"),
        "statuses": WorkOrder.Status.choices,
        "status_param": status_param,
        "department_id": department_id,
        "overdue": overdue,
        "has_inbox": user.is_superuser or bool(member_department_ids(user)),
        "nav_section": "workorders",
    }
    return render(request, "dispatch/monitor.html", context)


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    """A department's work orders, with the accept / return / complete buttons."""
    user = request_user(request)
    departments = inbox_departments(user)
    tab = request.GET.get("tab", "open")
    if tab not in dict(INBOX_TABS):
        tab = "open"
    statuses = {"open": OPEN, "all": ()}.get(tab, (tab,))
    department_id = form_id(request.GET.get("department"))
    ids = [d.pk for d in departments if department_id in (None, d.pk)]
    orders = inbox_list(user, department_ids=ids, statuses=tuple(statuses))
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    member_of = member_department_ids(user)
    rows = []
    for order in page.object_list:
        roles = (
            frozenset({DEPARTMENT})
            if user.is_superuser or order.department_id in member_of
            else frozenset()
        )
        rows.append({"order": order, "actions": order_actions(order, roles)})
    context = {
        "page": page,
        "rows": rows,
        "departments": departments,
        "department_id": department_id,
        "tab": tab,
        "tabs": INBOX_TABS,
        "next": request.get_full_path(),
        "is_desk": is_desk(user),
        "nav_section": "workorders",
    }
    return render(request, "dispatch/inbox.html", context)


@login_required
def detail_view(request: HttpRequest, work_order_id: int) -> HttpResponse:
    user = request_user(request)
    try:
        order = workorder_get_for_user(user=user, work_order_id=work_order_id)
    except ApplicationError as exc:
        return refuse(request, exc)
    roles = workorder_roles(user, order)
    context = {
        "order": order,
        "events": order.events.select_related("actor", "department"),
        "actions": order_actions(
            order, roles, ticket_open=ticket_dispatch_refusal(order.ticket) is None
        ),
        "departments": Department.objects.order_by("id") if DESK in roles else [],
        "default_deadline": _local_input(
            workorder_default_deadline(ticket=order.ticket, now=timezone.now())
        ),
        "sees_ticket": sees_ticket(user, order.ticket),
        "next": reverse("dispatch:detail", args=[order.pk]),
        "nav_section": "workorders",
    }
    return render(request, "dispatch/detail.html", context)


def _next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _error_text(exc: ApplicationError) -> str:
    detail = "；".join(message for found in exc.fields.values() for message in found)
    return f"{exc.message} {detail}".strip()


@login_required
@require_POST
def transition_view(request: HttpRequest, work_order_id: int) -> HttpResponse:
    user = request_user(request)
    try:
        order = workorder_get_for_user(user=user, work_order_id=work_order_id)
    except ApplicationError as exc:
        return refuse(request, exc)
    post = request.POST
    errors: dict[str, list[str]] = {}
    deadline = deadline_parse(post.get("deadline", ""), errors)
    try:
        if errors:
            raise ApplicationError(
                _("提交的内容有误，请检查标出的字段。"), status=400, fields=errors
            )
        workorder_transition(
            actor=user,
            work_order=order,
            to=post.get("to", "")[:16],
            note=post.get("note", ""),
            result=post.get("result", ""),
            department_id=form_id(post.get("department_id")),
            deadline=deadline,
            instructions=post.get("instructions") or None,
        )
    except ApplicationError as exc:
        if exc.status == 404:
            return refuse(request, exc)
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("派工单 %(number)s 已更新。") % {"number": order.number})
    return redirect(_next(request, reverse("dispatch:detail", args=[order.pk])))


@login_required
@require_POST
def dispatch_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    try:
        ticket = ticket_get_for_user(user=user, ticket_id=ticket_id, write=True)
    except ApplicationError as exc:
        return refuse(request, exc)
    post = request.POST
    errors: dict[str, list[str]] = {}
    deadline = deadline_parse(post.get("deadline", ""), errors)
    try:
        if errors:
            raise ApplicationError(
                _("提交的内容有误，请检查标出的字段。"), status=400, fields=errors
            )
        order, _created = workorder_dispatch(
            actor=user,
            ticket=ticket,
            department_id=form_id(post.get("department_id")),
            instructions=post.get("instructions", ""),
            deadline=deadline,
            idempotency_key=post.get("idempotency_key", "")[:100],
        )
    except ApplicationError as exc:
        if exc.status == 404:
            return refuse(request, exc)
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("已派工单 %(number)s 给%(department)s。")
            % {"number": order.number, "department": order.department.name},
        )
    return redirect(reverse("desk:detail", args=[ticket.pk]) + "#work-orders")
