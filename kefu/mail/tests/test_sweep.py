"""The sweeper of mail replies left "sending" by a worker that died mid-send, against a real
SMTP server (aiosmtpd): re-sent once after KEFU_NOTICE_STALE_MINUTES, with or without an IMAP
mailbox; given up (supervisors told) after the last attempt; once under two sweeps at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from kefu.customers.models import Contact
from kefu.desk.models import Notification
from kefu.desk.services import TicketInput, comment_add, ticket_create
from kefu.desk.tests.concurrency import in_thread, run_threads, shared_database, unwrap
from kefu.mail.models import OutboundMail
from kefu.mail.services import outbound_send, outbound_sweep
from kefu.mail.testing import SmtpServer
from kefu.org.models import User


def _reply(agent: User, contact: Contact) -> OutboundMail:
    """A public reply, sent at once (no test transaction or its commit callbacks run)."""
    ticket, _created = ticket_create(
        actor=agent,
        data=TicketInput(
            type="inquiry", channel="email", subject="发票", customer_id=contact.customer_id
        ),
    )
    comment_add(actor=agent, ticket=ticket, body="发票已寄出。", public=True)
    return OutboundMail.objects.get(ticket=ticket)


def _stuck(
    outbound: OutboundMail, smtp: SmtpServer, *, minutes_ago: int, attempts: int = 1
) -> None:
    claimed_at = timezone.now() - timedelta(minutes=minutes_ago)
    OutboundMail.objects.filter(pk=outbound.pk).update(
        status="sending",
        claimed_at=claimed_at,
        updated_at=claimed_at,
        attempts=attempts,
        sent_at=None,
    )
    smtp.messages.clear()


@pytest.fixture
def outbound(
    smtp: SmtpServer,
    agent: User,
    contact: Contact,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> OutboundMail:
    with django_capture_on_commit_callbacks(execute=True):
        outbound = _reply(agent, contact)
    outbound.refresh_from_db()
    assert outbound.status == "sent"
    return outbound


@pytest.mark.django_db
def test_a_reply_claimed_11_minutes_ago_is_sent_again_exactly_once_without_imap(
    outbound: OutboundMail,
    smtp: SmtpServer,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given no IMAP mailbox (the fetch, which used to re-queue, does nothing) and a reply whose
    # worker died 11 minutes ago
    settings.MAIL_IMAP_HOST = ""
    _stuck(outbound, smtp, minutes_ago=11)
    # when the sweeper runs twice
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_sweep() == {"requeued": 1, "given_up": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_sweep() == {"requeued": 0, "given_up": 0}
    # then the reply went out once more, with its own Message-ID
    (raw,) = smtp.messages
    assert outbound.message_id.encode() in raw
    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts, outbound.error) == ("sent", 2, "")


@pytest.mark.django_db
def test_a_reply_claimed_a_minute_ago_is_left_alone(
    outbound: OutboundMail,
    smtp: SmtpServer,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    _stuck(outbound, smtp, minutes_ago=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_sweep() == {"requeued": 0, "given_up": 0}
    assert smtp.messages == []
    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts) == ("sending", 1)


@pytest.mark.django_db
def test_after_the_last_attempt_the_reply_is_failed_and_supervisors_are_told(
    outbound: OutboundMail,
    smtp: SmtpServer,
    supervisor: User,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.MAIL_SEND_ATTEMPTS = 3
    _stuck(outbound, smtp, minutes_ago=11, attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_sweep() == {"requeued": 0, "given_up": 1}
    assert smtp.messages == []
    outbound.refresh_from_db()
    assert outbound.status == "failed"
    assert "已达最多 3 次尝试" in outbound.error
    (bell,) = Notification.objects.filter(user=supervisor)
    assert bell.kind == Notification.Kind.NOTICE_FAILED
    assert outbound.ticket.number in bell.message
    # given up stays given up
    assert outbound_send(outbound.pk) == "failed"
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_sweep() == {"requeued": 0, "given_up": 0}
    assert smtp.messages == []


@pytest.mark.django_db
def test_a_reply_refused_on_its_last_attempt_tells_the_supervisors(
    smtp: SmtpServer,
    agent: User,
    contact: Contact,
    supervisor: User,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.MAIL_SEND_ATTEMPTS = 1
    smtp.refuse = True
    with django_capture_on_commit_callbacks(execute=True):
        outbound = _reply(agent, contact)
    outbound.refresh_from_db()
    assert outbound.status == "failed"
    (bell,) = Notification.objects.filter(user=supervisor)
    assert "451" in bell.message


@pytest.mark.django_db
def test_a_reply_whose_task_was_lost_is_queued_again(
    outbound: OutboundMail,
    smtp: SmtpServer,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    old = timezone.now() - timedelta(minutes=16)
    OutboundMail.objects.filter(pk=outbound.pk).update(
        status="pending", attempts=0, claimed_at=None, updated_at=old
    )
    smtp.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound_sweep()["requeued"] == 1
    assert len(smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_resend_a_stuck_reply_once(
    smtp: SmtpServer, agent: User, contact: Contact, tmp_path: Path
) -> None:
    outbound = _reply(agent, contact)
    _stuck(outbound, smtp, minutes_ago=11)
    with shared_database(tmp_path):
        results = unwrap(run_threads(2, lambda _index: outbound_sweep()))
        assert sorted(r["requeued"] for r in results) == [0, 1]
        assert len(smtp.messages) == 1
        row = in_thread(lambda: OutboundMail.objects.get(pk=outbound.pk))
    assert (row.status, row.attempts) == ("sent", 2)
