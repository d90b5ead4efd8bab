from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _

from kefu.api.api import api
from kefu.api.errors import error_response
from kefu.web.forms import LoginForm


def api_not_found(request: HttpRequest, rest: str) -> JsonResponse:
    return error_response(
        404, "not_found", _("接口不存在：%(path)s") % {"path": request.path[:200]}
    )


urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tickets/", include("kefu.desk.urls")),
    path("workspace/", include("kefu.workspace.urls")),
    path("dashboard/", include("kefu.dashboard.urls")),
    path("workorders/", include("kefu.dispatch.urls")),
    path("customers/", include("kefu.customers.urls")),
    path("orders/", include("kefu.orders.urls")),
    path("tiers/", include("kefu.tiering.urls")),
    path("credit/", include("kefu.credit.urls")),
    path("routing/", include("kefu.routing.urls")),
    path("privacy/", include("kefu.customers.urls_privacy")),
    path("audit/", include("kefu.audit.urls")),
    path("reports/", include("kefu.reports.urls")),
    path("sla/", include("kefu.sla.urls")),
    path("calls/", include("kefu.calls.urls")),
    path("analytics/", include("kefu.analytics.urls")),
    path("mail/", include("kefu.mail.urls")),
    path("support/", include("kefu.portal.urls")),
    path("", include("kefu.web.urls")),
]
