from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _retier_on_pin(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A tier changed one customer at a time (a pin): their open tickets follow at once."""
    if created:
        from kefu.desk.services import tickets_retier

        tickets_retier(customer=instance.customer)


def _follow_customer_team(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A customer moved to another serving team: their tickets' copy of it follows (the desk's
    scope reads the copy). One indexed UPDATE that touches no row when nothing moved."""
    if created or kwargs.get("raw"):
        return
    update_fields = kwargs.get("update_fields")
    # (a deferred instance saves with update_fields by attribute name: serving_team_id)
    if update_fields is not None and not {"serving_team", "serving_team_id"} & set(update_fields):
        return
    from django.db.models import Q

    from kefu.desk.models import Ticket

    team_id = instance.serving_team_id
    stale = (
        Q(customer_team__isnull=False)
        if team_id is None
        else (Q(customer_team__isnull=True) | ~Q(customer_team_id=team_id))
    )
    Ticket.objects.filter(stale, customer_id=instance.pk).update(customer_team_id=team_id)


class DeskConfig(AppConfig):
    name = "kefu.desk"
    label = "desk"
    verbose_name = _("工单")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kefu.customers.archive import register_timeline_provider
        from kefu.desk.archive import ticket_timeline
        from kefu.desk.models import WebhookSubscription
        from kefu.desk.webhooks import webhooks_changed
        from kefu.web.nav import NavItem, register

        register(
            NavItem(
                "tickets",
                _("工单"),
                "desk:list",
                lambda user: user.has_perm("desk.view_ticket"),
                order=5,
            )
        )
        register_timeline_provider("ticket", ticket_timeline)
        # The routing engine counts each agent's open tickets (least-loaded assignment), and a
        # call becomes a ticket in one click.
        from kefu.calls.hooks import register_ticket_maker
        from kefu.desk.services import (
            open_tickets_per_agent,
            ticket_from_call,
            ticket_types_from_call,
        )
        from kefu.routing.hooks import register_load_counter

        register_load_counter(open_tickets_per_agent)
        register_ticket_maker(ticket_from_call, types=ticket_types_from_call)
        post_save.connect(
            _follow_customer_team,
            sender="customers.Customer",
            dispatch_uid="desk-follow-customer-team",
        )
        post_save.connect(
            _retier_on_pin, sender="tiering.TierChange", dispatch_uid="desk-retier-on-change"
        )
        for signal in (post_save, post_delete):
            signal.connect(
                webhooks_changed,
                sender=WebhookSubscription,
                dispatch_uid=f"desk-webhooks-{signal is post_save}",
            )
