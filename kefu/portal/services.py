"""The customer portal's writes: the public form's ticket, the status links, the customer's
replies through a link.

The form creates its ticket through the desk's own ``ticket_create``, which needs an actor
with ``desk.add_ticket`` and sees only the customers that actor may see. Rather than loosen
those checks for anonymous callers, the portal acts as one dedicated system user,
``portal-robot`` (unusable password, so nobody logs in as it), holding exactly the
permissions a submission needs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.calls.services import customer_match_number
from kefu.core import fastsql
from kefu.core.exceptions import ApplicationError, Conflict, NotFound
from kefu.core.phones import InvalidPhone, normalize_mobile
from kefu.core.text import clean_text
from kefu.customers.models import Contact, Customer
from kefu.desk.models import Ticket, TicketAttachment, TicketComment
from kefu.desk.services import TicketInput, attachment_limits, comment_from_customer, ticket_create
from kefu.desk.workflow import is_final
from kefu.org.models import User
from kefu.portal.models import TicketAccess, TicketRequester

logger = logging.getLogger(__name__)

ROBOT_USERNAME = "portal-robot"
ROBOT_PERMISSIONS = (
    ("desk", "add_ticket"),
    ("desk", "view_ticket"),
    ("customers", "view_customer"),
    ("customers", "view_all_customers"),  # match any customer by mobile or email
)
# The types a customer may file themselves; order requests, claims' appeals and arbitration
# start from an agent.
PORTAL_TYPES = (
    Ticket.Type.INQUIRY,
    Ticket.Type.COMPLAINT,
    Ticket.Type.REPAIR,
    Ticket.Type.SUGGESTION,
    Ticket.Type.CLAIM,
)
MAX_FILES = 5
TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,100}$")
# The raw token of a ticket's new link, left on the ticket object between its issue and the
# "registered" notice (kefu.portal.receivers): the only time it exists in clear.
TOKEN_ATTRIBUTE = "_portal_token"  # noqa: S105 (an attribute name, not a secret)


def _invalid(errors: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError(
        _("提交的内容有误，请检查标出的字段。"), code="invalid", status=422, fields=errors
    )


# --- the robot -----------------------------------------------------------------------------------


def portal_robot() -> User:
    """The system user the public form acts as; created with its permissions on first use."""
    robot = User.objects.filter(username=ROBOT_USERNAME).first()
    if robot is not None:
        return robot
    try:
        with transaction.atomic():
            robot = User(username=ROBOT_USERNAME, display_name=_("网页表单"), is_active=True)
            robot.set_unusable_password()
            robot.save()
            match = Q(pk__in=[])
            for app_label, codename in ROBOT_PERMISSIONS:
                match |= Q(content_type__app_label=app_label, codename=codename)
            robot.user_permissions.add(*Permission.objects.filter(match))
    except IntegrityError:  # another request created it first
        return User.objects.get(username=ROBOT_USERNAME)
    return robot


# --- status links --------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_issue(
    *, ticket: Ticket, actor: User | None = None, fresh: bool = False
) -> tuple[str, int]:
    """A new status link for the ticket: revokes the live one (``fresh``: a ticket being
    created has none), stores only the new token's hash. Returns the token (the one moment it
    exists in clear) and how many were revoked."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    revoked = (
        0
        if fresh
        else TicketAccess.objects.filter(ticket=ticket, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )
    # on every ticket create: the INSERT is compiled once (kefu.core.fastsql)
    fastsql.insert(
        TicketAccess(ticket=ticket, token_hash=token_hash(token), created_by=actor),
        deferrable=True,
    )
    return token, revoked


@transaction.atomic
def access_regenerate(*, actor: User, ticket: Ticket) -> str:
    """An agent's "new link": the customer's old link stops working at once (audited)."""
    # Lock the ticket row: two agents clicking at once queue here instead of one of them
    # hitting the one-live-link constraint.
    Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
    token, revoked = access_issue(ticket=ticket, actor=actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=ticket,
        field="portal_link",
        changes={"revoked": revoked},
        note=_("重新生成客户查询链接，旧链接作废"),
    )
    return token


