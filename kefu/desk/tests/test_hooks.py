"""The hooks other apps use: signals on create, transition and comment; transition guards;
and a customer's own reply (portal, email), which never loses the customer's words."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kefu.core.exceptions import Conflict
from kefu.desk import signals
from kefu.desk.models import Notification, Ticket, TicketAttachment
from kefu.desk.services import comment_add, comment_from_customer, ticket_transition
from kefu.org.models import User


@pytest.fixture
def received() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []

    def on(name: str) -> Callable[..., None]:
        def receiver(sender: Any, **kwargs: Any) -> None:
            seen.append((name, kwargs))

        return receiver

    receivers = {
        signals.ticket_created: on("created"),
        signals.ticket_transitioned: on("transitioned"),
        signals.comment_added: on("comment"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver, weak=False)
    yield seen
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


@pytest.mark.django_db
def test_create_transition_and_comment_are_signalled(
    agent: User, open_ticket: Callable[..., Ticket], received: list[tuple[str, dict[str, Any]]]
) -> None:
    ticket = open_ticket()
    ticket_transition(actor=agent, ticket=ticket, to="open")
    comment_add(actor=agent, ticket=ticket, body="您好，已收到。", public=True)
    assert [name for name, _ in received] == ["created", "transitioned", "comment"]
    assert received[0][1]["ticket"].number == ticket.number
    assert received[1][1]["source"] == "new"
    assert received[1][1]["to"] == "open"
    assert received[2][1]["comment"].public is True


@pytest.mark.django_db
def test_a_guard_refuses_a_step_and_nothing_changes(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    signals.register_transition_guard(
        "test-no-open", lambda t, to, actor: "还有未完成的派工单。" if to == "open" else None
    )
    try:
        with pytest.raises(Conflict, match="派工单"):
            ticket_transition(actor=agent, ticket=ticket, to="open")
        ticket.refresh_from_db()
        assert ticket.status == "new"
        assert ticket.transitions.count() == 1
    finally:
        signals._guards.pop("test-no-open")


@pytest.mark.django_db
def test_a_customer_reply_resumes_a_ticket_waiting_on_them_and_keeps_refused_files_as_a_note(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket(assignee_id=agent.pk)
    for to in ("open", "in_progress"):
        ticket = ticket_transition(actor=agent, ticket=ticket, to=to)
    ticket = ticket_transition(actor=agent, ticket=ticket, to="pending_customer", note="请提供照片")
    big = b"x" * (30 * 1024 * 1024)
    comment = comment_from_customer(
        ticket=ticket,
        body="照片见附件",
        via="email",
        files=[("现场.png", "image/png", b"\x89PNG"), ("录像.mp4", "video/mp4", big)],
    )
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert comment.from_customer
    assert comment.public
    assert comment.author is None
    assert "录像.mp4" in comment.body
    assert "未保存" in comment.body
    assert [a.filename for a in TicketAttachment.objects.filter(comment=comment)] == ["现场.png"]
    assert Notification.objects.filter(user=agent, kind="customer_reply").exists()


@pytest.mark.django_db
def test_a_registered_panel_shows_on_the_ticket_page_only_when_its_context_allows(
    agent: User, open_ticket: Callable[..., Ticket], tmp_path: Any, settings: Any
) -> None:
    from django.test import Client

    from kefu.desk.panels import DetailPanel, _panels, register_detail_panel

    (tmp_path / "panel_probe.html").write_text("<p>探针面板 {{ panel.word }}</p>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], str(tmp_path)]}
    ]
    register_detail_panel(
        DetailPanel(
            "probe",
            "panel_probe.html",
            lambda t, u: {"word": t.number} if u.is_staff else None,
            column="main",
        )
    )
    try:
        ticket = open_ticket()
        client = Client()
        client.force_login(agent)
        assert "探针面板" not in client.get(f"/tickets/{ticket.pk}/").content.decode()
        agent.is_staff = True
        agent.save(update_fields=["is_staff"])
        assert f"探针面板 {ticket.number}" in client.get(f"/tickets/{ticket.pk}/").content.decode()
    finally:
        _panels.pop("probe")


@pytest.mark.django_db
def test_tickets_follow_their_customer_to_another_serving_team(
    agent: User,
    make_user: Callable[..., User],
    org: dict[str, Any],
    open_ticket: Callable[..., Ticket],
) -> None:
    from kefu.desk.access import tickets_for_user

    creator = make_user("mgr-x", "manager")
    # routed to team B by a manager; the customer is team A's
    ticket = open_ticket(team_id=org["team_b"].pk, actor=creator)
    other = make_user("agent-c", "agent", teams=("team_b",))
    third = make_user("agent-d", "agent", teams=())
    assert ticket.customer_team_id == org["team_a"].pk
    assert tickets_for_user(agent).filter(pk=ticket.pk).exists()  # the customer's team
    customer = ticket.customer
    assert customer is not None
    customer.serving_team = None
    customer.save()
    ticket.refresh_from_db()
    assert ticket.customer_team_id is None
    assert not tickets_for_user(agent).filter(pk=ticket.pk).exists()
    assert tickets_for_user(other).filter(pk=ticket.pk).exists()  # the ticket's own team
    customer.serving_team = org["team_a"]
    customer.save(update_fields=["serving_team"])
    assert tickets_for_user(agent).filter(pk=ticket.pk).exists()
    assert not tickets_for_user(third).filter(pk=ticket.pk).exists()
