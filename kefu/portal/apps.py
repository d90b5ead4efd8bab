from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "kefu.portal"
    label = "portal"
    verbose_name = _("客户门户")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from kefu.core.sweeps import register_sweeper
        from kefu.desk import signals
        from kefu.desk.panels import DetailPanel, register_detail_panel
        from kefu.portal.notices import notices_sweep
        from kefu.portal.receivers import (
            on_customer_saved,
            on_ticket_created,
            on_ticket_transitioned,
        )
        from kefu.portal.selectors import panel_context

        signals.ticket_created.connect(on_ticket_created, dispatch_uid="portal-ticket-created")
        signals.ticket_transitioned.connect(
            on_ticket_transitioned, dispatch_uid="portal-ticket-transitioned"
        )
        # Personal data erasure (PIPL) reaches the submitters' details kept here.
        post_save.connect(
            on_customer_saved, sender="customers.Customer", dispatch_uid="portal-customer-erased"
        )
        register_detail_panel(
            DetailPanel(
                name="portal",
                template="portal/partials/_panel.html",
                context=panel_context,
                column="side",
                order=60,
            )
        )
        # Notices a dead worker left "sending": queued again by kefu sweep_notices.
        register_sweeper("portal.notices", notices_sweep)
