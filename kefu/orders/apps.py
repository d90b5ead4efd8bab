from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "kefu.orders"
    verbose_name = _("订单")

    def ready(self) -> None:
        from kefu.customers.archive import register_panel, register_timeline_provider
        from kefu.customers.search import register_search_provider
        from kefu.orders.archive import ORDERS_PANEL, order_timeline, search_by_order_no
        from kefu.web.nav import NavItem, register

        register(
            NavItem(
                "orders",
                _("订单"),
                "orders:list",
                lambda user: user.has_perm("orders.view_order"),
                order=20,
            )
        )
        register_search_provider("order_no", search_by_order_no)
        register_panel(ORDERS_PANEL)
        register_timeline_provider("order", order_timeline)
