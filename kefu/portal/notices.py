"""Telling the customer: "your ticket GD… is registered (here is its status link)" and "it is
resolved", by SMS and/or email.

The receivers (kefu.portal.receivers) enqueue ``notices_send_task`` on commit; the task calls
``notices_send`` here, which

1. finds where the customer can be reached: the web submitter's own mobile and email first,
   then the ticket's contact, then the customer's mobile and primary contact's email;
2. creates one CustomerNotice per (ticket, kind, channel) — the unique constraint makes a
   repeated call find the same rows instead of adding more;
3. claims each row still to send with a conditional UPDATE (two workers never both send it),
   sends it, and marks it sent, or failed with the error;
4. raises when any failed, so that Huey retries; rows already sent are skipped next time.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.customers.models import Contact
from kefu.desk.models import Ticket
from kefu.portal.models import CustomerNotice, TicketRequester
from kefu.portal.sms import sms_send

logger = logging.getLogger(__name__)


class NoticeFailed(Exception):
    """Some notice could not be sent this time (the rows say why); Huey retries the task."""


def status_url(token: str) -> str:
    base = str(settings.PORTAL_URL).rstrip("/")
    return base + reverse("portal:status", args=[token])


def notice_recipients(ticket: Ticket) -> dict[str, str]:
    """{channel: address} for the channels in KEFU_NOTICE_CHANNELS that the ticket has an
    address for."""
    mobile = email = ""
    requester = TicketRequester.objects.filter(ticket=ticket).first()
    if requester is not None:
        mobile, email = requester.mobile, requester.email
    customer = ticket.customer
    if customer is not None and customer.erased_at is None:
        contact = ticket.contact
        if contact is not None:
            mobile = mobile or contact.mobile
            email = email or contact.email
        mobile = mobile or customer.mobile
        if not email:
            email = (
                Contact.objects.filter(customer=customer)
                .exclude(email="")
                .order_by("-is_primary", "id")
                .values_list("email", flat=True)
                .first()
                or ""
            )
    found = {CustomerNotice.Channel.SMS: mobile, CustomerNotice.Channel.EMAIL: email}
    return {
        channel: address
        for channel, address in found.items()
        if address and channel in settings.NOTICE_CHANNELS
    }


def notice_texts(ticket: Ticket, kind: str, link: str) -> tuple[str, str]:
    """(subject, text) in Simplified Chinese, the customer's language on the form's default.
    The subject carries the ticket tag [GD…] so that a reply by mail finds the ticket."""
    company = settings.COMPANY_NAME
    values = {"company": company, "number": ticket.number, "subject": ticket.subject[:60]}
    if kind == CustomerNotice.Kind.REGISTERED:
        subject = _("[%(number)s] 您的工单已受理") % values
        text = _("【%(company)s】您的工单 %(number)s（%(subject)s）已受理，我们会尽快处理。") % (
            values
        )
        if link:
            text += _("查看进度或补充说明：%(link)s") % {"link": link}
    else:
        subject = _("[%(number)s] 您的工单已解决") % values
        text = (
            _(
                "【%(company)s】您的工单 %(number)s（%(subject)s）已处理完毕。"
                "如仍有问题，请通过此前收到的链接回复，或致电客服。"
            )
            % values
        )
    return subject, text


def _deliver(notice: CustomerNotice, text: str) -> None:
    if notice.channel == CustomerNotice.Channel.SMS:
        sms_send(to=notice.recipient, text=text)
        return
    message = EmailMessage(
        subject=notice.subject,
        body=text,
        to=[notice.recipient],
        headers={"X-Kefu-Ticket": notice.ticket.number},
    )
    message.send(fail_silently=False)


def notices_send(*, ticket_id: int, kind: str, token: str = "") -> dict[str, str]:
    """Create (once) and send the ticket's notices of this kind; {channel: status}."""
    ticket = Ticket.objects.select_related("customer", "contact").filter(pk=ticket_id).first()
    if ticket is None:
        return {}
    link = status_url(token) if token else ""
    with translation.override(settings.LANGUAGE_CODE):
        subject, text = notice_texts(ticket, kind, link)
    stored_text = text.replace(token, "…") if token else text
    for channel, address in notice_recipients(ticket).items():
        try:
            with transaction.atomic():
                CustomerNotice.objects.get_or_create(
                    ticket=ticket,
                    kind=kind,
                    channel=channel,
                    defaults={
                        "recipient": address,
                        "subject": subject if channel == CustomerNotice.Channel.EMAIL else "",
                        "body": stored_text,
                    },
                )
        except IntegrityError:  # created by a concurrent run: that row is the one
            pass
    outcome: dict[str, str] = {}
    failed = False
    for notice in CustomerNotice.objects.filter(ticket=ticket, kind=kind).select_related("ticket"):
        if notice.status == CustomerNotice.Status.SENT:
            outcome[notice.channel] = notice.status
            continue
        claimed = CustomerNotice.objects.filter(
            pk=notice.pk, status__in=[CustomerNotice.Status.PENDING, CustomerNotice.Status.FAILED]
        ).update(
            status=CustomerNotice.Status.SENDING,
            attempts=F("attempts") + 1,
            updated_at=timezone.now(),
        )
        if not claimed:  # another worker has it
            outcome[notice.channel] = CustomerNotice.Status.SENDING
            continue
        try:
            _deliver(notice, text)  # the row keeps the token out; the message has it
        except Exception as exc:
            logger.warning("notice %s to %s failed: %s", notice.pk, notice.channel, exc)
            CustomerNotice.objects.filter(pk=notice.pk).update(
                status=CustomerNotice.Status.FAILED,
                error=f"{type(exc).__name__}: {exc}"[:300],
                updated_at=timezone.now(),
            )
            outcome[notice.channel] = CustomerNotice.Status.FAILED
            failed = True
            continue
        CustomerNotice.objects.filter(pk=notice.pk).update(
            status=CustomerNotice.Status.SENT,
            error="",
            sent_at=timezone.now(),
            updated_at=timezone.now(),
        )
        outcome[notice.channel] = CustomerNotice.Status.SENT
    if failed:
        raise NoticeFailed(f"ticket {ticket_id} {kind}: {outcome}")
    return outcome
