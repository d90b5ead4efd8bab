"""The agent's ticket pages (server-rendered, Tabler, htmx): the queues with filters, a create
form, the detail page with the timeline, the allowed transitions and the reply form; the bell
(notifications); attachments served only to those who may see the ticket."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError
from kefu.customers.access import customers_for_user
from kefu.desk.access import attachment_get_for_user, ticket_get_for_user
from kefu.desk.downloads import attachment_response
from kefu.desk.listing import list_facets, page_row_facts, row_badges
from kefu.desk.models import Notification, Ticket
from kefu.desk.panels import detail_panels
from kefu.desk.selectors import (
    AGE_BUCKETS,
    AGE_KEYS,
    QUEUES,
    TicketFilters,
    capped_count,
    first_page_ids,
    list_count_cap,
    queue_counts,
    ticket_approvals,
    ticket_list,
    ticket_timeline_entries,
    unread_notifications,
)
from kefu.desk.services import (
    StepFields,
    TicketInput,
    comment_add,
    notifications_mark_read,
    ticket_create,
    ticket_transition,
)
from kefu.desk.workflow import allowed_targets, machine_for, status_label
from kefu.org.models import Department, Team, User
from kefu.web.helpers import form_id, refuse, request_user

PAGE_SIZE = 25
QUEUE_LABELS = {
    "mine": gettext_lazy("我的"),
    "team": gettext_lazy("本组"),
    "unassigned": gettext_lazy("未分派"),
    "at_risk": gettext_lazy("即将超时"),
    "breached": gettext_lazy("已超时"),
    "open": gettext_lazy("全部未结"),
    "all": gettext_lazy("全部"),
}
# Fields a transition form shows, by target status (the workflow says which are required).
STEP_INPUTS = {
    Ticket.Status.ASSESSED: ("complaint_level",),
    Ticket.Status.INVESTIGATING: ("responsible_department_id",),
    Ticket.Status.PROPOSED: ("liability", "root_cause", "proposal", "compensation_amount"),
    Ticket.Status.LIABILITY_DETERMINED: ("liability",),
    Ticket.Status.CLOSED: ("recovery_outcome",),
    Ticket.Status.ESCALATED: ("escalation_level",),
}


def _choice(value: str | None, choices: list[str]) -> str:
    return value if value in choices else ""


def _day(value: str | None) -> date | None:
    """A YYYY-MM-DD date from the query string, or None for anything else."""
    try:
        return date.fromisoformat(value or "") if len(value or "") == 10 else None
    except ValueError:
        return None


def _ids(value: str | None) -> tuple[int, ...]:
    """Comma-separated ids (at most 50), skipping what is not an id."""
    ids = (form_id(part) for part in (value or "").split(",")[:50])
    return tuple(sorted({id_ for id_ in ids if id_ is not None}))


# The drill-down filters (from the dashboard), shown above the list as chips and kept as hidden
# inputs when the form changes the other filters.
EXTRA_FILTERS = {
    "teams": gettext_lazy("班组"),
    "created_from": gettext_lazy("创建自"),
    "created_to": gettext_lazy("创建至"),
    "resolved_from": gettext_lazy("解决自"),
    "resolved_to": gettext_lazy("解决至"),
    "age": gettext_lazy("开单时长"),
    "unresolved": gettext_lazy("未解决（不含已解决待关闭）"),
}


def _extra_filter_chips(filters: TicketFilters) -> list[tuple[str, str, str]]:
    """(parameter, value as the query string has it, what the chip says) of each drill-down
    filter in use."""
    chips: list[tuple[str, str, str]] = []
    if filters.teams:
        names = Team.objects.filter(pk__in=filters.teams).order_by("name")
        shown = "、".join(team.name for team in names)
        ids = ",".join(map(str, filters.teams))
        chips.append(("teams", ids, f"{EXTRA_FILTERS['teams']}：{shown}"))
    for key in ("created_from", "created_to", "resolved_from", "resolved_to"):
        value = getattr(filters, key)
        if value is not None:
            chips.append((key, value.isoformat(), f"{EXTRA_FILTERS[key]}：{value.isoformat()}"))
    if filters.age:
        label = next(str(bucket.label) for bucket in AGE_BUCKETS if bucket.key == filters.age)
        chips.append(("age", filters.age, f"{EXTRA_FILTERS['age']}：{label}"))
    if filters.unresolved:
        chips.append(("unresolved", "1", str(EXTRA_FILTERS["unresolved"])))
    return chips


def _facet_filters(filters: TicketFilters) -> list[dict[str, Any]]:
    """Other apps' filters for the form (a select each) and the filter bar (quick links)."""
    chosen = dict(filters.facets)
    return [
        {
            "name": facet.name,
            "label": facet.label,
            "choices": facet.choices,
            "value": chosen.get(facet.name, ""),
            "quick": [(value, facet.choice_label(value)) for value in facet.quick],
        }
        for facet in list_facets()
    ]


