from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "kefu.portal"
    label = "portal"
    verbose_name = _("客户门户")

    def ready(self) -> None:
        from kefu.desk import signals
        from kefu.desk.panels import DetailPanel, register_detail_panel
        from kefu.portal.receivers import on_ticket_created, on_ticket_transitioned
        from kefu.portal.selectors import panel_context

        signals.ticket_created.connect(on_ticket_created, dispatch_uid="portal-ticket-created")
        signals.ticket_transitioned.connect(
            on_ticket_transitioned, dispatch_uid="portal-ticket-transitioned"
        )
        register_detail_panel(
            DetailPanel(
                name="portal",
                template="portal/partials/_panel.html",
                context=panel_context,
                column="side",
                order=20,
            )
        )
