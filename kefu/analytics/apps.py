from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """The KPI layer (domain.md §2): one definition per KPI, sliceable, read by the dashboard
    and the monthly report; and the monthly service costs that cost per contact divides."""

    name = "kefu.analytics"
    label = "analytics"
    verbose_name = _("服务指标")

    def ready(self) -> None:
        from kefu.analytics.views import can_view_costs
        from kefu.web.nav import NavItem, register

        register(
            NavItem("service_costs", _("服务成本"), "analytics:costs", can_view_costs, order=88)
        )
