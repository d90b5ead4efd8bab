"""The lifecycles of domain.md §4 (kefu.desk.workflow): every allowed transition of every type
taken by a role that may take it, a disallowed one per type (409 with the allowed ones), a
role refused per type (403), sign-offs by amount and by panel, escalation levels and their
notifications, and the records each step leaves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.desk.models import Notification, Ticket, TicketTransition
from kefu.desk.services import StepFields, ticket_transition
from kefu.desk.workflow import (
    AGENT,
    FINANCE,
    GM,
    MACHINES,
    MANAGER,
    QUALITY,
    SUPERVISOR,
    SYSTEM,
    Transition,
)
from kefu.org.models import User

St = Ticket.Status
ROLE_ORDER = (AGENT, SUPERVISOR, MANAGER, QUALITY, FINANCE, GM, SYSTEM)
CASES = [
    (ticket_type, source, transition)
    for ticket_type, machine in MACHINES.items()
    if ticket_type in ("inquiry", "complaint", "claim", "arbitration")
    for transition in machine.transitions
    for source in sorted(transition.sources)
]


def _case_id(case: tuple[str, str, Transition]) -> str:
    ticket_type, source, transition = case
    return f"{ticket_type}:{source}->{transition.target}"


@pytest.fixture
def people(
    agent: User, supervisor: User, manager: User, finance: User, quality: User, gm: User
) -> dict[str, User | None]:
    return {
        AGENT: agent,
        SUPERVISOR: supervisor,
        MANAGER: manager,
        FINANCE: finance,
        QUALITY: quality,
        GM: gm,
        SYSTEM: None,
    }


def _full_step(org: dict[str, Any]) -> StepFields:
    return StepFields(
        complaint_level="general",
        responsible_department_id=org["service"].pk,
        liability="supplier",
        root_cause="product",
        proposal="refund",
        compensation_amount="100.00",
        recovery_outcome="客户表示满意",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
def test_every_allowed_transition_moves_the_ticket(
    case: tuple[str, str, Transition],
    open_ticket: Callable[..., Ticket],
    people: dict[str, User | None],
    org: dict[str, Any],
) -> None:
    # given a ticket of the type, standing at the transition's source
    ticket_type, source, transition = case
    ticket = open_ticket(ticket_type)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=source,
        resolved_at=timezone.now() - dt.timedelta(days=1),
        compensation_amount=Decimal("100.00"),
    )
    ticket.refresh_from_db()
    role = next(role for role in ROLE_ORDER if role in transition.roles)
    # when a person of the first role allowed takes it (a sign-off of ¥100 needs one)
    moved = ticket_transition(
        actor=people[role],
        ticket=ticket,
        to=transition.target,
        note="处理说明",
        step=_full_step(org),
    )
    # then the ticket moved and the step was recorded
    if transition.signoff == "panel" and role != GM:
        assert moved.status == source  # the panel needs the others too
        return
    assert moved.status == transition.target
    step = TicketTransition.objects.filter(ticket=ticket).order_by("-id").first()
    assert step is not None
    assert (step.from_status, step.to_status, step.note) == (source, transition.target, "处理说明")
    assert AuditEvent.objects.filter(
        object_type="desk.ticket", object_id=str(ticket.pk), field="status"
    ).exists()


DISALLOWED = [
    ("inquiry", St.CLOSED, [St.OPEN, St.IN_PROGRESS]),  # cancelling is the supervisor's
    ("repair", St.RESOLVED, [St.OPEN, St.IN_PROGRESS]),
    ("complaint", St.CLOSED, [St.ACKNOWLEDGED, St.WITHDRAWN]),
    ("claim", St.APPROVED, [St.DOCS_REVIEW]),
    ("arbitration", St.DECIDED, []),  # the agent may take none of FILED's steps
]


@pytest.mark.django_db
@pytest.mark.parametrize(("ticket_type", "target", "allowed"), DISALLOWED)
def test_a_disallowed_transition_is_a_conflict_listing_the_allowed_ones(
    ticket_type: str,
    target: str,
    allowed: list[str],
    open_ticket: Callable[..., Ticket],
    agent: User,
) -> None:
    ticket = open_ticket(ticket_type)
    with pytest.raises(Conflict) as refused:
        ticket_transition(actor=agent, ticket=ticket, to=target, note="x")
    assert refused.value.status == 409
    assert refused.value.extra["allowed"] == allowed
    assert Ticket.objects.get(pk=ticket.pk).status == ticket.status


ROLE_REFUSED = [
    ("inquiry", St.IN_PROGRESS, St.CANCELLED, AGENT),  # cancelling needs a supervisor
    ("complaint", St.ASSESSED, St.INVESTIGATING, AGENT),  # the supervisor picks the owner dept
    ("claim", St.INVESTIGATING, St.LIABILITY_DETERMINED, SUPERVISOR),  # quality decides
    ("claim", St.CONFIRMED, St.SETTLING, AGENT),  # finance settles
    ("arbitration", St.FILED, St.ACCEPTED, SUPERVISOR),  # the manager accepts
]


@pytest.mark.django_db
@pytest.mark.parametrize(("ticket_type", "source", "target", "role"), ROLE_REFUSED)
def test_a_role_that_may_not_take_a_step_is_forbidden(
    ticket_type: str,
    source: str,
    target: str,
    role: str,
    open_ticket: Callable[..., Ticket],
    people: dict[str, User | None],
    org: dict[str, Any],
) -> None:
    ticket = open_ticket(ticket_type)
    Ticket.objects.filter(pk=ticket.pk).update(status=source)
    ticket.refresh_from_db()
    with pytest.raises(Forbidden):
        ticket_transition(
            actor=people[role], ticket=ticket, to=target, note="x", step=_full_step(org)
        )
    assert Ticket.objects.get(pk=ticket.pk).status == source


@pytest.mark.django_db
def test_steps_that_need_a_reason_or_fields_say_which(
    open_ticket: Callable[..., Ticket], supervisor: User, agent: User
) -> None:
    ticket = open_ticket("inquiry")
    with pytest.raises(ApplicationError) as no_note:
        ticket_transition(actor=supervisor, ticket=ticket, to=St.CANCELLED)
    assert no_note.value.fields.get("note")
    complaint = open_ticket("complaint")
    ticket_transition(actor=agent, ticket=complaint, to=St.ACKNOWLEDGED)
    with pytest.raises(ApplicationError) as no_level:
        ticket_transition(actor=agent, ticket=complaint, to=St.ASSESSED)
    assert "complaint_level" in no_level.value.fields
    with pytest.raises(ApplicationError) as bad_level:
        ticket_transition(
            actor=agent,
            ticket=complaint,
            to=St.ASSESSED,
            step=StepFields(complaint_level="huge"),
        )
    assert "complaint_level" in bad_level.value.fields


@pytest.mark.django_db
def test_reopen_only_within_seven_days_of_resolution(
    open_ticket: Callable[..., Ticket], agent: User
) -> None:
    ticket = open_ticket("inquiry")
    Ticket.objects.filter(pk=ticket.pk).update(
        status=St.CLOSED, resolved_at=timezone.now() - dt.timedelta(days=8)
    )
    ticket.refresh_from_db()
    with pytest.raises(Conflict, match="7 天"):
        ticket_transition(actor=agent, ticket=ticket, to=St.REOPENED, note="客户又来电")


def _at(ticket: Ticket, status: str, **fields: Any) -> Ticket:
    Ticket.objects.filter(pk=ticket.pk).update(status=status, **fields)
    ticket.refresh_from_db()
    return ticket


@pytest.mark.django_db
def test_claim_approval_follows_the_amount_thresholds(
    open_ticket: Callable[..., Ticket],
    supervisor: User,
    manager: User,
    finance: User,
    gm: User,
) -> None:
    # ≤ ¥2,000: the supervisor alone
    small = _at(open_ticket("claim"), St.PROPOSED, compensation_amount=Decimal("1500"))
    assert ticket_transition(actor=supervisor, ticket=small, to=St.APPROVED).status == St.APPROVED
    # ≤ ¥20,000: the manager AND finance; the supervisor may not
    middle = _at(open_ticket("claim"), St.PROPOSED, compensation_amount=Decimal("15000"))
    with pytest.raises(Forbidden):
        ticket_transition(actor=supervisor, ticket=middle, to=St.APPROVED)
    after_manager = ticket_transition(actor=manager, ticket=middle, to=St.APPROVED)
    assert after_manager.status == St.PROPOSED
    assert Notification.objects.filter(
        user=finance, ticket=middle, kind=Notification.Kind.APPROVAL
    ).exists()
    with pytest.raises(Conflict):  # the manager cannot sign twice
        ticket_transition(actor=manager, ticket=middle, to=St.APPROVED)
    after_finance = ticket_transition(actor=finance, ticket=middle, to=St.APPROVED)
    assert after_finance.status == St.APPROVED
    assert sorted(after_finance.approvals.values_list("role", flat=True)) == [FINANCE, MANAGER]
    # more: the general manager
    large = _at(open_ticket("claim"), St.PROPOSED, compensation_amount=Decimal("50000"))
    with pytest.raises(Forbidden):
        ticket_transition(actor=manager, ticket=large, to=St.APPROVED)
    assert ticket_transition(actor=gm, ticket=large, to=St.APPROVED).status == St.APPROVED


@pytest.mark.django_db
@override_settings(TICKET_APPROVAL_SUPERVISOR_LIMIT=20_000)
def test_approval_thresholds_are_settings(
    open_ticket: Callable[..., Ticket], supervisor: User
) -> None:
    claim = _at(open_ticket("claim"), St.PROPOSED, compensation_amount=Decimal("15000"))
    assert ticket_transition(actor=supervisor, ticket=claim, to=St.APPROVED).status == St.APPROVED


@pytest.mark.django_db
def test_a_new_proposal_needs_new_signoffs(
    open_ticket: Callable[..., Ticket], agent: User, manager: User, finance: User
) -> None:
    claim = _at(
        open_ticket("claim"),
        St.PROPOSED,
        compensation_amount=Decimal("15000"),
        liability="supplier",
        proposal="refund",
    )
    ticket_transition(actor=manager, ticket=claim, to=St.APPROVED)
    ticket_transition(actor=manager, ticket=claim, to=St.LIABILITY_DETERMINED, note="金额偏高")
    ticket_transition(
        actor=agent, ticket=claim, to=St.PROPOSED, step=StepFields(compensation_amount="12000")
    )
    assert ticket_transition(actor=finance, ticket=claim, to=St.APPROVED).status == St.PROPOSED


@pytest.mark.django_db
def test_arbitration_panel_is_manager_quality_finance_or_the_gm(
    open_ticket: Callable[..., Ticket], manager: User, quality: User, finance: User
) -> None:
    case = _at(open_ticket("arbitration"), St.EVIDENCE)
    for person in (manager, quality):
        assert ticket_transition(actor=person, ticket=case, to=St.DECIDED, note="裁决").status == (
            St.EVIDENCE
        )
    decided = ticket_transition(
        actor=finance, ticket=case, to=St.DECIDED, note="质量问题成立，由供应商承担"
    )
    assert decided.status == St.DECIDED
    assert decided.decision == "质量问题成立，由供应商承担"


@pytest.mark.django_db
def test_complaint_escalation_climbs_levels_and_tells_the_next_level(
    open_ticket: Callable[..., Ticket],
    agent: User,
    supervisor: User,
    manager: User,
    gm: User,
) -> None:
    complaint = _at(open_ticket("complaint"), St.RESPONDED)
    escalated = ticket_transition(actor=agent, ticket=complaint, to=St.ESCALATED, note="不接受")
    assert escalated.escalation_level == 2
    assert Notification.objects.filter(user=supervisor, kind="escalation").count() == 1
    again = ticket_transition(actor=supervisor, ticket=escalated, to=St.ESCALATED, note="仍不满")
    assert again.escalation_level == 3
    assert Notification.objects.filter(user=manager, kind="escalation").count() == 1
    top = ticket_transition(
        actor=manager,
        ticket=again,
        to=St.ESCALATED,
        note="要求总经理处理",
        step=StepFields(escalation_level=4),
    )
    assert top.escalation_level == 4
    assert Notification.objects.filter(user=gm, kind="escalation").count() == 1


@pytest.mark.django_db
def test_a_major_complaint_alerts_the_manager_and_the_gm_at_once(
    open_ticket: Callable[..., Ticket], agent: User, manager: User, gm: User
) -> None:
    complaint = _at(open_ticket("complaint"), St.ACKNOWLEDGED)
    ticket_transition(
        actor=agent, ticket=complaint, to=St.ASSESSED, step=StepFields(complaint_level="major")
    )
    for person in (manager, gm):
        assert Notification.objects.filter(user=person, kind="major_complaint").exists()


@pytest.mark.django_db
def test_escalating_to_arbitration_opens_a_linked_arbitration_case(
    open_ticket: Callable[..., Ticket], manager: User
) -> None:
    complaint = _at(open_ticket("complaint"), St.ESCALATED)
    ticket_transition(actor=manager, ticket=complaint, to=St.ARBITRATION, note="责任有争议")
    case = Ticket.objects.get(parent=complaint)
    assert (case.type, case.status, case.customer_id) == (
        "arbitration",
        St.FILED,
        complaint.customer_id,
    )
    assert case.resolution_due is not None


@pytest.mark.django_db
def test_a_confirmed_claim_against_a_supplier_opens_recovery(
    open_ticket: Callable[..., Ticket], agent: User
) -> None:
    claim = _at(open_ticket("claim"), St.APPROVED, liability="supplier")
    assert ticket_transition(actor=agent, ticket=claim, to=St.CONFIRMED).recovery_status == "open"