def ticket_agents() -> list[User]:
    """Active staff who may work tickets (the assignee filter and the bulk assign list)."""
    return list(
        User.objects.filter(
            is_active=True,
            groups__permissions__content_type__app_label="desk",
            groups__permissions__codename="work_ticket",
        )
        .distinct()
        .order_by("display_name", "username")
    )


@login_required
def ticket_list_view(request: HttpRequest) -> HttpResponse:
    """The queues (with their sizes) and filters; the rows carry checkboxes for the bulk
    actions (kefu.workspace). Pages are offset pages over the id-descending indexes."""
    user = request_user(request)
    get = request.GET
    queue = get.get("queue", "open")
    if queue not in QUEUES:
        queue = "open"
    q = get.get("q", "")[:64].replace("\x00", "").strip()
    breached = {"1": True, "0": False}.get(get.get("breached", ""))
    filters = TicketFilters(
        queue="" if queue == "all" else queue,
        status=_choice(get.get("status"), Ticket.Status.values),
        type=_choice(get.get("type"), Ticket.Type.values),
        priority=_choice(get.get("priority"), Ticket.Priority.values),
        channel=_choice(get.get("channel"), Ticket.Channel.values),
        assignee=form_id(get.get("assignee")),
        team=form_id(get.get("team")),
        customer_id=form_id(get.get("customer")),
        breached=breached,
        q=q,
        teams=_ids(get.get("teams")),
        created_from=_day(get.get("created_from")),
        created_to=_day(get.get("created_to")),
        resolved_from=_day(get.get("resolved_from")),
        resolved_to=_day(get.get("resolved_to")),
        age=_choice(get.get("age"), list(AGE_KEYS)),
        unresolved=get.get("unresolved") == "1",
        # other apps' filters (work orders): an unknown value is ignored, as the others are
        facets=tuple(
            (facet.name, get[facet.name])
            for facet in list_facets()
            if get.get(facet.name) in facet.values()
        ),
    )
    try:
        tickets = ticket_list(user=user, filters=filters)
    except ApplicationError as exc:
        return refuse(request, exc)
    page_number = form_id(get.get("page")) or 1
    offset = (page_number - 1) * PAGE_SIZE
    cap = list_count_cap(q)
    if page_number == 1:
        # the first page and its capped count in one query (as the API's list does), then
        # the page's rows by id (one more than a page: is there a next one?)
        head, count = first_page_ids(tickets, PAGE_SIZE + 1, cap)
        rows = list(tickets.filter(id__in=head)) if head else []
    else:
        rows = list(tickets[offset : offset + PAGE_SIZE + 1])
        count = capped_count(tickets, cap)
    shown = rows[:PAGE_SIZE]
    # the badges other apps put on the rows (work orders): one query for the page's ids
    facts = page_row_facts([ticket.pk for ticket in shown], timezone.now())
    partial = bool(getattr(request, "htmx", False))  # set by django-htmx's middleware
    # the filters as a query string, for the pager and the queue tabs
    kept = request.GET.copy()
    kept.pop("page", None)
    context: dict[str, Any] = {
        "tickets": shown,
        "rows": [(ticket, row_badges(facts.get(ticket.pk, {}))) for ticket in shown],
        "has_next": len(rows) > PAGE_SIZE,
        "page_number": page_number,
        "count": count,
        "count_cap": cap,
        "queue": queue,
        "q": q,
        "filters": filters,
        "filter_query": kept.urlencode(),
        "can_bulk": user.has_perm("desk.change_ticket"),
        "can_use_replies": user.has_perm("desk.work_ticket"),
        "nav_section": "tickets",
    }
    if not partial:
        kept.pop("queue", None)
        counts = queue_counts(user)
        customer = None
        if filters.customer_id is not None:
            customer = customers_for_user(user).filter(pk=filters.customer_id).first()
        context.update(
            {
                "queues": [(key, QUEUE_LABELS[key], counts.get(key)) for key in QUEUES],
                "queue_query": kept.urlencode(),
                "types": Ticket.Type.choices,
                "statuses": Ticket.Status.choices,
                "priorities": Ticket.Priority.choices,
                "channels": Ticket.Channel.choices,
                "teams": list(Team.objects.order_by("name")),
                "agents": ticket_agents(),
                "filter_customer": customer,
                "extra_filters": _extra_filter_chips(filters),
                "facets": _facet_filters(filters),
                "can_create": user.has_perm("desk.add_ticket"),
                "can_cancel": user.has_perm("desk.supervise_ticket"),
                "can_view_load": user.has_perm("desk.supervise_ticket")
                or user.has_perm("desk.gm_ticket"),
                "next_url": request.get_full_path(),
            }
        )
    template = "desk/partials/_ticket_rows.html" if partial else "desk/ticket_list.html"
    return render(request, template, context)


