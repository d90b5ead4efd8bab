"""Who hears about a ticket (the bell): one Notification row per recipient.

Recipients by role: the team's supervisors (members of the ticket's team who hold the
supervisor's permission; all supervisors of the department when the team has none), the
managers of the team's department (all managers when none), the general manager, finance,
quality.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.desk.models import Notification, Ticket
from kefu.desk.workflow import ROLE_PERMISSIONS
from kefu.org.models import User


def _holders(role: str) -> QuerySet[User]:
    app_label, codename = ROLE_PERMISSIONS[role].split(".", 1)
    return User.objects.filter(
        is_active=True,
        groups__permissions__content_type__app_label=app_label,
        groups__permissions__codename=codename,
    )


def role_recipients(ticket: Ticket, role: str) -> list[User]:
    """The people of ``role`` who answer for this ticket."""
    holders = _holders(role)
    if role in ("supervisor", "agent") and ticket.team_id:
        own = list(holders.filter(memberships__team_id=ticket.team_id).distinct())
        if own:
            return own
    department_id = ticket.team.department_id if ticket.team_id and ticket.team else None
    if role in ("supervisor", "manager") and department_id:
        near = list(holders.filter(department_id=department_id).distinct())
        if near:
            return near
    return list(holders.distinct())


def notify_users(
    ticket: Ticket, users: Iterable[User], *, kind: str, message: str
) -> list[Notification]:
    unique = {user.pk: user for user in users}
    return Notification.objects.bulk_create(
        [
            Notification(user_id=user_id, ticket=ticket, kind=kind, message=message[:300])
            for user_id in sorted(unique)
        ]
    )


def notify_roles(
    ticket: Ticket, *, roles: Iterable[str], kind: str, message: str
) -> list[Notification]:
    users: list[User] = []
    for role in roles:
        users.extend(role_recipients(ticket, role))
    return notify_users(ticket, users, kind=kind, message=message)


_LEVEL_ROLE = {2: "supervisor", 3: "manager", 4: "gm"}


def notify_escalation_level(ticket: Ticket, *, note: str) -> list[Notification]:
    """Escalation L1 agent → L2 supervisor → L3 manager → L4 general manager: the people of
    the level the complaint reached are told."""
    role = _LEVEL_ROLE.get(ticket.escalation_level)
    if role is None:
        return []
    message = _("投诉 %(number)s 已升级到 L%(level)d：%(note)s") % {
        "number": ticket.number,
        "level": ticket.escalation_level,
        "note": note[:150],
    }
    return notify_roles(ticket, roles=[role], kind=Notification.Kind.ESCALATION, message=message)


def notify_delivery_given_up(ticket: Ticket, *, message: str) -> list[Notification]:
    """A message to the customer (notice, mail reply) was given up after its last attempt:
    the ticket's supervisors hear of it, as of an SLA breach, so that someone calls instead."""
    return notify_roles(
        ticket, roles=["supervisor"], kind=Notification.Kind.NOTICE_FAILED, message=message
    )
