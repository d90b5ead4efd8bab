"""Telling the customer: "your ticket GD… is registered (here is its status link)" and "it is
resolved" (again after a reopen), by SMS and/or email.

The receivers (kefu.portal.receivers) enqueue ``notices_send_task`` on commit; the task calls
``notices_send`` here, which

1. finds where the customer can be reached: the web submitter's own mobile and email first,
   then the ticket's contact, then the customer's mobile and primary contact's email;
2. creates one CustomerNotice per (ticket, kind, round, channel) — the unique constraint makes
   a repeated call find the same rows instead of adding more;
3. claims each row still to send with a conditional UPDATE (two workers never both send it),
   stamping ``claimed_at``, sends it, and marks it sent, or failed with the error;
4. raises when any failed, so that Huey retries; rows already sent are skipped next time.
   After ``KEFU_NOTICE_MAX_ATTEMPTS`` a row is no longer claimed: it stays failed and the
   ticket's supervisors are told through the bell.

``notices_sweep`` (run by ``kefu sweep_notices`` and every minute) picks up what a dead worker
left behind: a row still "sending" ``KEFU_NOTICE_STALE_MINUTES`` after its claim goes back to
"pending" and its task is queued again, or is given up when it has no attempt left. Delivery is
at least once: a worker that dies after the gateway or SMTP server accepted the message and
before the row was marked sent leaves a row the sweeper sends again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.customers.models import Contact
from kefu.desk.models import Ticket
from kefu.desk.notify import notify_delivery_given_up
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


def notice_texts(ticket: Ticket, kind: str, link: str, round: int = 0) -> tuple[str, str]:
    """(subject, text) in Simplified Chinese, the customer's language on the form's default.
    The subject carries the ticket tag [GD…] so that a reply by mail finds the ticket. A
    "resolved" notice of a later round (the ticket was reopened) says it is resolved again."""
    company = settings.COMPANY_NAME
    values = {"company": company, "number": ticket.number, "subject": ticket.subject[:60]}
    if kind == CustomerNotice.Kind.REGISTERED:
        subject = _("[%(number)s] 您的工单已受理") % values
        text = _("【%(company)s】您的工单 %(number)s（%(subject)s）已受理，我们会尽快处理。") % (
            values
        )
        if link:
            text += _("查看进度或补充说明：%(link)s") % {"link": link}
    elif round > 0:
        subject = _("[%(number)s] 您的工单已再次解决") % values
        text = (
            _(
                "【%(company)s】您的工单 %(number)s（%(subject)s）重新处理后已再次解决。"
                "如仍有问题，请通过此前收到的链接回复，或致电客服。"
            )
            % values
        )
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


def _max_attempts() -> int:
    return int(settings.NOTICE_MAX_ATTEMPTS)


def _stale_after() -> timedelta:
    return timedelta(minutes=int(settings.NOTICE_STALE_MINUTES))


def _describe(notice: CustomerNotice) -> dict[str, str]:
    return {
        "number": notice.ticket.number,
        "kind": str(notice.get_kind_display()),
        "channel": str(notice.get_channel_display()),
    }


def _give_up(notice: CustomerNotice, error: str) -> None:
    """The row's last attempt failed: the supervisors hear of it (a failed row on the ticket's
    panel alone is easily missed)."""
    notify_delivery_given_up(
        notice.ticket,
        message=_("工单 %(number)s 的%(kind)s（%(channel)s）多次发送失败，已放弃：%(error)s")
        % {**_describe(notice), "error": error[:120]},
    )


def notices_send(*, ticket_id: int, kind: str, token: str = "", round: int = 0) -> dict[str, str]:
    """Create (once) and send the ticket's notices of this kind and round; {channel: status}."""
    ticket = Ticket.objects.select_related("customer", "contact").filter(pk=ticket_id).first()
    if ticket is None:
        return {}
    link = status_url(token) if token else ""
    with translation.override(settings.LANGUAGE_CODE):
        subject, text = notice_texts(ticket, kind, link, round)
    stored_text = text.replace(token, "…") if token else text
    for channel, address in notice_recipients(ticket).items():
        try:
            with transaction.atomic():
                CustomerNotice.objects.get_or_create(
                    ticket=ticket,
                    kind=kind,
                    round=round,
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
    rows = CustomerNotice.objects.filter(ticket=ticket, kind=kind, round=round)
    for notice in rows.select_related("ticket"):
        if notice.status == CustomerNotice.Status.SENT:
            outcome[notice.channel] = notice.status
            continue
        claimed_at = timezone.now()
        claimed = CustomerNotice.objects.filter(
            pk=notice.pk,
            status__in=[CustomerNotice.Status.PENDING, CustomerNotice.Status.FAILED],
            attempts__lt=_max_attempts(),
        ).update(
            status=CustomerNotice.Status.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=claimed_at,
            updated_at=claimed_at,
        )
        if not claimed:  # another worker has it, or it was given up
            notice.refresh_from_db(fields=["status"])
            outcome[notice.channel] = notice.status
            continue
        # Only while this claim stands: a sweeper that judged the claim dead and re-queued
        # the row owns it now, and this slow worker must not overwrite what that one did.
        mine = CustomerNotice.objects.filter(
            pk=notice.pk, status=CustomerNotice.Status.SENDING, claimed_at=claimed_at
        )
        try:
            _deliver(notice, text)  # the row keeps the token out; the message has it
        except Exception as exc:
            logger.warning("notice %s to %s failed: %s", notice.pk, notice.channel, exc)
            error = f"{type(exc).__name__}: {exc}"[:300]
            with transaction.atomic():
                marked = mine.update(
                    status=CustomerNotice.Status.FAILED, error=error, updated_at=timezone.now()
                )
                if marked and notice.attempts + 1 >= _max_attempts():
                    _give_up(notice, error)
            outcome[notice.channel] = CustomerNotice.Status.FAILED
            failed = True
            continue
        mine.update(
            status=CustomerNotice.Status.SENT,
            error="",
            body=stored_text,  # as sent: a re-send by the sweeper carries no link
            sent_at=timezone.now(),
            updated_at=timezone.now(),
        )
        outcome[notice.channel] = CustomerNotice.Status.SENT
    if failed:
        raise NoticeFailed(f"ticket {ticket_id} {kind} {round}: {outcome}")
    return outcome


def notices_sweep(now: datetime | None = None) -> dict[str, int]:
    """Rows a dead worker left "sending" (see the module doc), and rows left "pending" whose task
    was lost (the queue down at commit): queued again, or given up after the last attempt.

    Every change is a conditional UPDATE on the row's status and the ``claimed_at`` /
    ``updated_at`` this sweep read, so that of two sweeps running at once only one acts on a row
    (and only one queues it): a row is never re-sent twice by concurrent sweeps."""
    from kefu.portal.tasks import notices_send_task

    now = now or timezone.now()
    cutoff = now - _stale_after()
    counts = {"requeued": 0, "given_up": 0}
    stuck = CustomerNotice.objects.filter(
        Q(status=CustomerNotice.Status.SENDING)
        & (Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True, updated_at__lt=cutoff))
        | Q(status=CustomerNotice.Status.PENDING, updated_at__lt=cutoff)
    ).select_related("ticket")[:200]
    for notice in stuck:
        this_one = CustomerNotice.objects.filter(
            pk=notice.pk, status=notice.status, updated_at=notice.updated_at
        )
        if notice.status == CustomerNotice.Status.SENDING:
            this_one = this_one.filter(claimed_at=notice.claimed_at)
        give_up = notice.attempts >= _max_attempts()
        with transaction.atomic():
            if give_up:
                error = _("发送中断（处理进程未完成），且已达最多 %(max)s 次尝试，已放弃。") % {
                    "max": _max_attempts()
                }
                won = this_one.update(
                    status=CustomerNotice.Status.FAILED, error=error, updated_at=now
                )
                if won:
                    _give_up(notice, error)
                    counts["given_up"] += 1
                continue
            error = notice.error
            if notice.status == CustomerNotice.Status.SENDING:
                error = _("发送中断（处理进程未完成），已重新排队。")
            won = this_one.update(status=CustomerNotice.Status.PENDING, error=error, updated_at=now)
            if won:
                transaction.on_commit(
                    partial(notices_send_task, notice.ticket_id, notice.kind, "", notice.round),
                    robust=True,
                )
                counts["requeued"] += 1
    return counts
