"""Small helpers the server-rendered views share."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kefu.api.schemas import MAX_ID
from kefu.core.exceptions import ApplicationError
from kefu.org.models import User


def request_user(request: HttpRequest) -> User:
    """The logged-in user of a view behind @login_required."""
    assert isinstance(request.user, User)
    return request.user


def refuse(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    """A service's refusal as the error page, with its status (403, 404, 409 …)."""
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


def form_id(value: str | None) -> int | None:
    """A database id from a form field, or None for anything else (empty, text, 0, too big)."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number <= MAX_ID else None
