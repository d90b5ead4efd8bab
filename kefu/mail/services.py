"""Mail in and out of the desk.

Inbound (``inbound_process``): one raw message → an InboundMail row (its unique key makes a
second fetch a no-op) → a reply on the ticket it belongs to, or a new ticket. Each message is
processed in its own transaction; a failure is recorded on its row and retried on the next
fetch, up to ``MAIL_MAX_ATTEMPTS`` times, and never stops the batch.

Outbound (``outbound_queue`` on the desk's ``comment_added`` signal, ``outbound_send`` in a Huey
task): a public reply by an agent on a ticket with an email thread becomes one OutboundMail row
in the reply's transaction, sent after commit; the row is claimed before sending, so a retried
or duplicated task sends it once. ``outbound_sweep`` (``kefu sweep_notices``, every minute)
queues again what a dead worker or a lost task left behind, or gives it up after the last
attempt (the supervisors hear of it through the bell).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr
from functools import partial
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.customers.models import Contact
from kefu.desk.models import Ticket, TicketAttachment, TicketComment
from kefu.desk.notify import notify_delivery_given_up
from kefu.desk.services import (
    TicketInput,
    attachment_limits,
    comment_from_customer,
    ticket_create,
)
from kefu.desk.workflow import machine_for
from kefu.mail.models import InboundMail, OutboundMail
from kefu.mail.parsing import Attachment, ParsedMail, clean, message_key, parse_message
from kefu.org.models import Team, User

logger = logging.getLogger(__name__)

ROBOT_USERNAME = "mail-robot"
# Exactly what opening a ticket for any sender needs: add tickets, and see every customer
# (ticket_create looks the matched customer up in the actor's scope).
ROBOT_PERMISSIONS = (
    ("desk", "view_ticket"),
    ("desk", "add_ticket"),
    ("customers", "view_customer"),
    ("customers", "view_all_customers"),
)
TICKET_TAG = re.compile(r"\[(GD\d{8}-\d{6})\]")
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|回复|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)
# Where the quoted earlier mail starts in a reply (Outlook, Foxmail, QQ, Gmail, Apple Mail).
_QUOTE_START = re.compile(
    r"^(-{3,}\s*(原始邮件|Original Message|回复的原邮件)\s*-{3,}"
    r"|On .{5,200} wrote:\s*$"
    r"|在 .{5,200}写道[:：]\s*$"
    r"|发件人[:：].*$"
    r"|From:\s.*$)",
    re.IGNORECASE | re.MULTILINE,
)
BODY_LIMIT = 10000
LOST_PENDING = timedelta(minutes=15)  # a pending row this old has lost its task


class OutboundFailed(Exception):
    """One sending attempt failed; Huey retries the task."""


def mask_email(address: str) -> str:
    """zhang.san@example.com → z***@example.com (the domain stays: it says which company)."""
    local, _sep, domain = (address or "").partition("@")
    if not domain:
        return "***" if address else ""
    return f"{local[:1]}***@{domain}"


# --- the mail robot ----------------------------------------------------------------------------


@transaction.atomic
def mail_robot() -> User:
    """The member of staff inbound mail opens tickets as. It is active (Django gives an
    inactive user no permissions) but cannot log in: its password is unusable and it has no
    API token; it holds only the permissions in ROBOT_PERMISSIONS, given to the user itself
    rather than through a role, so no role's rights change."""
    from django.contrib.auth.models import Permission

    robot = User.objects.filter(username=ROBOT_USERNAME).first()
    if robot is not None:
        return robot
    robot = User(username=ROBOT_USERNAME, display_name=_("邮件收信"), is_active=True)
    robot.set_unusable_password()
    robot.save()
    match = Q(pk__in=[])
    for app_label, codename in ROBOT_PERMISSIONS:
        match |= Q(content_type__app_label=app_label, codename=codename)
    robot.user_permissions.add(*Permission.objects.filter(match))
    return robot


# --- inbound -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a raw message came from (empty for one handed in directly)."""

    account: str = ""
    uid_validity: int | None = None
    uid: int | None = None


