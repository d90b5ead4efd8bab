"""Bulk actions on the ticket list: all or nothing, through the desk's services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError
from kefu.desk.models import Ticket, TicketTransition
from kefu.org.models import User
from kefu.workspace.services import BulkRefused, tickets_bulk

pytestmark = pytest.mark.django_db


def test_bulk_assign_gives_every_ticket_to_the_agent_and_audits_each(
    agent: User,
    supervisor: User,
    org: dict[str, Any],
    open_ticket: Callable[..., Ticket],
) -> None:
    tickets = [open_ticket(team_id=0) for _ in range(3)]
    changed = tickets_bulk(
        actor=supervisor,
        ids=[t.pk for t in tickets],
        action="assign",
        assignee_id=agent.pk,
        team_id=org["team_a"].pk,
    )
    assert changed == 3
    assert set(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("assignee_id", "team_id")
    ) == {(agent.pk, org["team_a"].pk)}
    audited = AuditEvent.objects.filter(
        object_type="desk.ticket", action="update", actor=supervisor
    )
    assert audited.count() == 3


def test_one_refusal_rolls_back_the_whole_bulk_and_every_reason_is_listed(
    agent: User,
    open_ticket: Callable[..., Ticket],
    working: Callable[[Ticket], Ticket],
    outsider: User,
) -> None:
    # given two tickets in work and one still new (new → resolved is not a step)
    first, second = working(open_ticket()), working(open_ticket())
    fresh = open_ticket()
    steps_before = TicketTransition.objects.count()

    # when the agent resolves all three at once
    with pytest.raises(BulkRefused) as refused:
        tickets_bulk(
            actor=agent,
            ids=[first.pk, fresh.pk, second.pk, 999_999],
            action="resolve",
            note="已电话解答",
        )

    # then nothing changed and the refusals say which and why
    assert {t.status for t in Ticket.objects.filter(pk__in=[first.pk, second.pk])} == {
        Ticket.Status.IN_PROGRESS
    }
    assert TicketTransition.objects.count() == steps_before
    failures = {number: reason for _id, number, reason in refused.value.failures}
    assert set(failures) == {fresh.number, "#999999"}
    assert "不能转到“已解决”" in failures[fresh.number]
    assert "不存在" in failures["#999999"]
    assert refused.value.status == 409


def test_bulk_resolve_moves_every_ticket_through_its_lifecycle(
    agent: User, open_ticket: Callable[..., Ticket], working: Callable[[Ticket], Ticket]
) -> None:
    tickets = [working(open_ticket()) for _ in range(2)]
    tickets_bulk(actor=agent, ids=[t.pk for t in tickets], action="resolve", note="已解答")
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.RESOLVED
        assert ticket.transitions.last().note == "已解答"  # type: ignore[union-attr]


def test_bulk_close_closes_every_resolved_ticket_and_records_each_step(
    agent: User, open_ticket: Callable[..., Ticket], working: Callable[[Ticket], Ticket]
) -> None:
    # given three tickets the customer confirmed resolved
    tickets = [working(open_ticket()) for _ in range(3)]
    ids = [t.pk for t in tickets]
    tickets_bulk(actor=agent, ids=ids, action="resolve", note="已解答")
    # when the agent closes them at once
    changed = tickets_bulk(actor=agent, ids=ids, action="close", note="客户确认")
    # then every one is closed, with its own closing step by the agent
    assert changed == 3
    for ticket in Ticket.objects.filter(pk__in=ids):
        assert ticket.status == Ticket.Status.CLOSED
        last = ticket.transitions.order_by("id").last()
        assert last is not None
        assert (last.from_status, last.to_status, last.actor_id) == ("resolved", "closed", agent.pk)
    assert TicketTransition.objects.filter(ticket_id__in=ids, to_status="closed").count() == 3


def test_bulk_input_errors_are_clear_and_change_nothing(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    with pytest.raises(ApplicationError) as no_note:
        tickets_bulk(actor=agent, ids=[ticket.pk], action="resolve", note="")
    assert no_note.value.fields["note"] == ["解决或取消工单需要填写说明。"]
    with pytest.raises(ApplicationError) as nothing:
        tickets_bulk(actor=agent, ids=[], action="assign")
    assert "请先勾选" in nothing.value.fields["ids"][0]
    with pytest.raises(ApplicationError) as whom:
        tickets_bulk(actor=agent, ids=[ticket.pk], action="assign")
    assert whom.value.fields["assignee_id"] == ["请选择处理人或班组。"]


def test_the_bulk_page_lists_the_refusals_with_409(
    agent: User, open_ticket: Callable[..., Ticket], login: Callable[[User], Client]
) -> None:
    ticket = open_ticket()
    response = login(agent).post(
        "/workspace/bulk/",
        {"ids": [str(ticket.pk)], "action": "close", "note": "", "next": "/tickets/?queue=mine"},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert ticket.number in page
    assert "所有工单均未修改" in page
    assert "/tickets/?queue=mine" in page


def test_the_bulk_page_redirects_back_after_success_and_never_off_site(
    agent: User,
    open_ticket: Callable[..., Ticket],
    working: Callable[[Ticket], Ticket],
    login: Callable[[User], Client],
) -> None:
    ticket = working(open_ticket())
    client = login(agent)
    response = client.post(
        "/workspace/bulk/",
        {
            "ids": [str(ticket.pk)],
            "action": "assign",
            "assignee_id": str(agent.pk),
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/tickets/"
    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk


def test_an_outsider_cannot_touch_tickets_outside_their_scope(
    outsider: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    with pytest.raises(BulkRefused):
        tickets_bulk(actor=outsider, ids=[ticket.pk], action="assign", assignee_id=outsider.pk)
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
