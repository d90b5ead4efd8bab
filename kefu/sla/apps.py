from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "kefu.sla"
    verbose_name = _("SLA与工作日历")

    def ready(self) -> None:
        from django.core import checks
        from django.db.models.signals import post_delete, post_save

        from kefu.sla.checks import calendar_coverage_check
        from kefu.sla.engine import sla_cache_clear
        from kefu.sla.models import (
            BusinessHours,
            CalendarDay,
            ComplaintDeadline,
            HolidayNotice,
            SlaPolicy,
        )
        from kefu.sla.views import can_manage_calendar
        from kefu.tiering.models import TierLevel, TierRuleSet
        from kefu.web.nav import NavItem, register

        # Every row the engine's snapshot holds: a change drops it (here and, through the
        # cache token, in the other processes).
        for model in (
            CalendarDay,
            HolidayNotice,
            BusinessHours,
            SlaPolicy,
            ComplaintDeadline,
            TierLevel,
            TierRuleSet,
        ):
            uid = f"sla_cache_{model._meta.label_lower}"
            post_save.connect(sla_cache_clear, sender=model, dispatch_uid=uid + "_save")
            post_delete.connect(sla_cache_clear, sender=model, dispatch_uid=uid + "_delete")
        checks.register(calendar_coverage_check)
        register(NavItem("sla", _("工作日历"), "sla:calendar", can_manage_calendar, order=80))