def inbound_process(*, raw: bytes, source: Source | None = None) -> InboundMail:
    """Record the message once and turn it into a reply or a ticket (see the module doc)."""
    source = source or Source()
    try:
        parsed = parse_message(raw)
    except Exception as exc:  # never expected; if it happens the bytes still become a ticket
        logger.exception("mail parsing failed")
        parsed = ParsedMail(text=clean(raw.decode("utf-8", "replace"), 20000))
        parsed.defects.append(f"{type(exc).__name__}: {exc}"[:200])
    key = message_key(raw, parsed.message_id)
    row = _inbound_row(raw=raw, parsed=parsed, key=key, source=source)
    if row.status == InboundMail.Status.PROCESSED or row.attempts >= _max_attempts():
        return row
    try:
        with transaction.atomic():
            row = InboundMail.objects.select_for_update().get(pk=row.pk)
            if row.status == InboundMail.Status.PROCESSED:  # another worker got there first
                return row
            _deliver(row, parsed)
    except Exception as exc:
        logger.exception("inbound mail %s failed", row.pk)
        InboundMail.objects.filter(pk=row.pk).update(
            status=InboundMail.Status.FAILED,
            attempts=F("attempts") + 1,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            updated_at=timezone.now(),
        )
        row.refresh_from_db()
    return row


def _max_attempts() -> int:
    return int(settings.MAIL_MAX_ATTEMPTS)


def _inbound_row(*, raw: bytes, parsed: ParsedMail, key: str, source: Source) -> InboundMail:
    defaults: dict[str, Any] = {
        "message_id": parsed.message_id[:255],
        "from_address": parsed.from_address[:254],
        "from_name": parsed.from_name[:200],
        "subject": parsed.subject[:500],
        "size": len(raw),
        "sent_at": parsed.sent_at if parsed.sent_at and parsed.sent_at.tzinfo else None,
    }
    try:
        row, created = InboundMail.objects.get_or_create(message_key=key, defaults=defaults)
    except IntegrityError:  # two fetchers inserted the same key at once: the other one won
        row, created = InboundMail.objects.get(message_key=key), False
    if source.uid is not None and (created or row.status != InboundMail.Status.PROCESSED):
        # Where to fetch it again from, for a retry.
        InboundMail.objects.filter(pk=row.pk).update(
            account=source.account[:255], uid_validity=source.uid_validity, uid=source.uid
        )
    return row


def _deliver(row: InboundMail, parsed: ParsedMail) -> None:
    """Inside the row's transaction: a reply on the thread's ticket, else a new ticket."""
    now = timezone.now()
    ticket = thread_ticket(parsed)
    if ticket is not None and ticket.status in machine_for(ticket.type).final:
        # The conversation was over: the customer's new mail opens a new ticket linked to it.
        row.outcome = InboundMail.Outcome.NEW_TICKET
        row.ticket = _new_ticket(row, parsed, parent=ticket)
    elif ticket is not None:
        comment = comment_from_customer(
            ticket=ticket,
            body=_reply_text(parsed.text),
            via="email",
            files=[(a.filename, a.content_type, a.data) for a in parsed.attachments],
        )
        row.outcome = InboundMail.Outcome.REPLY
        row.ticket = ticket
        row.comment = comment
    else:
        row.outcome = InboundMail.Outcome.NEW_TICKET
        row.ticket = _new_ticket(row, parsed, parent=None)
    row.status = InboundMail.Status.PROCESSED
    row.attempts += 1
    row.error = ""
    row.processed_at = now
    row.save(
        update_fields=[
            "outcome",
            "ticket",
            "comment",
            "status",
            "attempts",
            "error",
            "processed_at",
            "updated_at",
        ]
    )
    audit_record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        target=row,
        field="email_in",
        changes={"ticket": row.ticket_id, "outcome": row.outcome, "comment": row.comment_id},
    )


def _follow_merges(ticket: Ticket) -> Ticket:
    for _hop in range(5):
        if ticket.merged_into_id is None:
            break
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def thread_ticket(parsed: ParsedMail) -> Ticket | None:
    """The ticket a message answers.

    1. In-Reply-To / References naming a message Kefu sent or received for a ticket: those ids
       are random, so knowing one is proof enough;
    2. else a ticket number in the subject ("[GD20261125-000123]"), but only from an address
       that already belongs to that ticket (its earlier mails, its replies' recipients, its
       customer's contacts): numbers are sequential, and a stranger must not be able to write
       on any ticket by guessing one. Anyone else opens a new ticket.
    """
    ids = parsed.thread_ids()
    if ids:
        known = dict(
            InboundMail.objects.filter(message_id__in=ids, ticket__isnull=False).values_list(
                "message_id", "ticket_id"
            )
        )
        known.update(
            OutboundMail.objects.filter(message_id__in=ids).values_list("message_id", "ticket_id")
        )
        for mid in ids:
            if mid in known:
                return _follow_merges(Ticket.objects.get(pk=known[mid]))
    match = TICKET_TAG.search(parsed.subject)
    if match and parsed.from_address:
        ticket = Ticket.objects.filter(number=match.group(1)).first()
        if ticket is not None and _sender_belongs(ticket, parsed.from_address):
            return _follow_merges(ticket)
    return None


