"""SLA on tickets through the kefu.sla contract. Expectations are computed with the contract's
own ``ticket_targets``/``clock_for``/``resume_due`` so they hold with the real business-hours
engine too; only the P1 tests (7x24 by domain.md §5) use plain clock arithmetic."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kefu.customers.models import Customer
from kefu.desk.escalation import tickets_sla_check
from kefu.desk.models import Notification, Ticket
from kefu.desk.services import (
    StepFields,
    TicketInput,
    comment_add,
    ticket_create,
    ticket_transition,
    ticket_update,
    tickets_retier,
)
from kefu.org.models import User
from kefu.sla.engine import clock_for, resume_due, ticket_targets

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning, a working day
St = Ticket.Status


def _create(actor: User, customer: Customer | None, **fields: Any) -> Ticket:
    now = fields.pop("now", T0)
    data = TicketInput(
        type=fields.pop("type", "inquiry"),
        channel="phone",
        subject=fields.pop("subject", "空调不制冷"),
        customer_id=customer.pk if customer else None,
        **fields,
    )
    return ticket_create(actor=actor, data=data, now=now)[0]


def _set(value: dt.datetime | None) -> dt.datetime:
    assert value is not None
    return value


def _expected(ticket: Ticket, *, tier: str = "", level: str = "") -> dict[str, dt.datetime]:
    targets = ticket_targets(
        ticket_type=ticket.type, priority=ticket.priority, tier=tier, complaint_level=level
    )
    clock = clock_for(ticket.team_id, business_hours=targets.business_hours)
    return {
        "response": clock.add(ticket.created_at, targets.response),
        "resolution": clock.add(ticket.created_at, targets.resolution),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("priority", ["low", "normal", "high", "urgent"])
def test_due_times_are_set_when_the_ticket_is_created(
    agent: User, customer: Customer, priority: str
) -> None:
    ticket = _create(agent, customer, priority=priority)
    stored = Ticket.objects.get(pk=ticket.pk)
    expected = _expected(stored, tier=customer.tier)
    assert stored.first_response_due == expected["response"]
    assert stored.resolution_due == expected["resolution"]
    assert stored.sla_next_check_at == stored.response_warn_at


@pytest.mark.django_db
def test_p1_runs_around_the_clock(agent: User, customer: Customer) -> None:
    night = dt.datetime(2026, 10, 1, 23, 0, tzinfo=SHANGHAI)  # National Day, at night
    ticket = _create(agent, customer, priority="urgent", now=night)
    assert ticket.first_response_due == night + dt.timedelta(minutes=30)
    assert ticket.resolution_due == night + dt.timedelta(hours=4)


@pytest.mark.django_db
def test_a_diamond_customer_gets_the_bumped_targets(agent: User, customer: Customer) -> None:
    customer.tier = Customer.Tier.DIAMOND
    customer.save(update_fields=["tier"])
    ticket = _create(agent, customer, priority="low")
    expected = _expected(ticket, tier="diamond")
    assert (ticket.tier, ticket.resolution_due) == ("diamond", expected["resolution"])


@pytest.mark.django_db
def test_a_failure_while_computing_the_sla_stores_no_ticket(
    agent: User, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("SLA engine down")

    monkeypatch.setattr("kefu.desk.sla.ticket_targets", broken)
    with pytest.raises(RuntimeError):
        _create(agent, customer)
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_pending_customer_pauses_and_resume_shifts_the_due_time(
    agent: User, customer: Customer
) -> None:
    ticket = _create(agent, customer)
    ticket_transition(actor=agent, ticket=ticket, to=St.IN_PROGRESS, now=T0)
    paused_at = T0 + dt.timedelta(hours=1)
    paused = ticket_transition(
        actor=agent, ticket=ticket, to=St.PENDING_CUSTOMER, note="等客户拍照", now=paused_at
    )
    assert paused.paused_at == paused_at
    assert paused.sla_next_check_at is None  # no clock runs: the task does not see it
    due_before = paused.resolution_due
    resumed_at = dt.datetime(2026, 3, 12, 14, 0, tzinfo=SHANGHAI)
    resumed = ticket_transition(actor=agent, ticket=paused, to=St.IN_PROGRESS, now=resumed_at)
    targets = ticket_targets(ticket_type="inquiry", priority="normal", tier=customer.tier)
    clock = clock_for(ticket.team_id, business_hours=targets.business_hours)
    assert resumed.paused_at is None
    assert resumed.resolution_due == resume_due(clock, _set(due_before), paused_at, resumed_at)
    assert resumed.paused_total == clock.between(paused_at, resumed_at)


@pytest.mark.django_db
def test_the_first_public_reply_stops_the_response_clock(agent: User, customer: Customer) -> None:
    ticket = _create(agent, customer)
    comment_add(actor=agent, ticket=ticket, body="内部：先查库存", public=False, now=T0)
    assert Ticket.objects.get(pk=ticket.pk).first_responded_at is None
    replied_at = T0 + dt.timedelta(minutes=20)
    comment_add(actor=agent, ticket=ticket, body="您好，已收到", public=True, now=replied_at)
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.first_responded_at == replied_at
    assert stored.sla_next_check_at == stored.resolution_warn_at


@pytest.mark.django_db
def test_resolved_stops_and_reopen_continues_the_resolution_clock(
    agent: User, customer: Customer
) -> None:
    ticket = _create(agent, customer)
    comment_add(actor=agent, ticket=ticket, body="您好", public=True, now=T0)
    ticket_transition(actor=agent, ticket=ticket, to=St.IN_PROGRESS, now=T0)
    resolved_at = T0 + dt.timedelta(hours=2)
    resolved = ticket_transition(
        actor=agent, ticket=ticket, to=St.RESOLVED, note="已指导重启", now=resolved_at
    )
    assert (resolved.resolved_at, resolved.sla_next_check_at) == (resolved_at, None)
    due_before = resolved.resolution_due
    reopened_at = dt.datetime(2026, 3, 13, 9, 30, tzinfo=SHANGHAI)
    reopened = ticket_transition(
        actor=agent, ticket=resolved, to=St.REOPENED, note="又不制冷了", now=reopened_at
    )
    targets = ticket_targets(ticket_type="inquiry", priority="normal", tier=customer.tier)
    clock = clock_for(ticket.team_id, business_hours=targets.business_hours)
    assert reopened.reopen_count == 1
    assert reopened.resolution_due == resume_due(clock, _set(due_before), resolved_at, reopened_at)
    assert reopened.sla_next_check_at is not None


@pytest.mark.django_db
def test_priority_change_recomputes_the_due_times(agent: User, customer: Customer) -> None:
    ticket = _create(agent, customer, priority="low")
    changed = ticket_update(actor=agent, ticket=ticket, data=TicketInput(priority="high"))
    expected = _expected(changed, tier=customer.tier)
    assert changed.first_response_due == expected["response"]
    assert changed.resolution_due == expected["resolution"]


@pytest.mark.django_db
def test_tier_change_recomputes_open_tickets(agent: User, customer: Customer) -> None:
    ticket = _create(agent, customer, priority="normal")
    customer.tier = Customer.Tier.DIAMOND
    customer.save(update_fields=["tier"])
    assert tickets_retier() == 1
    assert tickets_retier() == 0  # done once
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.resolution_due == _expected(stored, tier="diamond")["resolution"]


@pytest.mark.django_db
def test_a_complaint_has_a_closing_deadline_by_level(
    agent: User, customer: Customer, org: dict[str, Any]
) -> None:
    complaint = _create(agent, customer, type="complaint")
    ticket_transition(actor=agent, ticket=complaint, to=St.ACKNOWLEDGED, now=T0)
    assessed = ticket_transition(
        actor=agent,
        ticket=complaint,
        to=St.ASSESSED,
        step=StepFields(complaint_level="serious"),
        now=T0,
    )
    targets = ticket_targets(
        ticket_type="complaint", priority="normal", tier=customer.tier, complaint_level="serious"
    )
    assert targets.close_workdays
    clock = clock_for(complaint.team_id, business_hours=True)
    assert assessed.close_due == clock.add_workdays(complaint.created_at, targets.close_workdays)
    assert assessed.resolution_due is not None
    assert assessed.resolution_due <= assessed.close_due


# --- the periodic check -------------------------------------------------------------------------


@pytest.mark.django_db
def test_sla_check_warns_then_breaches_then_escalates_once_each(
    agent: User, supervisor: User, manager: User, customer: Customer
) -> None:
    ticket = _create(agent, customer, priority="urgent", assignee_id=agent.pk)
    Notification.objects.all().delete()

    def kinds(user: User) -> list[str]:
        return list(Notification.objects.filter(user=user).values_list("kind", flat=True))

    # 80 % of the response target: the assignee is warned, once however often the task runs
    warn = _set(ticket.response_warn_at) + dt.timedelta(seconds=1)
    assert tickets_sla_check(now=warn) == {"response_warn": 1}
    assert tickets_sla_check(now=warn) == {}
    assert kinds(agent) == ["sla_warning"]
    # the due time: breach → the team's supervisor
    breach = _set(ticket.first_response_due) + dt.timedelta(seconds=1)
    assert tickets_sla_check(now=breach) == {"response_breach": 1}
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.response_breached, stored.sla_breached) == (True, True)
    assert kinds(supervisor) == ["sla_breach"]
    # twice the target → the manager
    twice = _set(ticket.response_escalate_at) + dt.timedelta(seconds=1)
    assert tickets_sla_check(now=twice) == {"response_escalate": 1}
    assert kinds(manager) == ["sla_escalation"]
    assert tickets_sla_check(now=twice) == {}


@pytest.mark.django_db
def test_a_late_first_run_fires_every_passed_point_at_once(agent: User, customer: Customer) -> None:
    ticket = _create(agent, customer, priority="urgent", assignee_id=agent.pk)
    much_later = _set(ticket.resolution_escalate_at) + dt.timedelta(minutes=1)
    assert tickets_sla_check(now=much_later) == {
        "response_warn": 1,
        "response_breach": 1,
        "response_escalate": 1,
        "resolution_warn": 1,
        "resolution_breach": 1,
        "resolution_escalate": 1,
    }
    assert Ticket.objects.get(pk=ticket.pk).sla_next_check_at is None


@pytest.mark.django_db
def test_sla_check_skips_paused_and_closed_tickets(
    agent: User, supervisor: User, customer: Customer
) -> None:
    paused = _create(agent, customer, priority="urgent")
    ticket_transition(actor=agent, ticket=paused, to=St.IN_PROGRESS, now=T0)
    ticket_transition(actor=agent, ticket=paused, to=St.PENDING_CUSTOMER, note="等回复", now=T0)
    cancelled = _create(agent, customer, priority="urgent")
    ticket_transition(actor=supervisor, ticket=cancelled, to=St.CANCELLED, note="重复", now=T0)
    assert tickets_sla_check(now=T0 + dt.timedelta(days=30)) == {}
    assert not Ticket.objects.filter(sla_next_check_at__isnull=False).exists()


@pytest.mark.django_db
def test_the_check_command_runs_the_same_check(
    agent: User, customer: Customer, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import call_command

    _create(agent, customer, priority="urgent", now=T0 - dt.timedelta(days=1))
    call_command("check_ticket_sla")
    assert "resolution_breach=1" in capsys.readouterr().out
