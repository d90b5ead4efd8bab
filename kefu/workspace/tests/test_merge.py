"""Merging ticket B into ticket A: copies, lifecycle, refusals, the page and the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Conflict
from kefu.customers.models import Customer
from kefu.desk.models import Ticket, TicketAttachment
from kefu.desk.services import comment_add, ticket_transition
from kefu.org.models import User
from kefu.workspace.services import closing_path, ticket_merge

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(
    agent: User, open_ticket: Callable[..., Ticket], working: Callable[[Ticket], Ticket]
) -> tuple[Ticket, Ticket]:
    """A (kept) and B (merged away), both in work, B with a reply and a file."""
    keep = working(open_ticket(subject="空调漏水"))
    duplicate = working(open_ticket(subject="空调又漏水了", body="客户第二次来电"))
    comment_add(
        actor=agent,
        ticket=duplicate,
        body="已安排师傅",
        public=True,
        files=[SimpleUploadedFile("现场.jpg", b"\xff\xd8jpeg", content_type="image/jpeg")],
    )
    return keep, duplicate


def test_merge_copies_b_to_a_as_notes_and_ends_b_through_its_lifecycle(
    agent: User, pair: tuple[Ticket, Ticket]
) -> None:
    keep, duplicate = pair
    ticket_merge(actor=agent, source=duplicate, target=keep)

    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == keep.pk
    # an agent may not cancel: the shortest way is resolved → closed, each step noted
    steps = list(duplicate.transitions.values_list("to_status", "note"))[-2:]
    assert steps == [
        ("resolved", f"已合并到 {keep.number}"),
        ("closed", f"已合并到 {keep.number}"),
    ]
    notes = list(keep.comments.order_by("id").values_list("public", "body"))
    assert all(not public for public, _body in notes)
    assert notes[0][1].startswith(f"合并自 {duplicate.number}")
    assert "客户第二次来电" in notes[0][1]
    assert notes[1][1].startswith(f"合并自 {duplicate.number}")
    assert "已安排师傅" in notes[1][1]
    assert f"已将工单 {duplicate.number}" in notes[-1][1]
    copy = TicketAttachment.objects.get(ticket=keep)
    assert (copy.filename, copy.file.read()) == ("现场.jpg", b"\xff\xd8jpeg")
    assert TicketAttachment.objects.filter(ticket=duplicate).count() == 1  # B keeps its own
    assert AuditEvent.objects.filter(field="merge", object_id=str(keep.pk)).exists()
    assert AuditEvent.objects.filter(field="merged_into", object_id=str(duplicate.pk)).exists()


def test_a_supervisor_merge_cancels_b_in_one_step(
    supervisor: User, pair: tuple[Ticket, Ticket]
) -> None:
    keep, duplicate = pair
    assert closing_path(duplicate, supervisor, duplicate.created_at) == ["cancelled"]
    ticket_merge(actor=supervisor, source=duplicate, target=keep)
    duplicate.refresh_from_db()
    assert duplicate.status == Ticket.Status.CANCELLED


def _unchanged(ticket: Ticket) -> None:
    before = (ticket.status, ticket.merged_into_id, ticket.comments.count())
    ticket.refresh_from_db()
    assert (ticket.status, ticket.merged_into_id, ticket.comments.count()) == before


def test_merge_refusals_change_nothing(
    agent: User,
    org: dict[str, Any],
    pair: tuple[Ticket, Ticket],
    open_ticket: Callable[..., Ticket],
) -> None:
    keep, duplicate = pair
    with pytest.raises(ApplicationError) as itself:
        ticket_merge(actor=agent, source=keep, target=keep)
    assert itself.value.fields["into"] == ["工单不能合并到自己。"]

    other = Customer.objects.create(name="另一家公司", serving_team=org["team_a"])
    stranger = open_ticket(customer_id=other.pk)
    with pytest.raises(Conflict, match="同一客户"):
        ticket_merge(actor=agent, source=stranger, target=keep)

    closed = open_ticket()
    Ticket.objects.filter(pk=closed.pk).update(status=Ticket.Status.CLOSED)
    with pytest.raises(Conflict, match="不能合并"):
        ticket_merge(actor=agent, source=duplicate, target=closed)

    ticket_merge(actor=agent, source=duplicate, target=keep)
    third = open_ticket()
    with pytest.raises(Conflict, match="不能再作为合并目标"):
        ticket_merge(actor=agent, source=third, target=duplicate)
    for ticket in (keep, third, stranger):
        _unchanged(ticket)


def test_a_claim_the_agent_cannot_end_is_not_merged(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    keep = open_ticket()
    claim = open_ticket("claim")
    with pytest.raises(Conflict, match="不能按流程结束"):
        ticket_merge(actor=agent, source=claim, target=keep)
    _unchanged(claim)


def test_a_transition_guard_veto_undoes_the_copies(
    agent: User, pair: tuple[Ticket, Ticket]
) -> None:
    from kefu.desk import signals

    keep, duplicate = pair
    signals.register_transition_guard("test-merge", lambda t, to, a: "派工单未完成")
    try:
        with pytest.raises(Conflict, match="派工单未完成"):
            ticket_merge(actor=agent, source=duplicate, target=keep)
    finally:
        signals._guards.pop("test-merge")
    assert keep.comments.count() == 0
    _unchanged(duplicate)


def test_merge_from_the_ticket_page_by_number(
    agent: User, pair: tuple[Ticket, Ticket], login: Callable[[User], Client]
) -> None:
    keep, duplicate = pair
    client = login(agent)
    page = client.get(f"/tickets/{duplicate.pk}/").content.decode()
    assert 'data-testid="merge-form"' in page
    response = client.post(f"/workspace/tickets/{duplicate.pk}/merge/", {"into": keep.number})
    assert response["Location"] == f"/tickets/{keep.pk}/"
    assert 'data-testid="merged-into"' in client.get(f"/tickets/{duplicate.pk}/").content.decode()
    unknown = client.post(f"/workspace/tickets/{keep.pk}/merge/", {"into": "GD20000101-000001"})
    assert unknown.status_code == 302  # back to the ticket with the message
    follow = client.get(unknown["Location"]).content.decode()
    assert "找不到工单" in follow


def test_merge_over_the_api(
    agent: User,
    outsider: User,
    pair: tuple[Ticket, Ticket],
    api_as: Callable[[User], Any],
) -> None:
    keep, duplicate = pair
    assert (
        api_as(outsider)
        .post(f"/api/v1/tickets/{duplicate.pk}/merge", {"into": keep.pk})
        .status_code
        == 404
    )
    answer = api_as(agent).post(f"/api/v1/tickets/{duplicate.pk}/merge", {"into": keep.pk})
    assert answer.status_code == 200
    assert answer.json()["id"] == keep.pk
    again = api_as(agent).post(f"/api/v1/tickets/{duplicate.pk}/merge", {"into": keep.pk})
    assert again.status_code == 409
    assert "已经合并过" in again.json()["error"]["message"]
    itself = api_as(agent).post(f"/api/v1/tickets/{keep.pk}/merge", {"into": keep.pk})
    assert itself.status_code == 400
    assert api_as(agent).post(f"/api/v1/tickets/{keep.pk}/merge", {"into": 0}).status_code in (
        400,
        422,
    )


def test_a_merged_ticket_stays_merged_after_a_reopen_attempt(
    agent: User, pair: tuple[Ticket, Ticket]
) -> None:
    keep, duplicate = pair
    ticket_merge(actor=agent, source=duplicate, target=keep)
    duplicate.refresh_from_db()
    ticket_transition(actor=agent, ticket=duplicate, to="reopened", note="客户又来电")
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == keep.pk
