from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """The KPI layer (domain.md §2): one definition per KPI, sliceable, read by the dashboard
    and the monthly report; and the monthly service costs that cost per contact divides."""

    name = "kefu.analytics"
    label = "analytics"
    verbose_name = _("服务指标")
