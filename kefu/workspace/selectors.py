"""Reading for the workspace: the customer side panel and the supervisors' live load."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from kefu.customers.access import customers_for_user
from kefu.desk.access import tickets_for_user
from kefu.desk.models import Ticket, open_tickets_q
from kefu.desk.selectors import at_risk_filter
from kefu.org.models import Membership, User
from kefu.routing.hooks import bound_team_for
from kefu.routing.models import AgentPresence
from kefu.routing.selectors import board_teams

RECENT_TICKETS = 5
RECENT_ORDERS = 5


def customer_summary(*, ticket: Ticket, user: User) -> dict[str, Any] | None:
    """The side panel's facts about the ticket's customer, if the user may see the customer:
    four small queries (customer, open count, last tickets, last orders), numbers masked."""
    if ticket.customer_id is None:
        return None
    customer = (
        customers_for_user(user)
        .select_related("serving_team")
        .filter(pk=ticket.customer_id)
        .first()
    )
    if customer is None:
        return None
    tickets = tickets_for_user(user).filter(customer_id=customer.pk)
    open_count = tickets.filter(open_tickets_q()).order_by().count()
    recent = list(
        tickets.exclude(pk=ticket.pk)
        .only("id", "number", "subject", "status", "type", "created_at")
        .order_by("-id")[:RECENT_TICKETS]
    )
    orders: list[Any] | None = None
    if user.has_perm("orders.view_order"):
        from kefu.orders.models import Order

        orders = list(
            Order.objects.filter(customer_id=customer.pk)
            .only("id", "order_no", "date", "amount")
            .order_by("-date", "-id")[:RECENT_ORDERS]
        )
    bound_team_id = bound_team_for(customer.pk)
    bound_team = None
    if bound_team_id is not None:
        from kefu.org.models import Team

        bound_team = Team.objects.filter(pk=bound_team_id).first()
    return {
        "customer": customer,
        "open_count": open_count,
        "recent": recent,
        "orders": orders,
        "key_account": bound_team_id is not None,
        "bound_team": bound_team,
        "can_reveal": user.has_perm("customers.reveal_contact"),
    }


@dataclass
class AgentLoad:
    user_id: int
    name: str
    status: str
    status_display: str
    since: datetime | None
    open: int = 0
    at_risk: int = 0
    breached: int = 0
    resolved_today: int = 0
    oldest_open_at: datetime | None = None


@dataclass
class TeamLoad:
    team_id: int
    name: str
    agents: list[AgentLoad] = field(default_factory=list)
    unassigned: int = 0

    def total(self, name: str) -> int:
        return sum(getattr(agent, name) for agent in self.agents)

    @property
    def online(self) -> int:
        return sum(1 for agent in self.agents if agent.status == AgentPresence.Status.ONLINE)

    @property
    def open(self) -> int:
        return self.total("open")

    @property
    def at_risk(self) -> int:
        return self.total("at_risk")

    @property
    def breached(self) -> int:
        return self.total("breached")

    @property
    def resolved_today(self) -> int:
        return self.total("resolved_today")

    @property
    def oldest_open_at(self) -> datetime | None:
        times = [agent.oldest_open_at for agent in self.agents if agent.oldest_open_at]
        return min(times) if times else None


def team_load(*, user: User, now: datetime | None = None) -> list[TeamLoad]:
    """Each team the user supervises (every team with ``routing.view_all_agents``) with its
    active members: presence, open tickets, at risk, breached, resolved today, and since when
    the oldest open ticket waits; plus the team's open tickets nobody has yet. Five queries
    whatever the size: teams, members with presence, one aggregate over the open tickets
    (the open partial index), one over today's resolutions (assignee + resolved_at), and the
    unassigned per team (and the user's permissions, once per request)."""
    now = now or timezone.now()
    teams = {
        team.pk: TeamLoad(team.pk, team.name)
        for team in board_teams(user).order_by("department_id", "name")
    }
    memberships = list(
        Membership.objects.filter(team_id__in=teams, user__is_active=True)
        .select_related("user", "user__presence")
        .order_by("user__display_name", "user__username", "user_id")
    )
    user_ids = sorted({membership.user_id for membership in memberships})
    open_rows = {
        row["assignee_id"]: row
        for row in Ticket.objects.filter(open_tickets_q(), assignee_id__in=user_ids)
        .values("assignee_id")
        .annotate(
            open=Count("id"),
            at_risk=Count("id", filter=at_risk_filter(now)),
            breached=Count("id", filter=Q(sla_breached=True)),
            oldest=Min("created_at"),
        )
        .order_by()
    }
    day_start = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    resolved = dict(
        Ticket.objects.filter(assignee_id__in=user_ids, resolved_at__gte=day_start)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("assignee_id", "n")
    )
    unassigned = dict(
        Ticket.objects.filter(open_tickets_q(), team_id__in=teams, assignee__isnull=True)
        .values("team_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("team_id", "n")
    )
    for team_id, count in unassigned.items():
        teams[team_id].unassigned = count
    for membership in memberships:
        member = membership.user
        presence = getattr(member, "presence", None)
        status = presence.status if presence else AgentPresence.Status.OFFLINE
        row = open_rows.get(member.pk, {})
        teams[membership.team_id].agents.append(
            AgentLoad(
                user_id=member.pk,
                name=str(member),
                status=status,
                status_display=str(AgentPresence.Status(status).label),
                since=presence.since if presence else None,
                open=row.get("open", 0),
                at_risk=row.get("at_risk", 0),
                breached=row.get("breached", 0),
                resolved_today=resolved.get(member.pk, 0),
                oldest_open_at=row.get("oldest"),
            )
        )
    return list(teams.values())
