"""The dashboard page (/dashboard/) and its data (/dashboard/data/), which the page's script
fetches every KEFU_DASHBOARD_REFRESH_S seconds to redraw the cards and charts in place."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from kefu.api.errors import error_response
from kefu.core.exceptions import ApplicationError
from kefu.dashboard.selectors import dashboard_data, dashboard_scope
from kefu.web.helpers import form_id, refuse, request_user


@login_required
@never_cache
def dashboard_view(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    try:
        scope = dashboard_scope(user=user, team_id=form_id(request.GET.get("team")))
    except ApplicationError as exc:
        return refuse(request, exc)
    data = dashboard_data(scope)
    return render(
        request,
        "dashboard/dashboard.html",
        {"data": data, "scope": scope, "nav_section": "dashboard"},
    )


@login_required
@never_cache
def dashboard_data_view(request: HttpRequest) -> JsonResponse:
    user = request_user(request)
    try:
        scope = dashboard_scope(user=user, team_id=form_id(request.GET.get("team")))
    except ApplicationError as exc:
        return error_response(exc.status, exc.code, exc.message)
    return JsonResponse(dashboard_data(scope), json_dumps_params={"ensure_ascii": False})
