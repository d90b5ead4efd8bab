from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The monthly customer report (客服月报): customer movements, complaints, service,
    profitability and action lists, archived, exported as XLSX and PDF."""

    name = "kefu.reports"
    label = "reports"
    verbose_name = _("客服月报")
