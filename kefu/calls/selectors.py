"""Reads of the calls context, scoped to the user: an agent sees their own calls and the callback
tasks that are theirs or nobody's; supervisors and managers (calls.view_all_calls) see all."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.calls import screenpop
from kefu.calls.hooks import ticket_maker, ticket_types
from kefu.calls.models import Call, CallbackTask
from kefu.core.exceptions import Forbidden, NotFound
from kefu.customers.access import customer_get_for_user
from kefu.customers.archive import timeline_for
from kefu.org.models import User

MAX_ID = 2**63 - 1


def calls_for_user(user: User | AnonymousUser) -> QuerySet[Call]:
    if not user.has_perm("calls.view_call"):
        raise Forbidden(_("您没有查看通话记录的权限。"))
    calls = Call.objects.select_related("agent", "customer")
    if user.has_perm("calls.view_all_calls"):
        return calls
    return calls.filter(agent_id=user.pk)


def call_get_for_user(*, user: User | AnonymousUser, call_pk: int) -> Call:
    call = calls_for_user(user).filter(pk=call_pk).first() if 0 < call_pk <= MAX_ID else None
    if call is None:
        raise NotFound(_("通话不存在。"))
    return call


def callbacks_for_user(
    user: User | AnonymousUser, *, status: str | None = None
) -> QuerySet[CallbackTask]:
    if not user.has_perm("calls.view_callbacktask"):
        raise Forbidden(_("您没有查看回呼任务的权限。"))
    tasks = CallbackTask.objects.select_related("customer", "assignee")
    if not user.has_perm("calls.view_all_calls"):
        tasks = tasks.filter(Q(assignee_id=user.pk) | Q(assignee__isnull=True))
    if status:
        tasks = tasks.filter(status=status)
    return tasks


def callback_get_for_user(*, user: User | AnonymousUser, task_pk: int) -> CallbackTask:
    task = callbacks_for_user(user).filter(pk=task_pk).first() if 0 < task_pk <= MAX_ID else None
    if task is None:
        raise NotFound(_("回呼任务不存在。"))
    return task


def pop_call_for_agent(*, user: User, seen: str) -> Call | None:
    """The call to pop on this agent's screen, or None when there is nothing new.

    The common answer (nothing new) costs one cache read and no query."""
    token = screenpop.pop_token(user_id=user.pk)
    if token is None or token == seen or not token.isdigit():
        return None
    return (
        Call.objects.select_related("customer", "contact", "callback")
        .filter(pk=int(token), agent_id=user.pk)
        .first()
    )


def pop_card_context(*, call: Call, user: User) -> dict[str, Any]:
    """What the screen pop shows: the caller's card, what the archive knows of them (when the
    agent may open that customer), and the open callbacks for the number."""
    customer = call.customer
    in_scope = False
    timeline: list[Any] = []
    if customer is not None:
        try:
            customer_get_for_user(user=user, customer_id=customer.pk)
        except (NotFound, Forbidden):
            in_scope = False
        else:
            in_scope = True
            timeline = timeline_for(customer, user, limit=5)
    open_callbacks = list(
        CallbackTask.objects.filter(
            number=call.customer_number, status=CallbackTask.Status.OPEN
        ).order_by("due_at")[:3]
    )
    return {
        "call": call,
        "customer": customer,
        "in_scope": in_scope,
        "timeline": timeline,
        "open_callbacks": open_callbacks,
        "can_make_ticket": ticket_maker() is not None and call.ticket_id is None,
        "ticket_types": ticket_types() if ticket_maker() is not None else [],
        "can_add_customer": customer is None
        and user.has_perm("customers.add_customer")
        and call.customer_number.startswith("+86"),
    }
