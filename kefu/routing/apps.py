from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "kefu.routing"
    verbose_name = _("坐席与分配")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save

        from kefu.org.models import Team
        from kefu.routing.engine import rules_changed
        from kefu.routing.models import RoutingRule, Skill
        from kefu.routing.views import can_view_board, presence_widget
        from kefu.web.nav import NavItem, TopbarWidget, register, register_widget

        # The cached rules carry skill and team names: any change to these reloads them.
        for model in (RoutingRule, Skill, Team):
            for signal in (post_save, post_delete):
                signal.connect(
                    rules_changed,
                    sender=model,
                    dispatch_uid=f"routing-rules-{signal is post_save}-{model.__name__}",
                )
        user_logged_out.connect(_sign_off, dispatch_uid="routing-sign-off")
        register(NavItem("routing", _("坐席看板"), "routing:board", can_view_board, order=60))
        register_widget(
            TopbarWidget(
                key="presence",
                template="routing/partials/_presence_switch.html",
                context=presence_widget,
                order=10,
            )
        )


def _sign_off(sender: object, request: object, user: object, **kwargs: object) -> None:
    from kefu.org.models import User
    from kefu.routing.services import presence_sign_off

    if isinstance(user, User):
        presence_sign_off(user=user)