def _sender_belongs(ticket: Ticket, address: str) -> bool:
    if InboundMail.objects.filter(ticket=ticket, from_address__iexact=address).exists():
        return True
    if OutboundMail.objects.filter(ticket=ticket, to_address__iexact=address).exists():
        return True
    if apps.is_installed("kefu.portal"):
        # the web form's submitter, or the address the registered/resolved notice went to
        from kefu.portal.models import CustomerNotice, TicketRequester

        if TicketRequester.objects.filter(ticket=ticket, email__iexact=address).exists():
            return True
        if CustomerNotice.objects.filter(
            ticket=ticket, channel=CustomerNotice.Channel.EMAIL, recipient__iexact=address
        ).exists():
            return True
    return ticket.customer_id is not None and (
        Contact.objects.filter(customer_id=ticket.customer_id, email__iexact=address).exists()
    )


def _reply_text(text: str) -> str:
    """The customer's new words: the quoted earlier mail is cut off when something is left."""
    match = _QUOTE_START.search(text)
    if match and text[: match.start()].strip():
        text = text[: match.start()]
    lines = [line for line in text.split("\n") if not line.startswith(">")]
    return "\n".join(lines).strip() or text.strip()


def _sender_customer(address: str) -> tuple[int | None, int | None]:
    """(customer, contact) of the contact with this address, when exactly one customer has it
    (two customers sharing an address: the agent decides, not a guess)."""
    if not address:
        return None, None
    rows = list(
        Contact.objects.filter(email__iexact=address)
        .order_by("-is_primary", "id")
        .values_list("customer_id", "id")[:20]
    )
    if len({customer_id for customer_id, _contact in rows}) != 1:
        return None, None
    return rows[0]


def _split_files(files: list[Attachment]) -> tuple[list[Attachment], list[str]]:
    """The attachments the desk's limits allow, and a line for each refused one."""
    max_bytes, allowed = attachment_limits()
    kept: list[Attachment] = []
    refused: list[str] = []
    for item in files:
        name = item.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "attachment"
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in allowed:
            refused.append(_("附件“%(name)s”类型不允许，未保存。") % {"name": name})
        elif len(item.data) > max_bytes:
            refused.append(
                _("附件“%(name)s”超过 %(mb)s MB 的上限，未保存。")
                % {"name": name, "mb": f"{max_bytes / 1024 / 1024:g}"}
            )
        else:
            kept.append(Attachment(name, item.content_type, item.data))
    return kept, refused


def _mail_team_id() -> int | None:
    name = str(settings.MAIL_TEAM or "")
    if not name:
        return None
    return Team.objects.filter(name=name).values_list("id", flat=True).first()


def _new_ticket(row: InboundMail, parsed: ParsedMail, *, parent: Ticket | None) -> Ticket:
    """An inquiry by email from the sender's customer (none when the address is unknown: the
    address stays on the InboundMail row and shows on the ticket's mail panel). Refused
    attachments are named in the description; kept ones are stored on the ticket."""
    robot = mail_robot()
    kept, refused = _split_files(parsed.attachments)
    notes = [f"[{line}]" for line in refused]
    body = parsed.text or _("（无正文）")
    room = BODY_LIMIT - sum(len(n) + 2 for n in notes) - 50
    if len(body) > room:
        body = body[:room].rstrip()
        notes.insert(0, _("[正文过长，已截断。]"))
    if notes:
        body = body + "\n\n" + "\n".join(notes)
    customer_id, contact_id = _sender_customer(parsed.from_address)
    if parent is not None and customer_id is None:
        customer_id, contact_id = parent.customer_id, None
    team_id = _mail_team_id() if customer_id is None else None
    ticket, _created = ticket_create(
        actor=robot,
        data=TicketInput(
            type=Ticket.Type.INQUIRY,
            channel=Ticket.Channel.EMAIL,
            subject=clean(parsed.subject, 200) or _("（无主题邮件）"),
            body=clean(body, BODY_LIMIT),
            customer_id=customer_id,
            contact_id=contact_id,
            team_id=team_id,
            parent_id=parent.pk if parent is not None else None,
        ),
        idempotency_key=f"mail:{row.pk}",
    )
    now = timezone.now()
    for item in kept:
        attachment = TicketAttachment(
            ticket=ticket,
            filename=item.filename,
            content_type=(item.content_type or "application/octet-stream")[:100],
            size=len(item.data),
            created_at=now,
        )
        attachment.file.save(item.filename, ContentFile(item.data), save=False)
        attachment.save()
    return ticket


