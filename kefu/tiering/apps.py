from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TieringConfig(AppConfig):
    name = "kefu.tiering"
    verbose_name = _("客户分层")

    def ready(self) -> None:
        # Tiers do not listen to kefu.orders.signals.orders_changed: they follow the nightly
        # job or an explicit recompute (see kefu.tiering.services).
        from kefu.customers.archive import ArchivePanel, register_panel, register_timeline_provider
        from kefu.tiering.archive import can_view, tier_panel_context, tier_timeline
        from kefu.web.nav import NavItem, register

        register(NavItem("tiering", _("客户分层"), "tiering:index", can_view, order=30))
        register_panel(
            ArchivePanel(
                key="tier",
                title=_("客户等级"),
                template="tiering/partials/_archive_panel.html",
                context=tier_panel_context,
                allowed=can_view,
                order=20,
            )
        )
        register_timeline_provider("tier", tier_timeline)
