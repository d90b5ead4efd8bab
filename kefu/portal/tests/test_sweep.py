"""The sweeper of customer notices left "sending" by a worker that died between its claim and
the row's final status: re-sent once after KEFU_NOTICE_STALE_MINUTES, given up (with the
supervisors told) after the last attempt, and never re-sent twice by two sweeps at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from kefu.core.sweeps import sweep_all
from kefu.customers.models import Customer
from kefu.desk.models import Notification, Ticket
from kefu.desk.services import TicketInput, ticket_create
from kefu.desk.tests.concurrency import in_thread, run_threads, shared_database, unwrap
from kefu.org.models import User
from kefu.portal import sms
from kefu.portal.models import CustomerNotice
from kefu.portal.notices import NoticeFailed, notices_send, notices_sweep
from kefu.portal.selectors import panel_context


def _ticket(agent: User, customer: Customer) -> Ticket:
    ticket, _created = ticket_create(
        actor=agent,
        data=TicketInput(
            type="inquiry", channel="phone", subject="发票抬头", customer_id=customer.pk
        ),
    )
    return ticket


def _stuck(ticket: Ticket, *, minutes_ago: int, attempts: int = 1) -> CustomerNotice:
    """The ticket's SMS notice as a worker that died mid-send leaves it: "sending", claimed
    ``minutes_ago``. The registered notices were sent when the ticket was created; the SMS
    outbox is emptied so that what the sweep sends is all it holds."""
    claimed_at = timezone.now() - timedelta(minutes=minutes_ago)
    CustomerNotice.objects.filter(ticket=ticket, channel="sms").update(
        status="sending",
        claimed_at=claimed_at,
        updated_at=claimed_at,
        attempts=attempts,
        sent_at=None,
    )
    sms.outbox.clear()
    mail.outbox.clear()
    return CustomerNotice.objects.get(ticket=ticket, channel="sms")


@pytest.fixture
def ticket(agent: User, customer: Customer, django_capture_on_commit_callbacks: Any) -> Ticket:
    with django_capture_on_commit_callbacks(execute=True):
        return _ticket(agent, customer)


@pytest.mark.django_db
def test_a_notice_claimed_11_minutes_ago_is_sent_again_exactly_once(
    ticket: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    # given an SMS notice its worker died with, 11 minutes ago
    _stuck(ticket, minutes_ago=11)
    # when the sweeper runs, twice
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_sweep() == {"requeued": 1, "given_up": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_sweep() == {"requeued": 0, "given_up": 0}
    # then the SMS went out once more (the mail, sent the first time, did not)
    (message,) = sms.outbox
    assert ticket.number in message.text
    assert mail.outbox == []
    row = CustomerNotice.objects.get(ticket=ticket, channel="sms")
    assert (row.status, row.attempts, row.error) == ("sent", 2, "")
    assert row.claimed_at is not None
    assert row.sent_at is not None
    # the re-sent text has no status link (only its hash is kept), and the row says so
    assert "查看进度" not in message.text
    assert row.body == message.text


@pytest.mark.django_db
def test_a_notice_claimed_a_minute_ago_is_left_alone(
    ticket: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    stuck = _stuck(ticket, minutes_ago=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_sweep() == {"requeued": 0, "given_up": 0}
    assert sms.outbox == []
    row = CustomerNotice.objects.get(pk=stuck.pk)
    assert (row.status, row.claimed_at, row.attempts) == ("sending", stuck.claimed_at, 1)


@pytest.mark.django_db
def test_the_stale_threshold_is_a_setting(
    ticket: Ticket, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTICE_STALE_MINUTES = 30
    _stuck(ticket, minutes_ago=11)
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_sweep() == {"requeued": 0, "given_up": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_sweep(timezone.now() + timedelta(minutes=20)) == {
            "requeued": 1,
            "given_up": 0,
        }
    assert len(sms.outbox) == 1


@pytest.mark.django_db
def test_after_the_last_attempt_the_notice_is_failed_and_supervisors_are_told(
    ticket: Ticket,
    supervisor: User,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a notice whose worker died on its last allowed attempt
    settings.NOTICE_MAX_ATTEMPTS = 3
    _stuck(ticket, minutes_ago=11, attempts=3)
    # when the sweeper runs
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_sweep() == {"requeued": 0, "given_up": 1}
    # then it is not sent again, it is failed with the reason, and the bell rings
    assert sms.outbox == []
    row = CustomerNotice.objects.get(ticket=ticket, channel="sms")
    assert row.status == "failed"
    assert "已达最多 3 次尝试" in row.error
    (bell,) = Notification.objects.filter(user=supervisor)
    assert bell.kind == Notification.Kind.NOTICE_FAILED
    assert ticket.number in bell.message
    assert "受理通知" in bell.message
    # shown where failed notices are shown: the ticket's portal panel
    panel = panel_context(ticket, supervisor)
    assert panel is not None
    assert [n.status for n in panel["notices"] if n.channel == "sms"] == ["failed"]
    # and a late retry of its task does not send it either
    assert notices_send(ticket_id=ticket.pk, kind="registered")["sms"] == "failed"
    assert sms.outbox == []
    # nor does the next sweep ring again
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_sweep() == {"requeued": 0, "given_up": 0}
    assert Notification.objects.filter(user=supervisor).count() == 1


@pytest.mark.django_db
def test_a_failure_on_the_last_attempt_tells_the_supervisors(
    ticket: Ticket, supervisor: User, settings: Any
) -> None:
    settings.NOTICE_MAX_ATTEMPTS = 2
    CustomerNotice.objects.filter(ticket=ticket, channel="sms").update(status="failed", attempts=1)
    settings.SMS_BACKEND = "kefu.portal.tests.test_notices.BrokenGateway"
    with pytest.raises(NoticeFailed):
        notices_send(ticket_id=ticket.pk, kind="registered")
    (bell,) = Notification.objects.filter(user=supervisor)
    assert "网关超时" in bell.message


@pytest.mark.django_db
def test_a_notice_whose_task_was_lost_is_queued_again(
    ticket: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    # given a row created but never claimed (the worker died before the claim), 11 min ago
    old = timezone.now() - timedelta(minutes=11)
    CustomerNotice.objects.filter(ticket=ticket, channel="sms").update(
        status="pending", attempts=0, claimed_at=None, updated_at=old
    )
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_sweep()["requeued"] == 1
    assert len(sms.outbox) == 1
    assert CustomerNotice.objects.get(ticket=ticket, channel="sms").status == "sent"


@pytest.mark.django_db
def test_a_slow_worker_does_not_overwrite_the_outcome_of_the_resend(
    ticket: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    # given a stuck notice the sweeper re-sent
    stuck = _stuck(ticket, minutes_ago=11)
    with django_capture_on_commit_callbacks(execute=True):
        notices_sweep()
    # when the first worker, only slow, comes back and marks its claim failed
    late = CustomerNotice.objects.filter(
        pk=stuck.pk, status="sending", claimed_at=stuck.claimed_at
    ).update(status="failed", error="late")
    # then its conditional update finds nothing: the row stays as the re-send left it
    assert late == 0
    assert CustomerNotice.objects.get(pk=stuck.pk).status == "sent"


@pytest.mark.django_db
def test_the_command_sweeps_notices_and_mail(
    ticket: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    from io import StringIO

    _stuck(ticket, minutes_ago=11)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_notices", stdout=out)
    assert "portal.notices: {'requeued': 1, 'given_up': 0}" in out.getvalue()
    assert "mail.outbound: {'requeued': 0, 'given_up': 0}" in out.getvalue()
    assert len(sms.outbox) == 1
    assert set(sweep_all()) == {"mail.outbound", "portal.notices"}


def test_the_sweep_runs_every_minute() -> None:
    from kefu.core.schedules import NOTICES_SWEEP
    from kefu.core.tasks import notices_sweep_task

    assert notices_sweep_task.task_class.__name__ == "notices_sweep_task"
    moment = timezone.localtime().replace(second=0, microsecond=0)
    assert all(NOTICES_SWEEP(moment + timedelta(minutes=step)) for step in range(3))


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_resend_a_stuck_notice_once(
    agent: User, customer: Customer, tmp_path: Path
) -> None:
    # given a stuck notice (outside a test transaction: the sweeps run on their own
    # connections, each sends in its own threads' Huey call)
    ticket = _ticket(agent, customer)
    stuck = _stuck(ticket, minutes_ago=11)
    with shared_database(tmp_path):
        # when two sweeps run at the same moment
        results = unwrap(run_threads(2, lambda _index: notices_sweep()))
        # then one of them re-queued it, and it went out once
        assert sorted(r["requeued"] for r in results) == [0, 1]
        assert len(sms.outbox) == 1
        row = in_thread(lambda: CustomerNotice.objects.get(pk=stuck.pk))
    assert (row.status, row.attempts) == ("sent", 2)
