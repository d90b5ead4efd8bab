from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "kefu.dispatch"
    label = "dispatch"
    verbose_name = _("派工单")

    def ready(self) -> None:
        from kefu.desk.listing import ListFacet, register_list_facet
        from kefu.desk.panels import DetailPanel, register_detail_panel
        from kefu.desk.signals import register_transition_guard
        from kefu.dispatch.selectors import (
            WORKORDER_OPEN,
            WORKORDER_OVERDUE,
            ticket_workorder_badges,
            ticket_workorder_condition,
            ticket_workorder_counts,
        )
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
        # The desk's ticket list: ?workorder=overdue|open, and a badge on each row with open orders.
        register_list_facet(
            ListFacet(
                name="workorder",
                label=_("派工单"),
                choices=(
                    (WORKORDER_OVERDUE, _("派工单逾期")),
                    (WORKORDER_OPEN, _("有未完成派工单")),
                ),
                condition=ticket_workorder_condition,
                row_facts=ticket_workorder_counts,
                row_badges=ticket_workorder_badges,
                quick=(WORKORDER_OVERDUE,),
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