@login_required
def ticket_create_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not user.has_perm("desk.add_ticket"):
        return render(
            request, "web/error.html", {"message": _("您没有新建工单的权限。")}, status=403
        )
    values: dict[str, Any] = {
        "type": "inquiry",
        "channel": "phone",
        "priority": "normal",
        "customer_id": request.GET.get("customer", ""),
    }
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {
            key: request.POST.get(key, "").strip()
            for key in ("type", "channel", "priority", "subject", "body", "customer_id")
        }
        try:
            ticket, _created = ticket_create(
                actor=user,
                data=TicketInput(
                    type=values["type"],
                    channel=values["channel"],
                    priority=values["priority"] or None,
                    subject=values["subject"],
                    body=values["body"],
                    customer_id=form_id(values["customer_id"]) if values["customer_id"] else None,
                ),
                idempotency_key=request.POST.get("idempotency_key", "")[:100],
            )
        except ApplicationError as exc:
            errors = exc.fields or {"__all__": [exc.message]}
            if "customer_id" not in errors and exc.status == 404:
                errors["customer_id"] = [exc.message]
            status = 422
        else:
            messages.success(request, _("已新建工单 %(number)s。") % {"number": ticket.number})
            return redirect("desk:detail", ticket_id=ticket.pk)
    customer = None
    customer_id = form_id(str(values.get("customer_id") or ""))
    if customer_id:
        customer = customers_for_user(user).filter(pk=customer_id).first()
    import uuid

    context = {
        "values": values,
        "general_errors": errors.pop("__all__", []),
        "errors": errors,
        "customer": customer,
        "types": Ticket.Type.choices,
        "channels": Ticket.Channel.choices,
        "priorities": Ticket.Priority.choices,
        "idempotency_key": uuid.uuid4().hex,
        "nav_section": "tickets",
    }
    return render(request, "desk/ticket_form.html", context, status=status)


