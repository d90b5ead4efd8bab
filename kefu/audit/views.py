from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.selectors import audit_event_list


@login_required
def audit_event_list_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("audit.view_auditevent"):
        return render(
            request,
            "web/error.html",
            {"message": _("只有审计员和客服经理可以查看审计日志。")},
            status=403,
        )
    action = request.GET.get("action", "")
    if action not in AuditEvent.Action.values:
        action = ""
    q = request.GET.get("q", "")[:100].replace("\x00", "")
    events = audit_event_list(action=action, q=q)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/event_list.html",
        {"page": page, "action": action, "q": q, "actions": AuditEvent.Action.choices},
    )