# --- outbound ----------------------------------------------------------------------------------


def thread_address(ticket: Ticket) -> str:
    """Where replies go: the address the customer last wrote from, else the ticket's contact's,
    else the customer's primary (or first) contact with an address; "" when there is none."""
    last = (
        InboundMail.objects.filter(ticket=ticket)
        .exclude(from_address="")
        .order_by("-id")
        .values_list("from_address", flat=True)
        .first()
    )
    if last:
        return last
    if ticket.contact_id is not None:
        email = Contact.objects.filter(pk=ticket.contact_id).values_list("email", flat=True).first()
        if email:
            return email
    if ticket.customer_id is not None:
        email = (
            Contact.objects.filter(customer_id=ticket.customer_id)
            .exclude(email="")
            .order_by("-is_primary", "id")
            .values_list("email", flat=True)
            .first()
        )
        if email:
            return email
    return ""


def _thread_ids(ticket: Ticket) -> tuple[str, list[str]]:
    """(In-Reply-To, References) of the next reply: the customer's latest message (else our
    latest), and the thread's ids oldest first (the last 20: enough for every client)."""
    inbound = list(
        InboundMail.objects.filter(ticket=ticket)
        .exclude(message_id="")
        .values_list("created_at", "message_id")
    )
    outbound = list(
        OutboundMail.objects.filter(ticket=ticket).values_list("created_at", "message_id")
    )
    thread = [mid for _at, mid in sorted(inbound + outbound)]
    in_reply_to = (inbound and max(inbound)[1]) or (thread[-1] if thread else "")
    return in_reply_to, thread[-20:]


def reply_subject(ticket: Ticket) -> str:
    subject = _REPLY_PREFIX.sub("", ticket.subject).strip() or _("您的工单")
    if f"[{ticket.number}]" not in subject:
        subject = f"{subject} [{ticket.number}]"
    return f"Re: {subject}"


def outbound_queue(*, ticket: Ticket, comment: TicketComment) -> OutboundMail | None:
    """In the reply's transaction: the OutboundMail row (rolled back with the reply), and the
    sending task enqueued on commit. None when the ticket has no address to write to."""
    from kefu.mail.tasks import outbound_send_task

    address = thread_address(ticket)
    if not address:
        return None
    in_reply_to, references = _thread_ids(ticket)
    domain = parseaddr(str(settings.MAIL_FROM))[1].rpartition("@")[2] or "kefu.localhost"
    message_id = make_msgid(idstring=f"kefu.{ticket.number}", domain=domain).strip("<>")
    outbound = OutboundMail.objects.create(
        comment=comment,
        ticket=ticket,
        to_address=address[:254],
        subject=reply_subject(ticket)[:500],
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=" ".join(references),
    )
    audit_record(
        actor=comment.author,
        action=AuditEvent.Action.CREATE,
        target=outbound,
        field="email_out",
        changes={"ticket": ticket.pk, "comment": comment.pk},
    )
    pk = outbound.pk
    transaction.on_commit(lambda: outbound_send_task(pk))
    return outbound


def on_comment_added(
    sender: Any, ticket: Ticket, comment: TicketComment, actor: User | None, **kwargs: Any
) -> None:
    """The desk's comment_added: an agent's public reply goes to the customer by email."""
    if actor is None or not comment.public or comment.from_customer:
        return
    outbound_queue(ticket=ticket, comment=comment)