def _detail_context(ticket: Ticket, user: User) -> dict[str, Any]:
    targets = allowed_targets(ticket, user)
    side_panels = detail_panels(ticket, user, "side")
    return {
        "ticket": ticket,
        "entries": ticket_timeline_entries(ticket),
        "actions": [
            {"to": to, "label": status_label(to), "inputs": STEP_INPUTS.get(Ticket.Status(to), ())}
            for to in targets
        ],
        "machine_statuses": [
            (status, status_label(status)) for status in machine_for(ticket.type).statuses
        ],
        "can_write": user.has_perm("desk.change_ticket"),
        "complaint_levels": Ticket.ComplaintLevel.choices,
        "liabilities": Ticket.Liability.choices,
        "root_causes": Ticket.RootCause.choices,
        "proposals": Ticket.Proposal.choices,
        "departments": Department.objects.all(),
        "approvals": ticket_approvals(ticket),
        "panels_main": detail_panels(ticket, user, "main"),
        # side panels ordered before 50 (the customer) come above the ticket's details, the
        # rest (portal link, mail) below its steps
        "panels_side_top": [p for p in side_panels if p["order"] < 50],
        "panels_side": [p for p in side_panels if p["order"] >= 50],
        "nav_section": "tickets",
    }


@login_required
def ticket_detail_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    try:
        ticket = ticket_get_for_user(user=user, ticket_id=ticket_id)
    except ApplicationError as exc:
        return refuse(request, exc)
    return render(request, "desk/ticket_detail.html", _detail_context(ticket, user))


@login_required
@require_POST
def ticket_transition_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    try:
        ticket = ticket_get_for_user(user=user, ticket_id=ticket_id, write=True)
    except ApplicationError as exc:
        return refuse(request, exc)
    post = request.POST

    def text(name: str) -> str | None:
        value = post.get(name, "").strip()
        return value or None

    step = StepFields(
        complaint_level=text("complaint_level"),
        responsible_department_id=form_id(post.get("responsible_department_id")),
        liability=text("liability"),
        root_cause=text("root_cause"),
        proposal=text("proposal"),
        compensation_amount=text("compensation_amount"),
        recovery_outcome=text("recovery_outcome"),
        escalation_level=form_id(post.get("escalation_level")),
        assignee_id=form_id(post.get("assignee_id")),
    )
    try:
        ticket_transition(
            actor=user, ticket=ticket, to=post.get("to", ""), note=post.get("note", ""), step=step
        )
    except ApplicationError as exc:
        detail = "；".join(message for messages_ in exc.fields.values() for message in messages_)
        messages.error(request, f"{exc.message} {detail}".strip())
    else:
        messages.success(request, _("已更新工单状态。"))
    return redirect("desk:detail", ticket_id=ticket_id)


@login_required
@require_POST
def ticket_comment_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    try:
        ticket = ticket_get_for_user(user=user, ticket_id=ticket_id, write=True)
        comment_add(
            actor=user,
            ticket=ticket,
            body=request.POST.get("body", ""),
            public=request.POST.get("public") == "1",
            files=request.FILES.getlist("files"),
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            return refuse(request, exc)
        detail = "；".join(m for ms in exc.fields.values() for m in ms)
        messages.error(request, f"{exc.message} {detail}".strip())
    else:
        messages.success(request, _("已保存。"))
    return redirect("desk:detail", ticket_id=ticket_id)


@login_required
def attachment_view(request: HttpRequest, ticket_id: int, attachment_id: int) -> HttpResponseBase:
    try:
        attachment = attachment_get_for_user(
            user=request_user(request), ticket_id=ticket_id, attachment_id=attachment_id
        )
    except ApplicationError as exc:
        return refuse(request, exc)
    return attachment_response(attachment)


@login_required
def notifications_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if request.method == "POST":
        notifications_mark_read(user=user)
        return redirect("desk:notifications")
    items = Notification.objects.filter(user=user).select_related("ticket").order_by("-id")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    unread, _latest = unread_notifications(user)
    return render(
        request,
        "desk/notifications.html",
        {"page": page, "unread": unread, "nav_section": "tickets"},
    )
