"""Pages of the calls context: the screen pop poll, callback tasks, the call list, and the pop's
two actions (new customer from the number, call → ticket)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.calls.models import Call, CallbackTask
from kefu.calls.selectors import (
    call_get_for_user,
    callback_get_for_user,
    callbacks_for_user,
    calls_for_user,
    pop_call_for_agent,
    pop_card_context,
)
from kefu.calls.services import call_make_ticket, callback_record_attempt
from kefu.core.exceptions import ApplicationError
from kefu.core.phones import national_mobile
from kefu.customers.views import CREATE_PREFILL_SESSION_KEY
from kefu.org.models import User

PAGE_SIZE = 20
# htmx stops polling on this status (a logged-out browser must not keep asking)
STOP_POLLING = 286


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _refuse(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


def screen_pop_view(request: HttpRequest) -> HttpResponse:
    """Polled by every agent's browser (every SCREEN_POP_POLL_MS): 204 unless a new call rang
    on them.

    The cheap path is one cache read (plus the session and user lookups of any request)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return HttpResponse(status=STOP_POLLING)
    seen = request.GET.get("seen", "")[:20]
    call = pop_call_for_agent(user=user, seen=seen)
    if call is None:
        return HttpResponse(status=204)
    context = pop_card_context(call=call, user=user)
    context["token"] = str(call.pk)
    context["poll_ms"] = settings.SCREEN_POP_POLL_MS
    return render(request, "calls/partials/_screen_pop.html", context)


@login_required
def callback_list_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    status = request.GET.get("status", CallbackTask.Status.OPEN)
    if status not in CallbackTask.Status.values and status != "all":
        status = CallbackTask.Status.OPEN
    try:
        tasks = callbacks_for_user(user, status=None if status == "all" else status)
    except ApplicationError as exc:
        return _refuse(request, exc)
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "calls/callback_list.html",
        {
            "page": page,
            "status": status,
            "statuses": [("all", _("全部")), *CallbackTask.Status.choices],
            "can_change": user.has_perm("calls.change_callbacktask"),
        },
    )


@login_required
@require_POST
def callback_attempt_view(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _user(request)
    error = ""
    try:
        task = callback_get_for_user(user=user, task_pk=task_id)
        task = callback_record_attempt(
            task=task,
            actor=user,
            result=request.POST.get("result", ""),
            note=request.POST.get("note", "")[:600],
        )
    except ApplicationError as exc:
        if exc.status == 404:
            return _refuse(request, exc)
        error = exc.message
        task = callback_get_for_user(user=user, task_pk=task_id)
        status = exc.status
    else:
        status = 200
    if getattr(request, "htmx", False):  # set by django-htmx's middleware
        return render(
            request,
            "calls/partials/_callback_row.html",
            {"task": task, "error": error, "can_change": True},
            status=status,
        )
    return redirect("calls:callbacks")


@login_required
def call_list_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        calls = calls_for_user(user)
    except ApplicationError as exc:
        return _refuse(request, exc)
    outcome = request.GET.get("outcome", "")
    if outcome in (Call.Outcome.ANSWERED, Call.Outcome.ABANDONED):
        calls = calls.filter(outcome=outcome)
    page = Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "calls/call_list.html", {"page": page, "outcome": outcome})


@login_required
def call_new_customer_view(request: HttpRequest, call_id: int) -> HttpResponse:
    """The pop's "新建客户": the customer form, prefilled with the caller's number. The number
    travels in the session, not in the URL (access logs would keep it)."""
    user = _user(request)
    try:
        call = call_get_for_user(user=user, call_pk=call_id)
    except ApplicationError as exc:
        return _refuse(request, exc)
    number = call.customer_number
    if number.startswith("+86"):
        request.session[CREATE_PREFILL_SESSION_KEY] = {
            "mobile": national_mobile(number),
            "source": str(_("来电")),
        }
    return redirect("customers:create")


@login_required
@require_POST
def call_make_ticket_view(request: HttpRequest, call_id: int) -> HttpResponse:
    user = _user(request)
    try:
        call = call_get_for_user(user=user, call_pk=call_id)
        url = call_make_ticket(
            call=call,
            actor=user,
            ticket_type=request.POST.get("type", "").strip()[:20],
            subject=request.POST.get("subject", "")[:200],
        )
    except ApplicationError as exc:
        return _refuse(request, exc)
    if getattr(request, "htmx", False):  # set by django-htmx's middleware
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url or reverse("calls:list"))
