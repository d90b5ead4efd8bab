"""The demo seeder sends work from the open demo tickets through the services, in every state;
the large seed adds none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from kefu.core.seeding import make_context
from kefu.customers.models import Customer
from kefu.desk.models import Notification
from kefu.desk.services import TicketInput, ticket_create
from kefu.dispatch import seeds
from kefu.dispatch.models import WorkOrder
from kefu.org.models import User


@pytest.mark.django_db
def test_demo_work_orders_cover_every_state_and_are_not_added_twice(
    agent: User, engineer: User, customer: Customer
) -> None:
    # given open repair tickets opened over the last days
    now = timezone.now()
    for days in range(8):
        ticket_create(
            actor=agent,
            data=TicketInput(
                type="repair",
                channel="phone",
                subject=f"空调故障{days}",
                customer_id=customer.pk,
                assignee_id=agent.pk,
            ),
            now=now - dt.timedelta(days=days, hours=1),
        )
    ctx = make_context(size="demo", seed=7, out=lambda line: None)
    ctx.shared["staff"] = {"agent": agent, "engineer": engineer}
    # when
    seeds.seed(ctx)
    # then
    statuses = set(WorkOrder.objects.values_list("status", flat=True))
    assert {"dispatched", "accepted", "completed", "returned"} <= statuses
    assert WorkOrder.objects.count() == 7 + 1  # the plan's seven states, then one more
    overdue = WorkOrder.objects.filter(status__in=("dispatched", "accepted"), deadline__lt=now)
    assert overdue.exists()
    assert all(order.overdue_notified_at for order in overdue)
    assert Notification.objects.filter(user=engineer, kind="work_order_overdue").exists()
    for order in WorkOrder.objects.all():
        times = [event.created_at for event in order.events.all()]
        assert times == sorted(times)
        assert times[-1] <= timezone.now()
    # a second run adds nothing; the large seed none either
    seeds.seed(ctx)
    seeds.seed(make_context(size="large", seed=7, out=lambda line: None))
    assert WorkOrder.objects.count() == 8


@pytest.mark.django_db
def test_no_tickets_no_work_orders(org: dict[str, object], make_user: Callable[..., User]) -> None:
    seeds.seed(make_context(size="demo", seed=7, out=lambda line: None))
    assert not WorkOrder.objects.exists()
