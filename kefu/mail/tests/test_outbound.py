"""Outbound replies against a real SMTP server (aiosmtpd): threading headers, no mail for an
internal note, and an SMTP outage retried without losing or doubling the reply."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from typing import Any

import pytest

from kefu.customers.models import Contact
from kefu.desk.models import Ticket
from kefu.desk.services import TicketInput, comment_add, ticket_create
from kefu.mail.models import OutboundMail
from kefu.mail.services import outbound_send
from kefu.mail.testing import ImapServer, SmtpServer, deliver_and_fetch, make_mail
from kefu.org.models import User

pytestmark = pytest.mark.django_db


def _received(smtp: SmtpServer) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in smtp.messages]


def test_an_agents_public_reply_goes_out_with_the_threads_headers_and_a_note_does_not(
    imap: ImapServer,
    smtp: SmtpServer,
    contact: Contact,
    agent: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    deliver_and_fetch(imap, make_mail(subject="空调不制冷", message_id="<cust-1@example.com>"))
    ticket = Ticket.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(actor=agent, ticket=ticket, body="内部：先查保修。", public=False)
    assert smtp.messages == []
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(actor=agent, ticket=ticket, body="您好，师傅明天上午上门。", public=True)
    [sent] = _received(smtp)
    outbound = OutboundMail.objects.get()
    assert (outbound.status, outbound.attempts) == ("sent", 1)
    assert sent["To"] == "zhangsan@example.com"
    assert sent["From"].addresses[0].addr_spec == "kefu@example.com"
    assert sent["Subject"] == f"Re: 空调不制冷 [{ticket.number}]"
    assert sent["Message-ID"].strip() == f"<{outbound.message_id}>"
    assert sent["In-Reply-To"] == "<cust-1@example.com>"
    assert sent["References"] == "<cust-1@example.com>"
    assert "师傅明天上午上门" in sent.get_content()
    # the customer answers that mail: it lands on the same ticket
    deliver_and_fetch(
        imap,
        make_mail(
            subject=f"Re: 空调不制冷 [{ticket.number}]",
            body="好的，谢谢。",
            in_reply_to=sent["Message-ID"].strip(),
            references=f"<cust-1@example.com> {sent['Message-ID'].strip()}",
        ),
    )
    assert Ticket.objects.count() == 1
    assert ticket.comments.filter(from_customer=True).get().body == "好的，谢谢。"
    # the next reply carries the whole thread
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(actor=agent, ticket=ticket, body="不客气。", public=True)
    second = _received(smtp)[1]
    assert second["References"].split()[0] == "<cust-1@example.com>"
    assert len(second["References"].split()) == 3


def test_a_ticket_without_an_address_sends_nothing(
    smtp: SmtpServer,
    agent: User,
    customer: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    ticket, _created = ticket_create(
        actor=agent,
        data=TicketInput(type="inquiry", channel="phone", subject="来电", customer_id=customer.pk),
    )
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(actor=agent, ticket=ticket, body="已回电。", public=True)
    assert OutboundMail.objects.count() == 0
    assert smtp.messages == []


def test_a_phone_ticket_of_a_customer_with_an_email_address_is_answered_by_mail(
    smtp: SmtpServer,
    agent: User,
    contact: Contact,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    ticket, _created = ticket_create(
        actor=agent,
        data=TicketInput(
            type="inquiry", channel="phone", subject="来电咨询", customer_id=contact.customer_id
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(actor=agent, ticket=ticket, body="您咨询的型号有货。", public=True)
    [sent] = _received(smtp)
    assert sent["To"] == "zhangsan@example.com"
    assert sent["In-Reply-To"] is None


def test_smtp_down_the_reply_is_retried_not_lost_and_sent_once(
    smtp: SmtpServer,
    agent: User,
    contact: Contact,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.MAIL_SEND_ATTEMPTS = 3
    ticket, _created = ticket_create(
        actor=agent,
        data=TicketInput(
            type="inquiry", channel="email", subject="发票", customer_id=contact.customer_id
        ),
    )
    smtp.refuse = True
    with django_capture_on_commit_callbacks(execute=True):  # Huey catches and schedules a retry
        comment_add(actor=agent, ticket=ticket, body="发票已寄出。", public=True)
    outbound = OutboundMail.objects.get()
    assert (outbound.status, outbound.attempts) == ("pending", 1)
    assert "451" in outbound.error
    with pytest.raises(Exception, match="451"):  # the retry fails too: Huey will try again
        outbound_send(outbound.pk)
    smtp.refuse = False
    assert outbound_send(outbound.pk) == "sent"
    assert outbound_send(outbound.pk) == "sent"  # a duplicated task does not send again
    assert len(smtp.messages) == 1
    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts, outbound.error) == ("sent", 3, "")


def test_a_reply_that_never_gets_through_is_given_up_and_shown_as_failed(
    smtp: SmtpServer,
    agent: User,
    contact: Contact,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.MAIL_SEND_ATTEMPTS = 2
    ticket, _created = ticket_create(
        actor=agent,
        data=TicketInput(
            type="inquiry", channel="email", subject="发票", customer_id=contact.customer_id
        ),
    )
    smtp.refuse = True
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(actor=agent, ticket=ticket, body="发票已寄出。", public=True)
    outbound = OutboundMail.objects.get()
    assert outbound_send(outbound.pk) == "failed"
    smtp.refuse = False
    assert outbound_send(outbound.pk) == "failed"  # given up stays given up
    assert smtp.messages == []


def test_the_send_task_retries_with_backoff() -> None:
    from kefu.mail.tasks import outbound_send_task

    task = outbound_send_task.task_class
    assert (task.default_retries, task.default_retry_delay, task.default_retry_backoff) == (
        7,
        30,
        2,
    )
