from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _line_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Lines are also edited in the admin: whoever changes one, the layout's cached "has a
    line" answer for that user is dropped."""
    from kefu.calls.screenpop import line_forget

    line_forget(instance.user_id)


class CallsConfig(AppConfig):
    name = "kefu.calls"
    verbose_name = _("电话与回呼")

    def ready(self) -> None:
        from kefu.calls.archive import call_timeline
        from kefu.customers.archive import register_timeline_provider
        from kefu.web.nav import NavItem, register

        register(
            NavItem(
                "calls",
                _("来电与回呼"),
                "calls:callbacks",
                lambda user: user.has_perm("calls.view_callbacktask"),
                order=40,
            )
        )
        register_timeline_provider("call", call_timeline)
        post_save.connect(_line_changed, sender="calls.AgentLine")
        post_delete.connect(_line_changed, sender="calls.AgentLine")
