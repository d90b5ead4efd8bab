from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "kefu.workspace"
    label = "workspace"
    verbose_name = _("坐席工作台")

    def ready(self) -> None:
        from kefu.desk.panels import DetailPanel, register_detail_panel
        from kefu.web.nav import NavItem, register
        from kefu.workspace import panels
        from kefu.workspace.access import can_view_load

        register(NavItem("workspace_load", _("坐席负载"), "workspace:load", can_view_load, order=7))
        register_detail_panel(
            DetailPanel(
                name="workspace-customer",
                template="workspace/partials/_customer_panel.html",
                context=panels.customer_panel,
                column="side",
                order=5,
            )
        )
        register_detail_panel(
            DetailPanel(
                name="workspace-replies",
                template="workspace/partials/_replies_panel.html",
                context=panels.replies_panel,
                column="main",
                order=10,
            )
        )
        register_detail_panel(
            DetailPanel(
                name="workspace-merge",
                template="workspace/partials/_merge_panel.html",
                context=panels.merge_panel,
                column="main",
                order=90,
            )
        )
