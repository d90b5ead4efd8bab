from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The supervisor's live dashboard: today's and this week's KPIs, open tickets by state and
    age, SLA at risk, calls waiting and agent load, refreshing in place."""

    name = "kefu.dashboard"
    label = "dashboard"
    verbose_name = _("主管看板")

    def ready(self) -> None:
        from kefu.dashboard.selectors import can_view_dashboard
        from kefu.web.nav import NavItem, register

        register(
            NavItem("dashboard", _("服务看板"), "dashboard:index", can_view_dashboard, order=8)
        )
