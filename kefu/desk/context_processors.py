from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kefu.desk.models import Notification


def bell(request: HttpRequest) -> dict[str, Any]:
    """The unread count of the bell in the top bar (one indexed COUNT, staff with tickets)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("desk.view_ticket"):
        return {}
    unread = Notification.objects.filter(user=user, read_at__isnull=True)[:100].count()
    return {"desk_unread": unread}
