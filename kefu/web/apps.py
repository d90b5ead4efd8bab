from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "kefu.web"
    label = "web"
    verbose_name = _("网页界面")

    def ready(self) -> None:
        from kefu.web.nav import NavItem, register

        register(NavItem("web", _("首页"), "web:home", lambda user: True, order=0))
        register(
            NavItem(
                "customers",
                _("客户"),
                "customers:list",
                lambda user: user.has_perm("customers.view_customer"),
                order=10,
            )
        )
        register(
            NavItem(
                "audit",
                _("审计日志"),
                "audit:list",
                lambda user: user.has_perm("audit.view_auditevent"),
                order=90,
            )
        )
        register(
            NavItem("admin", _("系统管理"), "admin:index", lambda user: user.is_staff, order=95)
        )
