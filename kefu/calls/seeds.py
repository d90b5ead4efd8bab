"""Phone for the demo company: the agents' lines (agent 8001, agent2 8002, supervisor 8101, so a
replayed call can ring on a demo login) and a year of calls from the customers' numbers, 15–30
a working day, with callback tasks for the recent missed ones. The last complete month is left
to the monthly report's demo data (kefu/reports/builtin/demo.py), which writes its own calls
for it. The large size adds nothing here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kefu.calls.hours import in_business_hours, next_business_start
from kefu.calls.models import AgentLine, Call, CallbackTask
from kefu.calls.services import CALLBACK_WITHIN
from kefu.core.seeding import SeedContext
from kefu.customers.models import Customer
from kefu.org.models import User

LINES = {"agent": "8001", "agent2": "8002", "supervisor": "8101"}
DAYS = 365


@transaction.atomic
def seed(ctx: SeedContext) -> None:
    if ctx.size == "large":
        return
    agents = []
    for username, extension in LINES.items():
        user = User.objects.filter(username=username).first()
        if user is not None:
            AgentLine.objects.get_or_create(user=user, defaults={"extension": extension})
            agents.append(user)
    if not agents or Call.objects.exists():
        ctx.out(f"  calls: {len(agents)} agent lines")
        return
    customers = list(
        Customer.objects.exclude(mobile="").order_by("id").values_list("id", "mobile")[:300]
    )
    rng = ctx.rng
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    calls: list[Call] = []
    report_month = today.replace(day=1) - dt.timedelta(days=1)  # the report seeder's month
    for back in range(DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() >= 5 or (day.year, day.month) == (report_month.year, report_month.month):
            continue
        for index in range(rng.randint(15, 30)):
            offered = dt.datetime.combine(day, dt.time(8, 30), tzinfo=zone) + dt.timedelta(
                seconds=rng.randint(0, 11 * 3600)
            )
            known = customers and rng.random() < 0.8
            customer_id, number = (
                rng.choice(customers) if known else (None, f"+86139{rng.randint(0, 10**8 - 1):08d}")
            )
            wait = Decimal(rng.choice((3, 5, 8, 12, 15, 18, 25, 40, 60, 90)))
            abandoned = rng.random() < 0.12
            agent = rng.choice(agents)
            answered_at = None if abandoned else offered + dt.timedelta(seconds=float(wait))
            talk = None if abandoned else Decimal(rng.randint(40, 600))
            # a third of the answered calls put the caller on hold; every one has wrap-up
            hold = None if abandoned else Decimal(rng.randint(10, 90) if rng.random() < 0.33 else 0)
            acw = None if abandoned else Decimal(rng.randint(15, 150))
            ended = offered + dt.timedelta(seconds=float(wait + (talk or 0)))
            calls.append(
                Call(
                    call_id=f"DEMO-{day:%Y%m%d}-{index:03d}",
                    caller=number,
                    called="4008001234",
                    queue=rng.choice(("售后", "咨询", "投诉")),
                    agent=agent,
                    agent_ref=LINES[agent.username],
                    customer_id=customer_id,
                    status=Call.Status.ENDED,
                    offered_at=offered,
                    ringing_at=offered + dt.timedelta(seconds=min(5, float(wait))),
                    answered_at=answered_at,
                    ended_at=ended,
                    wait_seconds=wait,
                    talk_seconds=talk,
                    hold_seconds=hold,
                    acw_seconds=acw,
                    outcome=Call.Outcome.ABANDONED if abandoned else Call.Outcome.ANSWERED,
                    out_of_hours=not in_business_hours(offered),
                )
            )
    Call.objects.bulk_create(calls)
    # the missed calls of the last two days still wait for their callback
    recent = today - dt.timedelta(days=3)
    tasks = 0
    for call in Call.objects.filter(
        outcome=Call.Outcome.ABANDONED, offered_at__date__gte=recent
    ).order_by("offered_at"):
        assert call.ended_at is not None
        task, created = CallbackTask.objects.get_or_create(
            number=call.caller,
            status=CallbackTask.Status.OPEN,
            defaults={
                "customer_id": call.customer_id,
                "reason": CallbackTask.Reason.OUT_OF_HOURS
                if call.out_of_hours
                else CallbackTask.Reason.ABANDONED,
                "due_at": next_business_start(call.ended_at) + CALLBACK_WITHIN,
                "assignee": call.agent,
            },
        )
        tasks += created
        Call.objects.filter(pk=call.pk).update(callback=task)
    ctx.out(f"  calls: {len(agents)} agent lines, {len(calls)} calls, {tasks} open callbacks")
