from __future__ import annotations

import importlib
import pkgutil

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The monthly customer report (客服月报): customer movements, complaints, service,
    profitability and action lists, archived, exported as XLSX and PDF."""

    name = "kefu.reports"
    label = "reports"
    verbose_name = _("客服月报")

    def ready(self) -> None:
        from kefu.org.models import User
        from kefu.reports.movements_section import CustomerMovementsSection
        from kefu.reports.sections import register_section
        from kefu.web.nav import NavItem, register

        def can_view(user: User) -> bool:
            return user.has_perm("reports.view_monthlyreport")

        register(NavItem("reports", _("报表"), "reports:index", can_view, order=70))
        register_section(CustomerMovementsSection())
        _import_builtin_sections()


def _import_builtin_sections() -> None:
    """The built-in sections after the movements (kefu.reports.builtin, when it exists): its
    ``register_all()`` registers them; failing that, each of its modules is imported (and
    registers its own). Other apps register theirs from their own AppConfig.ready()."""
    try:
        package = importlib.import_module("kefu.reports.builtin")
    except ModuleNotFoundError as exc:
        if exc.name != "kefu.reports.builtin":
            raise
        return
    register_all = getattr(package, "register_all", None)
    if callable(register_all):
        register_all()
        return
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
