"""The supervisor's dashboard: what the page and its 30-second refresh show, in one dict.

Everything is counted in the database, eight aggregate queries whatever the number of tickets,
agents or calls (see docs/dashboard.md: the open tickets by state and assignee with the
backlog's ages, at-risk and breached counts in one grouped query over the partial index
desk_ticket_open; created, then resolved, today and this week; the ten most urgent at-risk
tickets; the calls waiting; the teams, the members with their presence and their resolved
today), plus the KPI layer (kefu.analytics.kpis) for today and this week, cached per slice.

Scope: a manager (or anyone with ``routing.view_all_agents``) sees every team, a supervisor the
teams they belong to; either may narrow it to one team. The ticket figures count the tickets of
the teams in scope (``Ticket.team``); each carries the link to the ticket list that shows the
same tickets, so the number on the dashboard is the number of rows behind its link.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, DateTimeField, F, Min, Q, QuerySet, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.calls.models import Call
from kefu.core.exceptions import Forbidden, NotFound
from kefu.desk.access import tickets_for_user
from kefu.desk.models import Ticket, open_tickets_q
from kefu.desk.selectors import AGE_BUCKETS, age_filter, at_risk_filter, day_start
from kefu.desk.workflow import OPEN_STATUSES, status_label
from kefu.org.models import Membership, Team, User
from kefu.routing.models import AgentPresence

if TYPE_CHECKING:
    from kefu.analytics.kpis import KpiValue

REFRESH_S = 30  # KEFU_DASHBOARD_REFRESH_S overrides it
KPI_CACHE_S = 120  # KEFU_DASHBOARD_KPI_CACHE_S: the KPI cards' cache (the live counts are not)
URGENT_LIMIT = 10
# A call still "ringing" after this long lost its end event (the PBX never sent it): it is not
# waiting any more, and it must not keep the longest wait growing for ever.
STALE_CALL_HOURS = 4

# The KPI cards, in order: the key in kefu.analytics.kpis and the card's label.
KPI_CARDS: tuple[tuple[str, Any], ...] = (
    ("answer_rate", gettext_lazy("接通率")),
    ("abandon_rate", gettext_lazy("放弃率")),
    ("service_level", gettext_lazy("服务水平 80/20")),
    ("asa", gettext_lazy("平均应答速度")),
    ("aht", gettext_lazy("平均处理时长")),
    ("fcr", gettext_lazy("首次解决率")),
    ("sla_response", gettext_lazy("响应 SLA 达成率")),
    ("sla_resolution", gettext_lazy("解决 SLA 达成率")),
)
CALL_KPIS = frozenset({"answer_rate", "abandon_rate", "service_level", "asa", "aht"})
PRESENCE_ORDER = [
    AgentPresence.Status.ONLINE,
    AgentPresence.Status.BUSY,
    AgentPresence.Status.BREAK,
    AgentPresence.Status.OFFLINE,
]


def refresh_seconds() -> int:
    return max(1, int(getattr(settings, "KEFU_DASHBOARD_REFRESH_S", REFRESH_S)))


def can_view_dashboard(user: User) -> bool:
    return user.is_active and user.has_perm("analytics.view_kpis")


def sees_all_teams(user: User) -> bool:
    return user.is_superuser or user.has_perm("routing.view_all_agents")


@dataclass(frozen=True)
class DashboardScope:
    """The teams the figures cover: ``team_ids`` None means every ticket (a manager's "all")."""

    user: User
    teams: list[Team]  # the selector's choices
    team: Team | None  # the one team picked, if any
    team_ids: tuple[int, ...] | None

    def ticket_filter(self) -> Q:
        return Q() if self.team_ids is None else Q(team_id__in=self.team_ids)

    def link_params(self) -> dict[str, str]:
        """The ticket list's parameters for the same teams."""
        if self.team_ids is None:
            return {}
        if len(self.team_ids) == 1:
            return {"team": str(self.team_ids[0])}
        return {"teams": ",".join(map(str, self.team_ids))}


def dashboard_scope(*, user: User, team_id: int | None = None) -> DashboardScope:
    """The user's scope, narrowed to ``team_id`` when given. No ``analytics.view_kpis`` is 403;
    a team outside the user's teams is 404 (team ids don't leak)."""
    if not can_view_dashboard(user):
        raise Forbidden(_("您没有查看服务看板的权限。"))
    tickets_for_user(user)  # the drill-down needs the ticket list: 403 without it
    all_teams = sees_all_teams(user)
    teams = Team.objects.order_by("name", "id")
    if not all_teams:
        teams = teams.filter(memberships__user=user).distinct()
    choices = list(teams)
    if team_id is not None:
        team = next((team for team in choices if team.pk == team_id), None)
        if team is None:
            raise NotFound(_("班组不存在，或不在您的查看范围内。"))
        return DashboardScope(user, choices, team, (team.pk,))
    if all_teams:
        return DashboardScope(user, choices, None, None)
    return DashboardScope(user, choices, None, tuple(sorted(team.pk for team in choices)))


@functools.cache
def _list_url() -> str:
    return reverse("desk:list")  # reverse() costs ~0.2 ms: the agents' table has hundreds of links


def _link(**params: Any) -> str:
    """The ticket list with these filters. The values are ids, dates and choice keys (letters,
    digits, "-", "_" and the comma of ``teams``): no quoting needed, and urlencode() took 25 ms
    for the few hundred links of 200 agents."""
    return _list_url() + "?" + "&".join(f"{k}={v}" for k, v in params.items() if v != "")


def _seconds_display(seconds: int) -> str:
    """A duration in words: "45 秒", "1 分 30 秒", "3 小时 05 分", "2 天 4 小时"."""
    minutes, rest = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return _("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d 小时 %(m)02d 分") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d 分 %(s)02d 秒") % {"m": minutes, "s": rest}
    return _("%(s)d 秒") % {"s": rest}


# --- the KPI layer ---------------------------------------------------------------------------


def _merge(values: list[KpiValue]) -> KpiValue:
    """One KPI over several teams from each team's numerator and denominator (a ratio of sums,
    not a mean of ratios)."""
    from kefu.analytics.kpis import KpiValue

    first = values[0]
    if len(values) == 1:
        return first
    if all(v.numerator is None for v in values):  # n/a everywhere (a filter not honoured)
        return KpiValue(first.key, None, None, None, first.unit)
    numerator = sum((v.numerator for v in values if v.numerator is not None), Decimal(0))
    denominators = [v.denominator for v in values if v.denominator is not None]
    if not denominators:  # a count: the sum of the values
        total = sum((v.value for v in values if v.value is not None), Decimal(0))
        return KpiValue(first.key, numerator, None, total, first.unit)
    denominator = sum(denominators, Decimal(0))
    value: Decimal | None = None
    if denominator:
        scale = {"percent": Decimal(100), "per_10k": Decimal(10000)}.get(first.unit, Decimal(1))
        value = numerator / denominator * scale
    return KpiValue(first.key, numerator, denominator, value, first.unit)


def _kpi_keys(team_id: int | None) -> list[str]:
    """The cards' KPIs a slice computes: all of them for the centre (``team_id`` None), for a
    team those the KPI layer can slice by team."""
    from kefu.analytics.kpis import DEFINITIONS

    keys = [key for key, _label in KPI_CARDS]
    if team_id is None:
        return keys
    return [key for key in keys if "team" in DEFINITIONS[key].honours]


def _na(key: str) -> KpiValue:
    from kefu.analytics.kpis import DEFINITIONS, KpiValue

    return KpiValue(key, None, None, None, DEFINITIONS[key].unit)


def _cache_key(team_id: int | None, period: str, today: date, part: str = "") -> str:
    return f"kefu:dashboard:kpis:{team_id or 'all'}{part}:{period}:{today.isoformat()}"


def _kpi_ttl() -> int:
    return int(getattr(settings, "KEFU_DASHBOARD_KPI_CACHE_S", KPI_CACHE_S))


def slice_kpis(
    team_id: int | None, period: str, today: date, *, keys: list[str] | None = None
) -> dict[str, KpiValue]:
    """The cards' KPIs of the centre (``team_id`` None) or of one team over the day or week of
    ``today``, cached for KEFU_DASHBOARD_KPI_CACHE_S seconds (the job dashboard_kpis_warm
    recomputes them every minute, so a dashboard seldom waits for the KPI layer). ``keys``
    asks the centre for a few KPIs only (a team's dashboard needs the centre's offered-call
    KPIs): the centre's full set when cached, else those alone."""
    from kefu.analytics.kpis import Slice, kpis

    ttl = _kpi_ttl()
    values: dict[str, KpiValue] | None = (
        cache.get(_cache_key(team_id, period, today)) if ttl > 0 else None
    )
    if values is not None:
        return values
    part = "" if keys is None else ":" + ",".join(keys)
    if keys is not None and ttl > 0:
        values = cache.get(_cache_key(team_id, period, today, part))
        if values is not None:
            return values
    make = Slice.day if period == "day" else Slice.week
    filters = {} if team_id is None else {"team_id": team_id}
    values = kpis(keys or _kpi_keys(team_id), make(today, **filters))
    if ttl > 0:
        cache.set(_cache_key(team_id, period, today, part), values, timeout=ttl)
    return values


def dashboard_kpis_warm(today: date | None = None) -> int:
    """Compute and cache the cards' KPIs of the centre and of every team, today and this week,
    so that dashboards find them ready. Returns the number of slices computed."""
    today = today or timezone.localdate()
    if _kpi_ttl() <= 0:
        return 0
    from kefu.analytics.kpis import Slice, kpis

    count = 0
    for team_id in [None, *Team.objects.order_by("id").values_list("id", flat=True)]:
        for period in ("day", "week"):
            make = Slice.day if period == "day" else Slice.week
            filters = {} if team_id is None else {"team_id": team_id}
            values = kpis(_kpi_keys(team_id), make(today, **filters))
            cache.set(_cache_key(team_id, period, today), values, timeout=_kpi_ttl())
            count += 1
    return count


def _period_values(
    scope: DashboardScope, period: str, today: date
) -> dict[str, tuple[KpiValue, bool]]:
    """Each card's KPI over the day or week of ``today`` and whether it is the whole centre's:
    a KPI the layer cannot slice by team (the offered-call ones) would be n/a for a team, so a
    team's dashboard shows the centre's figure, marked as such. Several teams are merged from
    each team's numerator and denominator."""
    if scope.team_ids is None:
        return {key: (value, False) for key, value in slice_kpis(None, period, today).items()}
    per_team = [slice_kpis(team_id, period, today) for team_id in scope.team_ids]
    values = {
        key: (_merge([one[key] for one in per_team]) if per_team else _na(key), False)
        for key in _kpi_keys(0)  # the keys of any team
    }
    centre = [key for key, _label in KPI_CARDS if key not in values]
    if centre:
        centre_values = slice_kpis(None, period, today, keys=centre)
        values.update({key: (centre_values[key], True) for key in centre})
    return values


def kpi_cards(scope: DashboardScope, today: date) -> dict[str, list[dict[str, Any]]]:
    """Today's and this week's KPI cards (each slice's KPIs cached, see slice_kpis)."""
    monday = today - timedelta(days=today.weekday())
    cards = {}
    for period, first in (("day", today), ("week", monday)):
        values = _period_values(scope, period, today)
        team = scope.link_params()
        links = {
            # FCR is over the tickets created in the period, the SLA attainments over those
            # resolved in it (plus the open ones that fell due, which 已超时 lists)
            "fcr": _link(
                queue="all", created_from=first.isoformat(), created_to=today.isoformat(), **team
            ),
            "sla": _link(
                queue="all", resolved_from=first.isoformat(), resolved_to=today.isoformat(), **team
            ),
        }
        cards[period] = [
            {
                "key": key,
                "label": str(label),
                "value": None if value.value is None else float(value.value),
                "display": value.display(),
                "unit": value.unit,
                "scope": _("全中心") if centre and scope.team_ids is not None else "",
                "link": reverse("calls:list")
                if key in CALL_KPIS
                else links["fcr" if key == "fcr" else "sla"],
            }
            for key, label in KPI_CARDS
            for value, centre in [values[key]]
        ]
    return cards


# --- the live figures ------------------------------------------------------------------------


def _open_figures(scope: DashboardScope, now: datetime) -> tuple[dict[str, Any], dict[int, int]]:
    """Open tickets by state, the backlog (open and not yet resolved: the KPI layer's
    ``backlog``, without the resolved tickets waiting to be closed) by age, at risk and
    breached, and each assignee's open tickets: one query over the open tickets grouped by
    state and assignee (rows: open states × agents, never tickets)."""
    unresolved = Q(resolved_at__isnull=True)
    age_counts = {
        bucket.key: Count("id", filter=unresolved & age_filter(bucket.key, now))
        for bucket in AGE_BUCKETS
    }
    rows = list(
        Ticket.objects.filter(scope.ticket_filter(), open_tickets_q())
        .values("status", "assignee_id")
        .annotate(
            n=Count("id"),
            backlog=Count("id", filter=unresolved),
            at_risk=Count("id", filter=at_risk_filter(now)),
            breached=Count("id", filter=Q(sla_breached=True)),
            **age_counts,
        )
        .order_by()
    )
    by_status: dict[str, int] = {}
    held: dict[int, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        if row["assignee_id"] is not None:
            held[row["assignee_id"]] = held.get(row["assignee_id"], 0) + row["n"]
    team = scope.link_params()
    statuses = [status for status in OPEN_STATUSES if by_status.get(status)]
    figures = {
        "open": {"count": sum(by_status.values()), "link": _link(queue="open", **team)},
        "backlog": {
            "count": sum(row["backlog"] for row in rows),
            "link": _link(queue="open", unresolved="1", **team),
        },
        "at_risk": {
            "count": sum(row["at_risk"] for row in rows),
            "link": _link(queue="at_risk", **team),
        },
        "breached": {
            "count": sum(row["breached"] for row in rows),
            "link": _link(queue="breached", **team),
        },
        "by_status": {
            "keys": statuses,
            "categories": [str(status_label(status)) for status in statuses],
            "counts": [by_status[status] for status in statuses],
            "links": [_link(queue="open", status=status, **team) for status in statuses],
        },
        "by_age": {
            "keys": [bucket.key for bucket in AGE_BUCKETS],
            "categories": [str(bucket.label) for bucket in AGE_BUCKETS],
            "counts": [sum(row[bucket.key] for row in rows) for bucket in AGE_BUCKETS],
            "links": [
                _link(queue="open", unresolved="1", age=bucket.key, **team)
                for bucket in AGE_BUCKETS
            ],
        },
    }
    return figures, held


def _flow_figures(scope: DashboardScope, today: date) -> dict[str, Any]:
    """Tickets created and resolved today and this week: two aggregates over the week's rows
    (the created_at and resolved_at indexes)."""
    monday = today - timedelta(days=today.weekday())
    today_at, week_at = day_start(today), day_start(monday)
    counts: dict[str, int] = {}
    for kind in ("created", "resolved"):
        # two queries, each counting its own column: without a team filter PostgreSQL answers
        # from the created_at / resolved_at index alone (an index-only scan: 25 → 6 ms at 1M
        # tickets, against one query over both ranges that must read the rows)
        field = f"{kind}_at"
        counts.update(
            Ticket.objects.filter(scope.ticket_filter(), **{f"{field}__gte": week_at}).aggregate(
                **{
                    f"{kind}_today": Count(field, filter=Q(**{f"{field}__gte": today_at})),
                    f"{kind}_week": Count(field),
                }
            )
        )
    team = scope.link_params()
    figures: dict[str, Any] = {}
    for kind in ("created", "resolved"):
        for period, first in (("today", today), ("week", monday)):
            figures[f"{kind}_{period}"] = {
                "count": counts[f"{kind}_{period}"],
                "link": _link(
                    queue="all",
                    **{f"{kind}_from": first.isoformat(), f"{kind}_to": today.isoformat()},
                    **team,
                ),
            }
    return figures


def _urgent(scope: DashboardScope, now: datetime) -> list[dict[str, Any]]:
    """The ten at-risk tickets due soonest: the response due while nobody has answered, else
    the resolution due."""
    due = Case(
        When(
            first_responded_at__isnull=True,
            first_response_due__isnull=False,
            then=F("first_response_due"),
        ),
        default=F("resolution_due"),
        output_field=DateTimeField(),
    )
    soonest = F("due").asc(nulls_last=True), "id"
    # The ten ids in a subquery, then their rows with the assignees' names: joining the users
    # before the sort joined every at-risk ticket (thousands when the SLA job falls behind,
    # 30 ms at 1M tickets) to keep ten.
    ten = (
        Ticket.objects.filter(scope.ticket_filter(), at_risk_filter(now))
        .annotate(due=due)
        .order_by(*soonest)
        .values("id")[:URGENT_LIMIT]
    )
    rows = (
        Ticket.objects.filter(id__in=ten)
        .annotate(due=due)
        .order_by(*soonest)
        .values(
            "id",
            "number",
            "subject",
            "priority",
            "due",
            "first_responded_at",
            "assignee__display_name",
            "assignee__username",
        )
    )
    items = []
    for row in rows:
        due_at = row["due"]
        left = int((due_at - now).total_seconds()) if due_at else None
        items.append(
            {
                "id": row["id"],
                "number": row["number"],
                "subject": row["subject"],
                "priority": str(Ticket.Priority(row["priority"]).label),
                "due_kind": _("响应") if row["first_responded_at"] is None else _("解决"),
                "due_at": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M") if due_at else "",
                "left": ""
                if left is None
                else (
                    _seconds_display(left)
                    if left >= 0
                    else _("已超 %(time)s") % {"time": _seconds_display(-left)}
                ),
                "overdue": left is not None and left < 0,
                "assignee": row["assignee__display_name"]
                or row["assignee__username"]
                or _("未分派"),
                "link": reverse("desk:detail", args=[row["id"]]),
            }
        )
    return items


def _calls_waiting(now: datetime) -> dict[str, Any]:
    """Inbound calls ringing or queued, neither answered nor ended (the whole centre: calls
    belong to a queue, not a team)."""
    waiting = Call.objects.filter(
        direction=Call.Direction.INBOUND,
        status=Call.Status.RINGING,
        answered_at__isnull=True,
        ended_at__isnull=True,
        offered_at__gte=now - timedelta(hours=STALE_CALL_HOURS),
    ).aggregate(n=Count("id"), first=Min("offered_at"))
    longest = int((now - waiting["first"]).total_seconds()) if waiting["first"] else 0
    return {
        "count": waiting["n"],
        "longest_wait_s": longest,
        "longest_wait": _("最长等待 %(time)s") % {"time": _seconds_display(longest)}
        if waiting["n"]
        else _("无人排队"),
        "link": reverse("calls:list"),
    }


def _agents(scope: DashboardScope, today: date, held: dict[int, int]) -> dict[str, Any]:
    """Presence counts of the teams' agents, and each agent at work (online, busy or on a
    break) with the open tickets they hold (``held``, of the teams in scope) and those they
    resolved today: two queries."""
    members = Membership.objects.filter(user__is_active=True)
    if scope.team_ids is not None:
        members = members.filter(team_id__in=scope.team_ids)
    people = {
        row["user_id"]: row
        for row in members.values(
            "user_id", "user__display_name", "user__username", "user__presence__status"
        ).order_by("user__display_name", "user__username", "user_id")
    }
    presence = {status.value: 0 for status in PRESENCE_ORDER}
    working: list[int] = []
    for user_id, row in people.items():
        status = row["user__presence__status"] or AgentPresence.Status.OFFLINE
        presence[status] += 1
        if status != AgentPresence.Status.OFFLINE:
            working.append(user_id)
    resolved = _per_assignee(
        Ticket.objects.filter(
            scope.ticket_filter(), assignee_id__in=working, resolved_at__gte=day_start(today)
        )
    )
    team = scope.link_params()
    rows = []
    rank = {status.value: index for index, status in enumerate(PRESENCE_ORDER)}
    for user_id in sorted(working, key=lambda pk: rank[people[pk]["user__presence__status"]]):
        row = people[user_id]
        status = row["user__presence__status"]
        rows.append(
            {
                "user_id": user_id,
                "name": row["user__display_name"] or row["user__username"],
                "status": status,
                "status_display": str(AgentPresence.Status(status).label),
                "open": held.get(user_id, 0),
                "open_link": _link(queue="open", assignee=user_id, **team),
                "resolved_today": resolved.get(user_id, 0),
                "resolved_link": _link(
                    queue="all",
                    assignee=user_id,
                    resolved_from=today.isoformat(),
                    resolved_to=today.isoformat(),
                    **team,
                ),
            }
        )
    return {
        "presence": [
            {
                "status": status.value,
                "label": str(status.label),
                "count": presence[status.value],
            }
            for status in PRESENCE_ORDER
        ],
        "rows": rows,
    }


def _per_assignee(tickets: QuerySet[Ticket]) -> dict[int, int]:
    return dict(
        tickets.values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("assignee_id", "n")
    )


def dashboard_data(scope: DashboardScope, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, JSON-safe: the page renders it and the refresh fetches
    it again every KEFU_DASHBOARD_REFRESH_S seconds."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    data: dict[str, Any] = {
        "generated_at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S"),
        "today": today.isoformat(),
        "refresh_s": refresh_seconds(),
        "scope": {
            "team_id": scope.team.pk if scope.team else None,
            "label": scope.team.name
            if scope.team
            else (_("全部班组") if scope.team_ids is None else _("我的班组")),
            "teams": [{"id": team.pk, "name": team.name} for team in scope.teams],
        },
        "kpis": kpi_cards(scope, today),
    }
    open_figures, held = _open_figures(scope, now)
    data["tickets"] = {**open_figures, **_flow_figures(scope, today)}
    data["urgent"] = _urgent(scope, now)
    data["calls"] = _calls_waiting(now)
    data["agents"] = _agents(scope, today, held)
    return data