def _email_for(outbound: OutboundMail) -> EmailMessage:
    comment = outbound.comment
    ticket = outbound.ticket
    body = "\n\n".join(
        [
            comment.body,
            "--",
            _("工单号：%(number)s。直接回复此邮件即可补充信息，请保留主题中的工单号。")
            % {"number": ticket.number},
        ]
    )
    headers = {"Message-ID": f"<{outbound.message_id}>"}
    if outbound.in_reply_to:
        headers["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    if outbound.references:
        headers["References"] = " ".join(f"<{mid}>" for mid in outbound.references.split())
    message = EmailMessage(
        subject=outbound.subject,
        body=body,
        from_email=str(settings.MAIL_FROM),
        to=[outbound.to_address],
        headers=headers,
    )
    for attachment in comment.attachments.all():
        with attachment.file.open("rb") as handle:
            message.attach(attachment.filename, handle.read(), attachment.content_type)
    return message


def _stale_sending() -> timedelta:
    """A row still "sending" this long after its claim lost its worker (KEFU_NOTICE_STALE_MINUTES,
    shared with the customer notices)."""
    return timedelta(minutes=int(settings.NOTICE_STALE_MINUTES))


def _give_up(outbound: OutboundMail, error: str) -> None:
    notify_delivery_given_up(
        outbound.ticket,
        message=_("工单 %(number)s 的邮件回复多次发送失败，已放弃：%(error)s")
        % {"number": outbound.ticket.number, "error": error[:120]},
    )


def outbound_send(outbound_id: int) -> str:
    """One attempt at sending. The row is claimed first (PENDING → SENDING with a conditional
    UPDATE), so two tasks for the same reply never both send it; a row stuck in SENDING (the
    worker died) may be claimed again after KEFU_NOTICE_STALE_MINUTES. Raises OutboundFailed
    (Huey retries) while attempts remain; after the last one the row stays FAILED and the
    ticket's supervisors are told."""
    now = timezone.now()
    claimable = Q(status=OutboundMail.Status.PENDING) | Q(
        status=OutboundMail.Status.SENDING, claimed_at__lt=now - _stale_sending()
    )
    claimed = (
        OutboundMail.objects.filter(claimable, pk=outbound_id)
        .filter(attempts__lt=_max_attempts_out())
        .update(
            status=OutboundMail.Status.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    outbound = OutboundMail.objects.select_related("comment", "ticket").get(pk=outbound_id)
    if not claimed:
        return str(outbound.status)
    # Only while this claim stands: once a sweep has judged it dead and queued the row again,
    # the row is the new sender's and this slow one must not overwrite its outcome.
    mine = OutboundMail.objects.filter(
        pk=outbound_id, status=OutboundMail.Status.SENDING, claimed_at=now
    )
    try:
        message = _email_for(outbound)
        message.connection = get_connection(fail_silently=False)
        message.send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        final = outbound.attempts >= _max_attempts_out()
        with transaction.atomic():
            marked = mine.update(
                status=OutboundMail.Status.FAILED if final else OutboundMail.Status.PENDING,
                error=error,
                updated_at=timezone.now(),
            )
            if marked and final:
                _give_up(outbound, error)
        if final:
            return str(OutboundMail.Status.FAILED)
        raise OutboundFailed(error) from exc
    mine.update(
        status=OutboundMail.Status.SENT, sent_at=timezone.now(), error="", updated_at=timezone.now()
    )
    return str(OutboundMail.Status.SENT)


def _max_attempts_out() -> int:
    return int(settings.MAIL_SEND_ATTEMPTS)


def outbound_sweep(now: datetime | None = None) -> dict[str, int]:
    """Replies a dead worker left "sending" past KEFU_NOTICE_STALE_MINUTES, and replies left
    "pending" LOST_PENDING after their last change (the queue was down at commit, the task was
    lost): queued again, or, with no attempt left, given up (FAILED with the reason, bell).

    Each change is a conditional UPDATE on the status and the ``claimed_at``/``updated_at`` this
    sweep read: of two sweeps at once only one acts on a row and queues it, and the claim in
    outbound_send keeps a queued row from being sent twice."""
    from kefu.mail.tasks import outbound_send_task

    now = now or timezone.now()
    counts = {"requeued": 0, "given_up": 0}
    stuck = OutboundMail.objects.filter(
        Q(status=OutboundMail.Status.SENDING)
        & (
            Q(claimed_at__lt=now - _stale_sending())
            | Q(claimed_at__isnull=True, updated_at__lt=now - _stale_sending())
        )
        | Q(status=OutboundMail.Status.PENDING, updated_at__lt=now - LOST_PENDING)
    ).select_related("ticket")[:200]
    for outbound in stuck:
        this_one = OutboundMail.objects.filter(
            pk=outbound.pk, status=outbound.status, updated_at=outbound.updated_at
        )
        if outbound.status == OutboundMail.Status.SENDING:
            this_one = this_one.filter(claimed_at=outbound.claimed_at)
        with transaction.atomic():
            if outbound.attempts >= _max_attempts_out():
                error = _("发送中断（处理进程未完成），且已达最多 %(max)s 次尝试，已放弃。") % {
                    "max": _max_attempts_out()
                }
                if this_one.update(status=OutboundMail.Status.FAILED, error=error, updated_at=now):
                    _give_up(outbound, error)
                    counts["given_up"] += 1
                continue
            error = outbound.error
            if outbound.status == OutboundMail.Status.SENDING:
                error = _("发送中断（处理进程未完成），已重新排队。")
            if this_one.update(status=OutboundMail.Status.PENDING, error=error, updated_at=now):
                transaction.on_commit(partial(outbound_send_task, outbound.pk), robust=True)
                counts["requeued"] += 1
    return counts
