"""The ticket cannot be resolved or closed while a work order is open (the desk's transition
guard), and an order past its deadline is announced once (the periodic task)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.utils import timezone

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import Conflict
from kefu.desk.models import Notification, Ticket
from kefu.desk.services import ticket_transition
from kefu.dispatch.models import WorkOrder
from kefu.dispatch.services import workorder_transition, workorders_overdue_notify
from kefu.dispatch.tasks import workorders_overdue_check_task
from kefu.org.models import User

St = WorkOrder.Status


@pytest.mark.django_db
def test_the_ticket_cannot_close_while_its_work_orders_are_open(
    agent: User,
    engineer: User,
    supervisor: User,
    ticket: Ticket,
    dispatch: Callable[..., WorkOrder],
) -> None:
    # given a ticket in progress with two orders, one accepted, one completed
    ticket_transition(actor=agent, ticket=ticket, to="in_progress")
    open_order = dispatch()
    done = dispatch(instructions="寄送配件")
    workorder_transition(actor=engineer, work_order=done, to=St.ACCEPTED)
    workorder_transition(actor=engineer, work_order=done, to=St.COMPLETED, result="已寄出")
    workorder_transition(actor=engineer, work_order=open_order, to=St.ACCEPTED)
    # when the agent resolves the ticket, then it is refused naming the open order only
    with pytest.raises(Conflict) as refused:
        ticket_transition(actor=agent, ticket=ticket, to="resolved", note="已修好")
    assert refused.value.code == "transition_guarded"
    assert open_order.number in refused.value.message
    assert "维修部" in refused.value.message
    assert done.number not in refused.value.message
    # cancelling the ticket (a final status) is refused too
    with pytest.raises(Conflict):
        ticket_transition(actor=supervisor, ticket=ticket, to="cancelled", note="客户撤回")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    # other steps are not concerned
    ticket_transition(actor=agent, ticket=ticket, to="pending_customer", note="等客户确认时间")
    ticket_transition(actor=agent, ticket=ticket, to="in_progress")
    # once the order is completed the ticket resolves and closes
    workorder_transition(actor=engineer, work_order=open_order, to=St.COMPLETED, result="已修好")
    ticket_transition(actor=agent, ticket=ticket, to="resolved", note="已修好")
    ticket_transition(actor=agent, ticket=ticket, to="closed")
    ticket.refresh_from_db()
    assert ticket.status == "closed"


@pytest.mark.django_db
def test_returned_and_cancelled_orders_do_not_hold_the_ticket(
    agent: User, engineer: User, ticket: Ticket, dispatch: Callable[..., WorkOrder]
) -> None:
    ticket_transition(actor=agent, ticket=ticket, to="in_progress")
    returned, cancelled = dispatch(), dispatch(instructions="第二张")
    workorder_transition(actor=engineer, work_order=returned, to=St.RETURNED, note="不归我们")
    workorder_transition(actor=agent, work_order=cancelled, to=St.CANCELLED, note="不需要了")
    ticket_transition(actor=agent, ticket=ticket, to="resolved", note="电话指导解决")
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    # and a returned order may not be re-dispatched on a resolved ticket
    with pytest.raises(Conflict) as refused:
        workorder_transition(actor=agent, work_order=returned, to=St.DISPATCHED)
    assert "不能派工" in refused.value.message


@pytest.mark.django_db
def test_an_overdue_order_is_announced_once(
    agent: User,
    engineer: User,
    make_user: Callable[..., User],
    dispatch: Callable[..., WorkOrder],
) -> None:
    # a second member of 维修部, by department only (no team)
    colleague = make_user("engineer2", "engineer", department="repair")
    order = dispatch(deadline=timezone.now() + dt.timedelta(hours=1))
    not_late = dispatch(deadline=timezone.now() + dt.timedelta(days=1))
    done = dispatch(deadline=timezone.now() + dt.timedelta(hours=1))
    workorder_transition(actor=engineer, work_order=done, to=St.ACCEPTED)
    workorder_transition(actor=engineer, work_order=done, to=St.COMPLETED, result="好了")
    Notification.objects.all().delete()
    later = timezone.now() + dt.timedelta(hours=2)
    # when the check runs twice (and a worker runs it a third time)
    assert workorders_overdue_notify(now=later) == 1
    assert workorders_overdue_notify(now=later + dt.timedelta(minutes=5)) == 0
    workorders_overdue_check_task()
    # then the assignee (with the ticket's link) and each department member heard of it once
    notices = Notification.objects.filter(message__contains=order.number)
    assert sorted(notices.values_list("user__username", flat=True)) == [
        "agent",
        "engineer",
        "engineer2",
    ]
    assert notices.get(user=agent).ticket_id == order.ticket_id
    assert notices.get(user=colleague).ticket_id is None
    assert all(n.kind == Notification.Kind.WORK_ORDER_OVERDUE for n in notices)
    assert "已逾期" in notices[0].message
    assert not Notification.objects.filter(message__contains=not_late.number).exists()
    assert not Notification.objects.filter(message__contains=done.number).exists()
    order.refresh_from_db()
    assert order.overdue_notified_at is not None
    assert AuditEvent.objects.filter(
        object_type="dispatch.workorder", object_id=str(order.pk), field="overdue_notified_at"
    ).exists()


@pytest.mark.django_db
def test_a_redispatch_gets_a_new_notice_when_it_is_late_again(
    agent: User, engineer: User, dispatch: Callable[..., WorkOrder]
) -> None:
    order = dispatch(deadline=timezone.now() + dt.timedelta(minutes=30))
    assert workorders_overdue_notify(now=timezone.now() + dt.timedelta(hours=1)) == 1
    workorder_transition(actor=engineer, work_order=order, to=St.RETURNED, note="缺配件")
    # a returned order is not overdue: the clock is the desk's now
    assert workorders_overdue_notify(now=timezone.now() + dt.timedelta(hours=2)) == 0
    workorder_transition(
        actor=agent,
        work_order=order,
        to=St.DISPATCHED,
        deadline=timezone.now() + dt.timedelta(hours=1),
    )
    order.refresh_from_db()
    assert order.overdue_notified_at is None
    assert workorders_overdue_notify(now=timezone.now() + dt.timedelta(hours=3)) == 1


@pytest.mark.django_db
def test_the_overdue_command_runs_the_check(dispatch: Callable[..., WorkOrder]) -> None:
    order = dispatch()
    WorkOrder.objects.filter(pk=order.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    out = io.StringIO()
    call_command("check_workorders_overdue", stdout=out)
    assert out.getvalue().strip() == "1"
    order.refresh_from_db()
    assert order.overdue_notified_at is not None
    assert order.is_overdue
