from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from kefu.calls.services import user_has_agent_line
from kefu.org.models import User


def screen_pop(request: HttpRequest) -> dict[str, Any]:
    """The base layout polls for screen pops only for users with an agent line (cached)."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    if not user_has_agent_line(user):
        return {}
    return {
        "screen_pop_url": reverse("calls:pop"),
        "screen_pop_poll_ms": settings.SCREEN_POP_POLL_MS,
    }
