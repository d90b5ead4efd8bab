from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _on_customer_saving(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Every customer has a grade from creation on: computed before the INSERT (a new customer
    has no orders, so no query but the policy) and logged once the row exists."""
    if raw or not instance._state.adding:
        return
    from kefu.credit.services import credit_grade_new_customer

    instance._credit_first_assessment = credit_grade_new_customer(customer=instance)


def _on_customer_saved(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    result = instance.__dict__.pop("_credit_first_assessment", None)
    if not created or raw or result is None:
        return
    from kefu.credit.services import credit_log_new_customer

    credit_log_new_customer(customer=instance, result=result)


def _on_customers_bulk_created(sender: Any, customer_ids: list[int], **kwargs: Any) -> None:
    from django.utils.translation import gettext

    from kefu.credit.services import credit_evaluate

    credit_evaluate(customer_ids=customer_ids, reason=gettext("新建客户，初始评级"), audit=False)


class CreditConfig(AppConfig):
    name = "kefu.credit"
    verbose_name = _("信用管理")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_save

        from kefu.credit.archive import panel_context, timeline
        from kefu.credit.models import CreditPolicy
        from kefu.credit.selectors import can_view_credit
        from kefu.credit.services import forget_cached_policy, on_orders_changed
        from kefu.customers.archive import ArchivePanel, register_panel, register_timeline_provider
        from kefu.customers.models import Customer
        from kefu.customers.signals import customers_bulk_created
        from kefu.orders.signals import orders_changed
        from kefu.web.nav import NavItem, register

        pre_save.connect(_on_customer_saving, sender=Customer, dispatch_uid="credit_new_grade")
        post_save.connect(_on_customer_saved, sender=Customer, dispatch_uid="credit_new_customer")
        for signal in (post_save, post_delete):
            signal.connect(
                forget_cached_policy,
                sender=CreditPolicy,
                dispatch_uid=f"credit_policy_{signal is post_save}",
            )
        customers_bulk_created.connect(_on_customers_bulk_created, dispatch_uid="credit_imported")
        orders_changed.connect(on_orders_changed, dispatch_uid="credit_orders_changed")
        register_panel(
            ArchivePanel(
                key="credit",
                title=_("信用"),
                template="credit/partials/_archive_panel.html",
                context=panel_context,
                allowed=can_view_credit,
                order=30,  # beside the tier panel (20)
            )
        )
        register_timeline_provider("credit", timeline)
        register(
            NavItem(
                "credit",
                _("信用管理"),
                "credit:overview",
                lambda user: user.has_perm("customers.manage_credit"),
                order=40,
            )
        )