def access_ticket(token: str) -> Ticket:
    """The ticket a live link opens, or NotFound: a malformed, unknown or revoked token all
    answer the same."""
    if not _TOKEN_SHAPE.match(token or ""):
        raise NotFound(_("链接无效或已失效。"))
    access = (
        TicketAccess.objects.select_related("ticket", "ticket__merged_into")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if access is None:
        raise NotFound(_("链接无效或已失效。"))
    return access.ticket


# --- input ---------------------------------------------------------------------------------------


@dataclass
class PortalRequest:
    type: str = ""
    name: str = ""
    mobile: str = ""
    email: str = ""
    company: str = ""
    subject: str = ""
    description: str = ""


@dataclass
class PortalReceipt:
    ticket: Ticket
    token: str  # empty when the submission was a replay: the link went out by SMS/email
    created: bool


def _text(value: str, name: str, limit: int, errors: dict[str, list[str]], required: bool) -> str:
    try:
        return clean_text(value or "", max_length=limit, required=required)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return ""


def files_check(files: list[UploadedFile], errors: dict[str, list[str]]) -> None:
    """The desk's attachment limits (type and size), checked before anything is written: on
    the web the customer can fix it, so a refused file is an error, not a note."""
    max_bytes, allowed = attachment_limits()
    problems = []
    if len(files) > MAX_FILES:
        problems.append(_("最多上传 %(count)d 个附件。") % {"count": MAX_FILES})
    for upload in files:
        name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "file"
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in allowed:
            problems.append(
                _("不支持的文件类型“%(name)s”，允许：%(types)s。")
                % {"name": name, "types": "、".join(sorted(allowed))}
            )
        elif (upload.size or 0) > max_bytes:
            problems.append(
                _("文件“%(name)s”超过 %(mb)s MB 的上限。")
                % {"name": name, "mb": f"{max_bytes / 1024 / 1024:g}"}
            )
    if problems:
        errors["files"] = problems


def request_clean(data: PortalRequest, files: list[UploadedFile]) -> PortalRequest:
    """The form's fields checked and normalised (mobile to E.164), or a 422 naming each bad
    field; nothing is written either way."""
    errors: dict[str, list[str]] = {}
    if data.type not in PORTAL_TYPES:
        errors["type"] = [_("请选择问题类型。")]
    name = _text(data.name, "name", 64, errors, required=True)
    company = _text(data.company, "company", 100, errors, required=False)
    subject = _text(data.subject, "subject", 200, errors, required=True)
    description = _text(data.description, "description", 10000, errors, required=True)
    mobile = ""
    raw_mobile = (data.mobile or "").strip()
    if raw_mobile:
        try:
            mobile = normalize_mobile(raw_mobile)
        except InvalidPhone as exc:
            errors["mobile"] = [exc.message]
    email = (data.email or "").strip()
    if email:
        try:
            validate_email(email)
            if len(email) > 254:
                raise ValidationError("too long")
        except ValidationError:
            errors["email"] = [_("“%(value)s”不是有效的邮箱地址。") % {"value": email[:60]}]
    if not raw_mobile and not email:
        errors["mobile"] = [_("请至少填写手机号码或邮箱中的一项，以便我们联系您。")]
    files_check(files, errors)
    if errors:
        raise _invalid(errors)
    return PortalRequest(
        type=data.type,
        name=name,
        mobile=mobile,
        email=email,
        company=company,
        subject=subject,
        description=description,
    )


def customer_match(*, mobile: str, email: str) -> tuple[Customer | None, Contact | None]:
    """The customer the submitter is: by mobile (the customer's own or a contact's), else by
    a contact's email. Erased customers match nothing; a merged one leads to its survivor."""
    if mobile:
        customer, contact = customer_match_number(mobile)
        if customer is not None:
            return customer, contact
    if email:
        contact = (
            Contact.objects.filter(email__iexact=email, customer__erased_at__isnull=True)
            .select_related("customer")
            .order_by("-is_primary", "-id")
            .first()
        )
        if contact is not None:
            customer = contact.customer
            if customer.merged_into_id is not None:
                survivor = Customer.objects.filter(
                    pk=customer.merged_into_id, erased_at__isnull=True
                ).first()
                if survivor is not None:
                    return survivor, None
            return customer, contact
    return None, None


# --- the public form -----------------------------------------------------------------------------


@transaction.atomic
def portal_submit(
    *,
    data: PortalRequest,
    files: list[UploadedFile] | None = None,
    idempotency_key: str = "",
    ip: str | None = None,
) -> PortalReceipt:
    """A ticket from the public form, in one transaction.

    1. the fields and files are checked (422, nothing written);
    2. the customer is matched by mobile or email; unknown submitters get a ticket without a
       customer, their name and contact kept on a TicketRequester;
    3. the ticket is created by the desk (channel web, as portal-robot); a retried form (same
       idempotency key) answers the first ticket;
    4. the files go on a customer comment, so the agent sees them in the timeline.
    The status link and the "registered" notice come from the ticket_created receiver.
    """
    files = files or []
    clean = request_clean(data, files)
    robot = portal_robot()
    customer, contact = customer_match(mobile=clean.mobile, email=clean.email)
    ticket, created = ticket_create(
        actor=robot,
        data=TicketInput(
            type=clean.type,
            channel=Ticket.Channel.WEB,
            subject=clean.subject,
            body=clean.description,
            customer_id=customer.pk if customer else None,
            contact_id=contact.pk if contact else None,
        ),
        idempotency_key=idempotency_key[:100],
    )
    if not created:
        return PortalReceipt(ticket=ticket, token="", created=False)
    # The ticket_created receiver issued the link in this transaction and left it on the
    # ticket: the thank-you page shows it, the "registered" notice carries it.
    token = getattr(ticket, TOKEN_ATTRIBUTE)
    TicketRequester.objects.create(
        ticket=ticket,
        name=clean.name,
        mobile=clean.mobile,
        email=clean.email,
        company=clean.company,
        matched=customer is not None,
        ip=ip,
    )
    if files:
        _attach(ticket, files, robot)
    return PortalReceipt(ticket=ticket, token=token, created=True)


def _attach(ticket: Ticket, files: list[UploadedFile], robot: User) -> None:
    now = timezone.now()
    comment = TicketComment.objects.create(
        ticket=ticket,
        body=_("（随网页表单提交的附件）"),
        public=True,
        from_customer=True,
        via=Ticket.Channel.WEB,
        created_at=now,
    )
    names = []
    for upload in files:
        name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "file"
        attachment = TicketAttachment(
            ticket=ticket,
            comment=comment,
            filename=name,
            content_type=(upload.content_type or "application/octet-stream")[:100],
            size=upload.size or 0,
            uploaded_by=robot,
            created_at=now,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
        names.append(name)
    audit_record(
        actor=robot,
        action=AuditEvent.Action.CREATE,
        target=ticket,
        field="customer_reply",
        changes={"comment": comment.pk, "attachments": names, "via": "web"},
    )


# --- replies through the link --------------------------------------------------------------------


def portal_reply(*, ticket: Ticket, body: str, files: list[UploadedFile]) -> TicketComment:
    """The customer's reply on the status page: checked first (422, nothing written), then the
    desk's ``comment_from_customer`` (a ticket waiting on the customer goes back to work). A
    ticket that is over takes no more replies (409)."""
    errors: dict[str, list[str]] = {}
    text = _text(body, "body", 10000, errors, required=True)
    files_check(files, errors)
    if errors:
        raise _invalid(errors)
    if is_final(ticket):
        raise Conflict(_("工单已结束，不能再回复。如有新问题，请重新提交。"))
    return comment_from_customer(
        ticket=ticket,
        body=text,
        via=Ticket.Channel.WEB,
        files=[
            (
                upload.name or "file",
                upload.content_type or "application/octet-stream",
                upload.read(),
            )
            for upload in files
        ],
    )
