"""Customer notices: once on create (with the status link), once on resolve, by SMS and
email; a retry never sends twice; a failure is recorded and retried."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.desk.services import TicketInput, ticket_create, ticket_transition
from kefu.org.models import User
from kefu.portal import sms
from kefu.portal.models import CustomerNotice
from kefu.portal.notices import NoticeFailed, notices_send
from kefu.portal.receivers import on_ticket_transitioned
from kefu.portal.services import TOKEN_ATTRIBUTE, token_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_phone_ticket(
    agent: User, customer: Customer, django_capture_on_commit_callbacks: Any
) -> Callable[[], Ticket]:
    def make() -> Ticket:
        with django_capture_on_commit_callbacks(execute=True):
            ticket, _created = ticket_create(
                actor=agent,
                data=TicketInput(
                    type="inquiry", channel="phone", subject="发票抬头", customer_id=customer.pk
                ),
            )
        return ticket

    return make


def test_registered_notice_goes_once_by_sms_and_email_with_number_and_link(
    open_phone_ticket: Callable[[], Ticket],
) -> None:
    ticket = open_phone_ticket()
    token = getattr(ticket, TOKEN_ATTRIBUTE)
    # SMS to the customer's mobile, signed with the company name, with the link
    (message,) = sms.outbox
    assert message.to == "+8613812345678"
    assert message.text.startswith("【海尔空调】")
    assert ticket.number in message.text
    assert f"https://kefu.example.com/support/t/{token}/" in message.text
    # mail to the primary contact, the ticket tag in the subject for threading
    (email,) = mail.outbox
    assert email.to == ["wangwu@haier.example.com"]
    assert f"[{ticket.number}]" in email.subject
    assert token in email.body
    # one row per channel, sent; the stored text keeps the token out
    notices = CustomerNotice.objects.filter(ticket=ticket).order_by("channel")
    assert [(n.channel, n.kind, n.status) for n in notices] == [
        ("email", "registered", "sent"),
        ("sms", "registered", "sent"),
    ]
    assert all(token not in n.body and n.sent_at for n in notices)
    assert notices[1].recipient_masked == "138****5678"


def test_retrying_the_task_does_not_send_again(open_phone_ticket: Callable[[], Ticket]) -> None:
    ticket = open_phone_ticket()
    token = getattr(ticket, TOKEN_ATTRIBUTE)
    outcome = notices_send(ticket_id=ticket.pk, kind="registered", token=token)
    assert outcome == {"sms": "sent", "email": "sent"}
    assert len(sms.outbox) == 1
    assert len(mail.outbox) == 1
    assert CustomerNotice.objects.count() == 2


def test_resolved_notice_goes_again_after_a_reopen_and_says_so(
    open_phone_ticket: Callable[[], Ticket], agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = open_phone_ticket()
    sms.outbox.clear()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_transition(actor=agent, ticket=ticket, to="in_progress")
    assert sms.outbox == []  # not resolved yet
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_transition(actor=agent, ticket=ticket, to="resolved", note="已改")
    (message,) = sms.outbox
    assert "已处理完毕" in message.text
    assert "再次" not in message.text
    assert ticket.number in message.text
    assert CustomerNotice.objects.get(kind="resolved", channel="sms").status == "sent"
    # when the customer reopens it and it is resolved again
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_transition(actor=agent, ticket=ticket, to="reopened", note="还不对")
        ticket = ticket_transition(actor=agent, ticket=ticket, to="in_progress")
        ticket_transition(actor=agent, ticket=ticket, to="resolved", note="再改")
    # then a second notice per channel, saying it is resolved again
    assert len(sms.outbox) == 2
    assert "已再次解决" in sms.outbox[1].text
    assert ticket.number in sms.outbox[1].text
    assert [m.subject for m in mail.outbox] == [
        f"[{ticket.number}] 您的工单已解决",
        f"[{ticket.number}] 您的工单已再次解决",
    ]
    rows = CustomerNotice.objects.filter(kind="resolved").order_by("round", "channel")
    assert [(n.round, n.channel, n.status) for n in rows] == [
        (0, "email", "sent"),
        (0, "sms", "sent"),
        (1, "email", "sent"),
        (1, "sms", "sent"),
    ]


def test_a_replayed_resolve_sends_nothing_more(
    open_phone_ticket: Callable[[], Ticket], agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    # given a ticket resolved once, its notice sent
    ticket = open_phone_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_transition(actor=agent, ticket=ticket, to="in_progress")
        ticket = ticket_transition(actor=agent, ticket=ticket, to="resolved", note="已改")
    sms.outbox.clear()
    mail.outbox.clear()
    # when the transition's signal is delivered again and its task runs again
    with django_capture_on_commit_callbacks(execute=True):
        on_ticket_transitioned(Ticket, ticket=ticket, source="in_progress", to="resolved")
    assert notices_send(ticket_id=ticket.pk, kind="resolved", round=0) == {
        "sms": "sent",
        "email": "sent",
    }
    # then nothing more is sent
    assert sms.outbox == []
    assert mail.outbox == []
    assert CustomerNotice.objects.filter(kind="resolved").count() == 2


def test_web_submitter_is_notified_at_their_own_address(
    submit: Callable[..., Any], org: dict[str, Any]
) -> None:
    response = submit(mobile="13900001111", email="")
    (message,) = sms.outbox
    assert message.to == "+8613900001111"
    assert response.context["link"].split("/support/")[1] in message.text
    assert mail.outbox == []  # no email given, none known


def test_a_failed_send_is_recorded_and_the_retry_sends_only_what_failed(
    open_phone_ticket: Callable[[], Ticket], settings: Any
) -> None:
    # given a broken SMS gateway
    settings.SMS_BACKEND = "kefu.portal.tests.test_notices.BrokenGateway"
    ticket = open_phone_ticket()
    sms_row = CustomerNotice.objects.get(ticket=ticket, channel="sms")
    assert sms_row.status == "failed"
    assert "网关超时" in sms_row.error
    assert len(mail.outbox) == 1  # the mail went out all the same
    # when the gateway is back and Huey retries
    settings.SMS_BACKEND = "locmem"
    token = getattr(ticket, TOKEN_ATTRIBUTE)
    assert notices_send(ticket_id=ticket.pk, kind="registered", token=token)["sms"] == "sent"
    # then the SMS goes once, the mail is not repeated
    assert len(sms.outbox) == 1
    assert len(mail.outbox) == 1
    sms_row.refresh_from_db()
    assert (sms_row.status, sms_row.attempts, sms_row.error) == ("sent", 2, "")


def test_failure_raises_so_that_huey_retries(
    open_phone_ticket: Callable[[], Ticket], settings: Any
) -> None:
    ticket = open_phone_ticket()
    CustomerNotice.objects.filter(ticket=ticket, channel="sms").update(status="failed")
    settings.SMS_BACKEND = "kefu.portal.tests.test_notices.BrokenGateway"
    with pytest.raises(NoticeFailed):
        notices_send(ticket_id=ticket.pk, kind="registered")


def test_no_address_no_notice(agent: User, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ticket, _created = ticket_create(
            actor=agent, data=TicketInput(type="inquiry", channel="phone", subject="匿名来电")
        )
    assert not CustomerNotice.objects.filter(ticket=ticket).exists()
    assert sms.outbox == []
    assert mail.outbox == []
    assert ticket.accesses.get().token_hash == token_hash(getattr(ticket, TOKEN_ATTRIBUTE))


def test_file_backend_writes_one_file_per_message(tmp_path: Any, settings: Any) -> None:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path)
    sms.sms_send(to="+8613812345678", text="【海尔空调】测试")
    (written,) = tmp_path.iterdir()
    assert written.read_text(encoding="utf-8") == "To: +8613812345678\n\n【海尔空调】测试\n"


class BrokenGateway:
    def send(self, to: str, text: str) -> None:
        raise TimeoutError("网关超时")


def test_a_ticket_recorded_long_after_the_fact_sends_nothing(
    agent: User, customer: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    last_spring = timezone.now() - timedelta(days=200)
    with django_capture_on_commit_callbacks(execute=True):
        ticket, _created = ticket_create(
            actor=agent,
            data=TicketInput(
                type="inquiry", channel="phone", subject="旧事", customer_id=customer.pk
            ),
            now=last_spring,
        )
        ticket = ticket_transition(actor=agent, ticket=ticket, to="in_progress", now=last_spring)
        ticket_transition(actor=agent, ticket=ticket, to="resolved", note="好", now=last_spring)
    assert sms.outbox == []
    assert mail.outbox == []
    assert ticket.accesses.count() == 1  # the link exists all the same
