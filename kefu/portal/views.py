"""The public pages (no login): the submission form at /support/ and a ticket's status page
at /support/t/<token>/; and the agent's "new link" button on the ticket page."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError
from kefu.core.middleware import client_ip
from kefu.desk.access import ticket_get_for_user
from kefu.desk.downloads import attachment_response
from kefu.desk.models import Ticket
from kefu.desk.workflow import is_final
from kefu.org.models import User
from kefu.portal.notices import status_url
from kefu.portal.ratelimit import rate_exceeded
from kefu.portal.selectors import (
    customer_status,
    panel_context,
    public_attachment,
    public_entries,
)
from kefu.portal.services import (
    PORTAL_TYPES,
    PortalRequest,
    access_regenerate,
    access_ticket,
    portal_reply,
    portal_submit,
)

logger = logging.getLogger(__name__)

HONEYPOT = "website"  # hidden from people by CSS; bots fill every field they find
FORM_FIELDS = ("type", "name", "mobile", "email", "company", "subject", "description")


def _page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """A public page: the company's name in the header, never cached by a proxy, and no
    Referer sent from it (its URL may hold a status link's token)."""
    response = render(
        request, template, {"company_name": settings.COMPANY_NAME, **(context or {})}, status=status
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the status link is the key to the ticket
    return response


def _too_many() -> str:
    return _("提交过于频繁，请稍后再试。如有急事，请直接致电客服热线。")


def _form_context(values: dict[str, str], errors: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "general_errors": errors.pop("__all__", []),
        "types": [(value, Ticket.Type(value).label) for value in PORTAL_TYPES],
        "idempotency_key": values.get("idempotency_key") or uuid.uuid4().hex,
        "honeypot": HONEYPOT,
    }


def support_form_view(request: HttpRequest) -> HttpResponse:
    """The public form. Over the per-address rate → 429; a filled honeypot → a thank-you page
    and nothing stored (logged); bad input → the form again with each error (422)."""
    if request.method != "POST":
        return _page(request, "portal/support_form.html", _form_context({"type": ""}, {}))
    values = {name: request.POST.get(name, "")[:20000] for name in FORM_FIELDS}
    values["idempotency_key"] = request.POST.get("idempotency_key", "")[:100]
    ip = client_ip(request)
    if rate_exceeded(scope="submit", address=ip):
        context = _form_context(values, {"__all__": [_too_many()]})
        return _page(request, "portal/support_form.html", context, status=429)
    if request.POST.get(HONEYPOT, "").strip():
        logger.warning("portal: honeypot filled from %s, submission dropped", ip)
        return _page(request, "portal/support_thanks.html", {"ticket": None})
    files = request.FILES.getlist("files")
    try:
        receipt = portal_submit(
            data=PortalRequest(**{name: values[name] for name in FORM_FIELDS}),
            files=files,
            idempotency_key=values["idempotency_key"],
            ip=ip,
        )
    except ApplicationError as exc:
        errors = dict(exc.fields) or {"__all__": [exc.message]}
        return _page(request, "portal/support_form.html", _form_context(values, errors), status=422)
    return _page(
        request,
        "portal/support_thanks.html",
        {
            "ticket": receipt.ticket,
            "link": request.build_absolute_uri(reverse("portal:status", args=[receipt.token]))
            if receipt.token
            else "",
        },
    )


def _not_found(request: HttpRequest) -> HttpResponse:
    return _page(request, "portal/not_found.html", status=404)


def _status_context(ticket: Ticket, token: str, **extra: Any) -> dict[str, Any]:
    label, colour = customer_status(ticket)
    return {
        "ticket": ticket,
        "token": token,
        "status_label": label,
        "status_colour": colour,
        "entries": public_entries(ticket),
        "closed": is_final(ticket),
        # What the customer wrote themselves; an agent's summary of a call may hold remarks
        # not meant for them.
        "show_body": ticket.channel in (Ticket.Channel.WEB, Ticket.Channel.EMAIL),
        "errors": {},
        "general_errors": [],
        "body": "",
        **extra,
    }


def support_status_view(request: HttpRequest, token: str) -> HttpResponse:
    """A ticket's page for its customer. An unknown, malformed or revoked token is a plain
    404 that tells nothing; a closed ticket is read-only."""
    try:
        ticket = access_ticket(token)
    except ApplicationError:
        return _not_found(request)
    if request.method != "POST":
        return _page(request, "portal/ticket_status.html", _status_context(ticket, token))
    body = request.POST.get("body", "")[:20000]
    if rate_exceeded(scope="reply", address=client_ip(request)):
        context = _status_context(ticket, token, body=body, general_errors=[_too_many()])
        return _page(request, "portal/ticket_status.html", context, status=429)
    try:
        portal_reply(ticket=ticket, body=body, files=request.FILES.getlist("files"))
    except ApplicationError as exc:
        context = _status_context(
            ticket,
            token,
            body=body,
            errors=dict(exc.fields),
            general_errors=[] if exc.fields else [exc.message],
        )
        return _page(request, "portal/ticket_status.html", context, status=exc.status)
    messages.success(request, _("已收到您的回复，我们会尽快处理。"))
    return redirect("portal:status", token=token)


def support_attachment_view(
    request: HttpRequest, token: str, attachment_id: int
) -> HttpResponseBase:
    try:
        ticket = access_ticket(token)
    except ApplicationError:
        return _not_found(request)
    attachment = public_attachment(ticket, attachment_id)
    if attachment is None:
        return _not_found(request)
    return attachment_response(attachment)


@login_required
@require_POST
def panel_link_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The agent's "new link": revokes the old one (audited) and shows the new one once, with
    a copy button (the token is stored only as a hash, so it cannot be shown again)."""
    user = request.user
    assert isinstance(user, User)
    try:
        ticket = ticket_get_for_user(user=user, ticket_id=ticket_id, write=True)
        token = access_regenerate(actor=user, ticket=ticket)
    except ApplicationError as exc:
        return render(request, "web/error.html", {"message": exc.message}, status=exc.status)
    link = status_url(token)
    if getattr(request, "htmx", False):
        context = panel_context(ticket, user) or {}
        context["fresh_link"] = link
        return _page(request, "portal/partials/_panel.html", {"panel": context, "ticket": ticket})
    messages.success(
        request, _("已生成新的客户查询链接（旧链接已作废）：%(link)s") % {"link": link}
    )
    return redirect("desk:detail", ticket_id=ticket_id)
