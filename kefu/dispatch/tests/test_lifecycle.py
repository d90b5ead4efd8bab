"""The work order's lifecycle (kefu.dispatch.workflow through the services): dispatch, accept,
complete; return and re-dispatch; cancel; who may take which step (403) and which steps exist
(409 with the allowed ones); what each step must carry; numbers, deadlines, retries."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.desk.models import Notification, Ticket
from kefu.desk.services import ticket_transition
from kefu.dispatch.models import WorkOrder, WorkOrderEvent
from kefu.dispatch.services import (
    workorder_default_deadline,
    workorder_dispatch,
    workorder_transition,
)
from kefu.org.models import Department, User

St = WorkOrder.Status
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.django_db
def test_full_lifecycle_records_who_and_when_for_each_step(
    agent: User, engineer: User, dispatch: Callable[..., WorkOrder]
) -> None:
    # given a work order sent to 维修部
    order = dispatch()
    assert re.fullmatch(r"PG\d{8}-0001", order.number)
    assert order.status == St.DISPATCHED
    assert order.created_by == agent
    assert order.deadline > timezone.now()
    # when the engineer accepts it, then completes it with the result
    workorder_transition(actor=engineer, work_order=order, to=St.ACCEPTED)
    done = workorder_transition(
        actor=engineer, work_order=order, to=St.COMPLETED, result="更换排水管，已试机正常"
    )
    # then every step is on the order, in its events and in the audit log
    assert done.status == St.COMPLETED
    assert done.accepted_by == engineer
    assert done.accepted_at is not None
    assert done.completed_by == engineer
    assert done.result == "更换排水管，已试机正常"
    steps = list(
        WorkOrderEvent.objects.filter(work_order=order).values_list(
            "from_status", "to_status", "actor__username", "note"
        )
    )
    assert steps == [
        ("", "dispatched", "agent", "请派师傅上门检查空调漏水"),
        ("dispatched", "accepted", "engineer", ""),
        ("accepted", "completed", "engineer", "更换排水管，已试机正常"),
    ]
    audited = AuditEvent.objects.filter(object_type="dispatch.workorder", object_id=str(order.pk))
    assert [event.action for event in audited.order_by("id")] == ["create", "update", "update"]
    # the department heard of the new order; the ticket's assignee heard of its completion
    assert Notification.objects.filter(user=engineer, message__contains=order.number).exists()
    assert Notification.objects.filter(
        user=agent, ticket=order.ticket, message__contains="已由维修部完成"
    ).exists()


@pytest.mark.django_db
def test_numbers_are_unique_per_day(dispatch: Callable[..., WorkOrder]) -> None:
    first, second = dispatch(), dispatch(instructions="再派一张")
    assert first.number != second.number
    assert second.number.endswith("-0002")


@pytest.mark.django_db
def test_return_then_redispatch_to_another_department(
    agent: User,
    engineer: User,
    salesman: User,
    org: dict[str, Any],
    dispatch: Callable[..., WorkOrder],
) -> None:
    order = dispatch()
    workorder_transition(actor=engineer, work_order=order, to=St.ACCEPTED)
    # the department returns it, with a reason
    returned = workorder_transition(
        actor=engineer, work_order=order, to=St.RETURNED, note="不在保修范围，需销售报价"
    )
    assert returned.status == St.RETURNED
    assert returned.reason == "不在保修范围，需销售报价"
    assert returned.returned_by == engineer
    assert Notification.objects.filter(user=agent, message__contains="退回").exists()
    # the desk re-dispatches it to 销售部 with a new deadline
    new_deadline = timezone.now() + dt.timedelta(days=3)
    again = workorder_transition(
        actor=agent,
        work_order=order,
        to=St.DISPATCHED,
        department_id=org["sales"].pk,
        deadline=new_deadline,
        note="请联系客户报价",
    )
    assert again.status == St.DISPATCHED
    assert again.department == org["sales"]
    assert again.deadline == new_deadline
    assert again.dispatch_count == 2
    assert again.accepted_by is None
    assert again.number == order.number
    # the new department works it; the old one no longer may
    with pytest.raises(Forbidden):
        workorder_transition(actor=engineer, work_order=order, to=St.ACCEPTED)
    workorder_transition(actor=salesman, work_order=order, to=St.ACCEPTED)
    events = list(order.events.values_list("to_status", "department__code"))
    assert events == [
        ("dispatched", "repair"),
        ("accepted", "repair"),
        ("returned", "repair"),
        ("dispatched", "sales"),
        ("accepted", "sales"),
    ]


@pytest.mark.django_db
def test_redispatch_to_the_same_department_by_default(
    agent: User, engineer: User, repair: Department, dispatch: Callable[..., WorkOrder]
) -> None:
    order = dispatch()
    workorder_transition(actor=engineer, work_order=order, to=St.RETURNED, note="地址不全")
    again = workorder_transition(
        actor=agent, work_order=order, to=St.DISPATCHED, instructions="地址：浦东新区张江路 88 号"
    )
    assert again.department == repair
    assert again.instructions == "地址：浦东新区张江路 88 号"


@pytest.mark.django_db
def test_the_desk_cancels_with_a_reason(
    agent: User, engineer: User, dispatch: Callable[..., WorkOrder]
) -> None:
    order = dispatch()
    with pytest.raises(ApplicationError) as refused:
        workorder_transition(actor=agent, work_order=order, to=St.CANCELLED)
    assert refused.value.fields == {"note": ["请填写原因。"]}
    cancelled = workorder_transition(
        actor=agent, work_order=order, to=St.CANCELLED, note="客户已自行解决"
    )
    assert cancelled.status == St.CANCELLED
    assert cancelled.cancelled_by == agent
    assert Notification.objects.filter(user=engineer, message__contains="已撤销").exists()


@pytest.mark.django_db
def test_a_wrong_role_is_403_with_the_allowed_steps(
    agent: User, engineer: User, outsider: User, dispatch: Callable[..., WorkOrder]
) -> None:
    order = dispatch()
    # the desk may not accept for the department
    with pytest.raises(Forbidden) as desk_accepts:
        workorder_transition(actor=agent, work_order=order, to=St.ACCEPTED)
    assert "承办部门" in desk_accepts.value.message
    assert desk_accepts.value.extra["allowed"] == [St.CANCELLED]
    # the department may not cancel
    with pytest.raises(Forbidden) as department_cancels:
        workorder_transition(actor=engineer, work_order=order, to=St.CANCELLED, note="不想做")
    assert department_cancels.value.extra["allowed"] == [St.ACCEPTED, St.RETURNED]
    # an agent of another team (not the ticket's) holds no role on it
    with pytest.raises(Forbidden) as stranger:
        workorder_transition(actor=outsider, work_order=order, to=St.CANCELLED, note="x")
    assert stranger.value.extra["allowed"] == []
    order.refresh_from_db()
    assert order.status == St.DISPATCHED


@pytest.mark.django_db
def test_a_step_that_does_not_exist_is_409_with_the_allowed_ones(
    engineer: User, dispatch: Callable[..., WorkOrder]
) -> None:
    order = dispatch()
    with pytest.raises(Conflict) as skipped:
        workorder_transition(actor=engineer, work_order=order, to=St.COMPLETED, result="好了")
    assert skipped.value.code == "transition_not_allowed"
    assert "不能转到“已完成”" in skipped.value.message
    assert skipped.value.extra["allowed"] == [St.ACCEPTED, St.RETURNED]
    with pytest.raises(Conflict):
        workorder_transition(actor=engineer, work_order=order, to="finished")
    workorder_transition(actor=engineer, work_order=order, to=St.ACCEPTED)
    workorder_transition(actor=engineer, work_order=order, to=St.COMPLETED, result="好了")
    with pytest.raises(Conflict) as after_the_end:
        workorder_transition(actor=engineer, work_order=order, to=St.RETURNED, note="再退")
    assert after_the_end.value.extra["allowed"] == []
    assert order.events.count() == 3


@pytest.mark.django_db
def test_completion_needs_the_result_and_a_return_its_reason(
    engineer: User, dispatch: Callable[..., WorkOrder]
) -> None:
    order = dispatch()
    with pytest.raises(ApplicationError) as no_reason:
        workorder_transition(actor=engineer, work_order=order, to=St.RETURNED, note="  ")
    assert no_reason.value.status == 400
    assert "note" in no_reason.value.fields
    workorder_transition(actor=engineer, work_order=order, to=St.ACCEPTED)
    with pytest.raises(ApplicationError) as no_result:
        workorder_transition(actor=engineer, work_order=order, to=St.COMPLETED)
    assert no_result.value.fields == {"result": ["请填写处理结果。"]}
    with pytest.raises(ApplicationError) as control:
        workorder_transition(actor=engineer, work_order=order, to=St.COMPLETED, result="a\x00b")
    assert "result" in control.value.fields
    order.refresh_from_db()
    assert order.status == St.ACCEPTED
    # the note stands in for the result
    done = workorder_transition(actor=engineer, work_order=order, to=St.COMPLETED, note="已修好")
    assert done.result == "已修好"


@pytest.mark.django_db
def test_dispatch_checks_its_input_and_changes_nothing_on_error(
    agent: User, ticket: Ticket, repair: Department
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"department_id": None}, "department_id"),
        ({"department_id": 999_999}, "department_id"),
        ({"instructions": "   "}, "instructions"),
        ({"instructions": "x" * 2001}, "instructions"),
        ({"deadline": timezone.now() - dt.timedelta(minutes=1)}, "deadline"),
        ({"deadline": timezone.now() + dt.timedelta(days=400)}, "deadline"),
    ]
    for given, field in cases:
        values: dict[str, Any] = {
            "department_id": repair.pk,
            "instructions": "上门检查",
            **given,
        }
        with pytest.raises(ApplicationError) as refused:
            workorder_dispatch(actor=agent, ticket=ticket, **values)
        assert refused.value.status == 400
        assert field in refused.value.fields, given
        assert refused.value.message == "提交的内容有误，请检查标出的字段。"
    assert not WorkOrder.objects.exists()


@pytest.mark.django_db
def test_only_the_desk_dispatches(engineer: User, ticket: Ticket, repair: Department) -> None:
    with pytest.raises(Forbidden):
        workorder_dispatch(
            actor=engineer, ticket=ticket, department_id=repair.pk, instructions="上门"
        )
    assert not WorkOrder.objects.exists()


@pytest.mark.django_db
def test_a_retried_dispatch_returns_the_first_order(
    agent: User, ticket: Ticket, repair: Department
) -> None:
    first, created = workorder_dispatch(
        actor=agent,
        ticket=ticket,
        department_id=repair.pk,
        instructions="上门",
        idempotency_key="retry-1",
    )
    again, created_again = workorder_dispatch(
        actor=agent,
        ticket=ticket,
        department_id=repair.pk,
        instructions="上门（重试）",
        idempotency_key="retry-1",
    )
    assert created
    assert not created_again
    assert again.pk == first.pk
    assert WorkOrder.objects.count() == 1


@pytest.mark.django_db
def test_no_dispatch_for_a_resolved_ticket(
    agent: User, supervisor: User, ticket: Ticket, repair: Department
) -> None:
    ticket_transition(actor=supervisor, ticket=ticket, to="cancelled", note="重复报修")
    with pytest.raises(Conflict) as refused:
        workorder_dispatch(actor=agent, ticket=ticket, department_id=repair.pk, instructions="x")
    assert "不能派工" in refused.value.message
    assert not WorkOrder.objects.exists()


@pytest.mark.django_db
def test_the_default_deadline_counts_working_days_from_the_next_opening(ticket: Ticket) -> None:
    # Friday 2026-11-27 20:00, after hours: counts from Monday 09:00, two working days later
    friday_evening = dt.datetime(2026, 11, 27, 20, 0, tzinfo=SHANGHAI)
    assert workorder_default_deadline(ticket=ticket, now=friday_evening) == dt.datetime(
        2026, 12, 2, 9, 0, tzinfo=SHANGHAI
    )
    # Wednesday 10:30 in hours: Friday 10:30
    wednesday = dt.datetime(2026, 11, 25, 10, 30, tzinfo=SHANGHAI)
    assert workorder_default_deadline(ticket=ticket, now=wednesday) == dt.datetime(
        2026, 11, 27, 10, 30, tzinfo=SHANGHAI
    )
    # National Day 2026 (Oct 1–7 off): dispatched Wednesday Sep 30 → Friday Oct 9
    before_holiday = dt.datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI)
    assert workorder_default_deadline(ticket=ticket, now=before_holiday) == dt.datetime(
        2026, 10, 9, 15, 0, tzinfo=SHANGHAI
    )
    with override_settings(WORKORDER_DEADLINE_WORKDAYS=5):
        assert workorder_default_deadline(ticket=ticket, now=wednesday) == dt.datetime(
            2026, 12, 2, 10, 30, tzinfo=SHANGHAI
        )
