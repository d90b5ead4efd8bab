from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "kefu.dispatch"
    label = "dispatch"
    verbose_name = _("派工单")

    def ready(self) -> None:
        from kefu.desk.panels import DetailPanel, register_detail_panel
        from kefu.desk.signals import register_transition_guard
        from kefu.dispatch.services import open_work_orders_guard
        from kefu.dispatch.views import ticket_panel_context
        from kefu.web.nav import NavItem, register

        # The ticket cannot be resolved or closed while a work order is open.
        register_transition_guard("dispatch-open-work-orders", open_work_orders_guard)
        register_detail_panel(
            DetailPanel(
                "work_orders",
                "dispatch/partials/_ticket_panel.html",
                ticket_panel_context,
                column="main",
                order=20,
            )
        )
        register(
            NavItem(
                "workorders",
                _("派工单"),
                "dispatch:monitor",
                lambda user: user.has_perm("desk.view_ticket"),
                order=6,
            )
        )
