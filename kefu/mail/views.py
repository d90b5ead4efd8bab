"""The staff page of mail in and out: what came, what went, what failed and why."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kefu.core.exceptions import ApplicationError
from kefu.mail.fetch import account_name, fetch_enabled
from kefu.mail.selectors import mail_log_for_user
from kefu.mail.services import mask_email
from kefu.org.models import User

ROWS = 50


@login_required
def mail_log_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    status = request.GET.get("status", "")
    if status not in ("", "failed", "pending"):
        status = ""
    try:
        inbound, outbound, states = mail_log_for_user(user, status=status)
    except ApplicationError as exc:
        return render(request, "web/error.html", {"message": exc.message}, status=exc.status)
    inbound_rows = list(inbound[:ROWS])
    outbound_rows = list(outbound[:ROWS])
    for row in inbound_rows:
        row.address_masked = mask_email(row.from_address)  # type: ignore[attr-defined]
    for out in outbound_rows:
        out.address_masked = mask_email(out.to_address)  # type: ignore[attr-defined]
    return render(
        request,
        "mail/mail_log.html",
        {
            "inbound": inbound_rows,
            "outbound": outbound_rows,
            "states": list(states),
            "status": status,
            "fetch_enabled": fetch_enabled(),
            "account": account_name() if fetch_enabled() else "",
        },
    )
