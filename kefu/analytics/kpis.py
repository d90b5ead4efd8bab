"""The KPI layer (domain.md §2): one definition per KPI, computed in the database.

Every KPI is a numerator and a denominator over a :class:`Slice` (a time range plus optional
team, agent, channel, ticket type and customer tier filters). A 0 denominator gives n/a, and so
does a filter the KPI does not honour (its definition says which it honours): a number that
ignored the filter would be wrong, n/a is honest.

Where each KPI takes its rows from, and which time puts a row in a period:

* calls (kefu.calls.Call): inbound calls that reached the queue (not out of hours) and ended,
  answered or abandoned, by queue-entry time (``offered_at``); AHT by hang-up time. Team and
  agent are the answering agent's, so only the KPIs over answered calls honour them; tier is
  the caller customer's; the only channel of a call is "phone"; calls have no ticket type.
* tickets (kefu.desk.Ticket): by creation (FCR, complaints), resolution (reopen rate, SLA) or
  due time (SLA, the open ones that breached); team, assignee, channel, type and the tier
  recorded on the ticket. Merged duplicates (``merged_into``) are left out everywhere except
  as somebody's repeat contact; cancelled tickets leave SLA, FCR and reopen rate.
* orders (kefu.orders.Order) by ``date`` for the complaint rate, costs (ServiceCost) by month.

``kpi_breakdown`` runs ONE grouped query per KPI (two for the complaint rate: complaints and
orders); ``kpi_series`` runs the KPI once per day, week or month in the slice.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.analytics.models import ServiceCost
from kefu.calls.models import Call
from kefu.customers.models import Customer
from kefu.desk.models import Ticket, open_tickets_q
from kefu.orders.models import Order
from kefu.org.models import Team, User

UNITS = ("percent", "seconds", "count", "yuan", "per_10k", "days")
DIMENSIONS = ("team", "agent", "channel", "ticket_type", "tier")
GRANULARITIES = ("day", "week", "month")

# the Slice attribute behind each dimension
_SLICE_ATTR = {
    "team": "team_id",
    "agent": "agent_id",
    "channel": "channel",
    "ticket_type": "ticket_type",
    "tier": "tier",
}


class KpiError(ValueError):
    """Bad input to the KPI layer (unknown key, parameter, dimension or range), in Chinese."""


def _zone() -> Any:
    return timezone.get_default_timezone()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_zone())


# --- slices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    team_id: int | None = None
    agent_id: int | None = None
    channel: str | None = None  # a Ticket.Channel value
    ticket_type: str | None = None  # a Ticket.Type value
    tier: str | None = None  # a Customer.Tier value

    def __post_init__(self) -> None:
        if timezone.is_naive(self.start) or timezone.is_naive(self.end):
            raise KpiError(gettext("统计区间的起止时间必须带时区。"))
        if self.end < self.start:
            raise KpiError(gettext("统计区间的结束时间早于开始时间。"))
        if self.channel is not None and self.channel not in Ticket.Channel.values:
            raise KpiError(gettext("未知的渠道：%(value)s") % {"value": self.channel})
        if self.ticket_type is not None and self.ticket_type not in Ticket.Type.values:
            raise KpiError(gettext("未知的工单类型：%(value)s") % {"value": self.ticket_type})
        if self.tier is not None and self.tier not in Customer.Tier.values:
            raise KpiError(gettext("未知的客户等级：%(value)s") % {"value": self.tier})

    @classmethod
    def day(cls, day: date, **filters: Any) -> Slice:
        """Asia/Shanghai midnight to midnight."""
        return cls(_midnight(day), _midnight(day + timedelta(days=1)), **filters)

    @classmethod
    def week(cls, day: date, **filters: Any) -> Slice:
        """The ISO week (Monday to Sunday) containing ``day``."""
        monday = day - timedelta(days=day.weekday())
        return cls(_midnight(monday), _midnight(monday + timedelta(days=7)), **filters)

    @classmethod
    def month(cls, first: date, **filters: Any) -> Slice:
        """The calendar month of ``first`` (any day of it will do)."""
        start = first.replace(day=1)
        return cls(_midnight(start), _midnight(_next_month(start)), **filters)

    @property
    def filters(self) -> dict[str, Any]:
        """The dimensions this slice filters on, by dimension name."""
        return {
            dim: getattr(self, attr)
            for dim, attr in _SLICE_ATTR.items()
            if getattr(self, attr) is not None
        }

    @property
    def start_date(self) -> date:
        return timezone.localtime(self.start, _zone()).date()

    @property
    def end_date(self) -> date:
        """The first local date not in the slice (the end is exclusive)."""
        local = timezone.localtime(self.end, _zone())
        return local.date() if local.time() == time(0) else local.date() + timedelta(days=1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


# --- values -------------------------------------------------------------------------------


def _half_up(value: Decimal, places: int) -> Decimal:
    """Rounded as people round (2.25 → 2.3), not to even."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class KpiValue:
    key: str
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None  # None means "n/a" (a 0 denominator, or a filter not honoured)
    unit: str  # "percent" (value 0–100), "seconds", "count", "yuan", "per_10k", "days"

    def display(self) -> str:
        if self.value is None:
            return "—"
        value = self.value
        if self.unit == "percent":
            return f"{_half_up(value, 1)}%"
        if self.unit == "seconds":
            return gettext("%(value)s 秒") % {"value": _half_up(value, 1)}
        if self.unit == "yuan":
            return f"¥{_half_up(value, 2):,}"
        if self.unit == "per_10k":
            return f"{_half_up(value, 2)}‱"
        if self.unit == "days":
            return gettext("%(value)s 天") % {"value": _half_up(value, 1)}
        return f"{_half_up(value, 0):,}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: the numbers as floats (None for n/a), and the display string."""

        def num(value: Decimal | None) -> float | None:
            return None if value is None else float(value)

        return {
            "key": self.key,
            "numerator": num(self.numerator),
            "denominator": num(self.denominator),
            "value": num(self.value),
            "unit": self.unit,
            "display": self.display(),
        }


# A KPI's computation: (slice, params, group dimension or None) → {group key: (num, den)}.
# With no group the only key is None. A missing group means 0 / 0.
Pair = tuple[Decimal, Decimal | None]
Compute = Callable[[Slice, dict[str, Any], str | None], dict[Any, Pair]]


@dataclass(frozen=True)
class KpiDefinition:
    key: str
    label: Promise
    formula: Promise  # in words
    denominator: Promise  # in words
    unit: str
    honours: frozenset[str]  # the Slice dimensions it honours; others give n/a
    counts: Promise  # what counts, what does not, where the time comes from
    compute: Compute = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)  # the defaults
    scale: Decimal = Decimal(1)  # 100 for a percent, 10,000 per 10k
    ratio: bool = True  # False: the value is the numerator itself (a count)
    source: str = "tickets"  # calls | tickets | orders | costs

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": str(self.label),
            "formula": str(self.formula),
            "denominator": str(self.denominator),
            "unit": self.unit,
            "slices": [dim for dim in DIMENSIONS if dim in self.honours],
            "counts": str(self.counts),
            "params": self.params,
            "source": self.source,
        }


_PLACES = Decimal("0.0001")


def _value_of(definition: KpiDefinition, pair: Pair | None) -> KpiValue:
    num, den = pair if pair is not None else (Decimal(0), Decimal(0) if definition.ratio else None)
    num = Decimal(num)
    if not definition.ratio:
        return KpiValue(definition.key, num, None, num, definition.unit)
    den = Decimal(den or 0)
    value = None
    if den != 0:
        value = (num * definition.scale / den).quantize(_PLACES, rounding=ROUND_HALF_UP)
    return KpiValue(definition.key, num, den, value, definition.unit)


def _na(definition: KpiDefinition) -> KpiValue:
    return KpiValue(definition.key, None, None, None, definition.unit)


# --- query helpers ------------------------------------------------------------------------


def _d(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(value)


_ID_GROUPS = frozenset({"team", "assignee", "agent", "agent__memberships__team"})


def _grouped(
    qs: QuerySet[Any], group_field: str | None, **aggregates: Any
) -> dict[Any, dict[str, Any]]:
    """One query: the aggregates over ``qs``, per value of ``group_field`` if given."""
    if group_field is None:
        return {None: qs.order_by().aggregate(**aggregates)}
    key: Any = F(group_field)
    if group_field in _ID_GROUPS:
        # "team_id + 0": SQLite would otherwise walk the whole (team, -id) index to get the
        # groups in order, ignoring the range the filters read (1.4 s → 70 ms at 1M tickets)
        key = key + 0
    rows = qs.order_by().values(group_key=key).annotate(**aggregates)
    return {row.pop("group_key"): row for row in rows}


def _pairs(
    rows: dict[Any, dict[str, Any]], num: Callable[[dict[str, Any]], Any], den: Callable[..., Any]
) -> dict[Any, Pair]:
    return {key: (_d(num(row)), _d(den(row))) for key, row in rows.items()}


# Calls ---------------------------------------------------------------------------------------

_CALL_GROUP = {
    "team": "agent__memberships__team",
    "agent": "agent",
    "tier": "customer__tier",
    "channel": "channel_key",
}
ANS = Q(outcome=Call.Outcome.ANSWERED)
ABN = Q(outcome=Call.Outcome.ABANDONED)


def _calls(s: Slice, group: str | None, *, by: str = "offered_at") -> QuerySet[Call]:
    """Inbound calls that reached the queue and ended, in the slice by ``by`` time."""
    qs = Call.objects.filter(
        direction=Call.Direction.INBOUND,
        out_of_hours=False,
        outcome__in=(Call.Outcome.ANSWERED, Call.Outcome.ABANDONED),
        **{f"{by}__gte": s.start, f"{by}__lt": s.end},
    )
    if s.channel is not None and s.channel != Ticket.Channel.PHONE:
        qs = qs.none()  # a call's only channel is the phone
    if s.agent_id is not None:
        qs = qs.filter(agent_id=s.agent_id)
    if s.team_id is not None:
        # one membership per (user, team): the join cannot duplicate a call
        qs = qs.filter(agent__memberships__team_id=s.team_id)
    if s.tier is not None:
        qs = qs.filter(customer__tier=s.tier)
    if group == "channel":
        qs = qs.annotate(channel_key=Value(Ticket.Channel.PHONE, output_field=CharField()))
    return qs


def _call_group(group: str | None) -> str | None:
    return None if group is None else _CALL_GROUP[group]


def _answer_rate(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    rows = _grouped(
        _calls(s, group), _call_group(group), ans=Count("pk", filter=ANS), offered=Count("pk")
    )
    return _pairs(rows, lambda r: r["ans"], lambda r: r["offered"])


def _abandon_rate(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    short = Q(wait_seconds__lt=Decimal(p["short_abandon_seconds"])) & ABN
    rows = _grouped(
        _calls(s, group),
        _call_group(group),
        abn=Count("pk", filter=ABN),
        short=Count("pk", filter=short),
        offered=Count("pk"),
    )
    return _pairs(rows, lambda r: r["abn"] - r["short"], lambda r: r["offered"] - r["short"])


def _abandon_rate_raw(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    rows = _grouped(
        _calls(s, group), _call_group(group), abn=Count("pk", filter=ABN), offered=Count("pk")
    )
    return _pairs(rows, lambda r: r["abn"], lambda r: r["offered"])


def _service_level(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    threshold = Decimal(p["threshold"])
    formula = int(p["formula"])
    within = Q(wait_seconds__lte=threshold)
    rows = _grouped(
        _calls(s, group),
        _call_group(group),
        ans=Count("pk", filter=ANS),
        abn=Count("pk", filter=ABN),
        ans_in=Count("pk", filter=ANS & within),
        abn_in=Count("pk", filter=ABN & within),
    )
    # domain.md §2, the four formulas; an abandon with no recorded wait counts as after Y
    if formula == 1:
        return _pairs(rows, lambda r: r["ans_in"] + r["abn_in"], lambda r: r["ans"] + r["abn"])
    if formula == 2:
        return _pairs(rows, lambda r: r["ans_in"], lambda r: r["ans"])
    if formula == 3:
        return _pairs(rows, lambda r: r["ans_in"], lambda r: r["ans"] + r["abn"])
    return _pairs(rows, lambda r: r["ans_in"], lambda r: r["ans"] + r["abn"] - r["abn_in"])


def _service_level_strict(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    return _service_level(s, {**p, "formula": 3}, group)


def _asa(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    rows = _grouped(
        _calls(s, group).filter(ANS),
        _call_group(group),
        wait=Sum(Coalesce("wait_seconds", Decimal(0), output_field=DecimalField())),
        ans=Count("pk"),
    )
    return _pairs(rows, lambda r: r["wait"], lambda r: r["ans"])


def _aht(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    zero = Value(Decimal(0), output_field=DecimalField())
    handle = (
        Coalesce("talk_seconds", zero)
        + Coalesce("hold_seconds", zero)
        + Coalesce("acw_seconds", zero)
    )
    rows = _grouped(
        _calls(s, group, by="ended_at").filter(ANS),
        _call_group(group),
        handle=Sum(handle, output_field=DecimalField()),
        ans=Count("pk"),
    )
    return _pairs(rows, lambda r: r["handle"], lambda r: r["ans"])


def _repeat_contact(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    window = timedelta(hours=int(p["hours"]))
    earlier = Call.objects.filter(
        direction=Call.Direction.INBOUND,
        caller=OuterRef("caller"),
        offered_at__gte=OuterRef("offered_at") - window,
        offered_at__lt=OuterRef("offered_at"),
    )
    qs = _calls(s, group).filter(ANS).annotate(repeat=Exists(earlier))
    rows = _grouped(
        qs,
        _call_group(group),
        rep=Count("pk", filter=Q(repeat=True) & ~Q(caller="")),
        ans=Count("pk"),
    )
    return _pairs(rows, lambda r: r["rep"], lambda r: r["ans"])


# Tickets -------------------------------------------------------------------------------------

_TICKET_GROUP = {
    "team": "team",
    "agent": "assignee",
    "channel": "channel",
    "ticket_type": "type",
    "tier": "tier",
}
NOT_CANCELLED = ~Q(status=Ticket.Status.CANCELLED)


def _tickets(s: Slice) -> QuerySet[Ticket]:
    """Tickets filtered by the slice's dimensions (not by time), merged duplicates left out."""
    # NOT (merged_into IS NOT NULL), not "merged_into IS NULL": SQLite takes the latter for an
    # equality and walks the merged_into index over every ticket (600 ms instead of 50 ms for
    # the open backlog at 1M tickets)
    qs = Ticket.objects.filter(~Q(merged_into__isnull=False))
    if s.team_id is not None:
        qs = qs.filter(team_id=s.team_id)
    if s.agent_id is not None:
        qs = qs.filter(assignee_id=s.agent_id)
    if s.channel is not None:
        qs = qs.filter(channel=s.channel)
    if s.ticket_type is not None:
        qs = qs.filter(type=s.ticket_type)
    if s.tier is not None:
        qs = qs.filter(tier=s.tier)
    return qs


def _ticket_group(group: str | None) -> str | None:
    return None if group is None else _TICKET_GROUP[group]


def _in(field_name: str, s: Slice) -> Q:
    return Q(**{f"{field_name}__gte": s.start, f"{field_name}__lt": s.end})


def _sla(
    s: Slice, group: str | None, *, stop: str, due: str, fallback: str | None
) -> dict[Any, Pair]:
    """Met ÷ (stopped in the period + still running at the end although due in the period).

    ``stop`` is the clock's stop time; for the response clock a resolution without any public
    reply stops it too (``fallback``)."""
    stopped_in = _in(stop, s)
    not_stopped_by_end = Q(**{f"{stop}__isnull": True}) | Q(**{f"{stop}__gte": s.end})
    met = Q(**{f"{stop}__lte": F(due)})
    if fallback is not None:
        no_stop = Q(**{f"{stop}__isnull": True})
        stopped_in |= no_stop & _in(fallback, s)
        not_stopped_by_end = no_stop & (
            Q(**{f"{fallback}__isnull": True}) | Q(**{f"{fallback}__gte": s.end})
        ) | Q(**{f"{stop}__gte": s.end})
        met = met | (no_stop & Q(**{f"{fallback}__lte": F(due)}))
    qs = (
        _tickets(s)
        .filter(NOT_CANCELLED, **{f"{due}__isnull": False})
        .filter(stopped_in | (_in(due, s) & not_stopped_by_end))
    )
    rows = _grouped(
        qs, _ticket_group(group), met=Count("pk", filter=stopped_in & met), n=Count("pk")
    )
    return _pairs(rows, lambda r: r["met"], lambda r: r["n"])


def _sla_response(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    return _sla(
        s, group, stop="first_responded_at", due="first_response_due", fallback="resolved_at"
    )


def _sla_resolution(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    return _sla(s, group, stop="resolved_at", due="resolution_due", fallback=None)


def _open_at(qs: QuerySet[Ticket], at: datetime) -> QuerySet[Ticket]:
    """Tickets open (created, not yet resolved, closed or cancelled) at ``at``."""
    if at >= timezone.now():
        # now or later: the same set, read through the indexes of the open statuses
        return qs.filter(open_tickets_q(), resolved_at__isnull=True)
    # created before, and: unresolved and not closed by then, or resolved since. Written as
    # two OR arms on (resolved_at null, created_at) and resolved_at so that SQLite (MULTI-INDEX
    # OR) and PostgreSQL (BitmapOr) read desk_ticket_unresolved and desk_ticket_resolved.
    return qs.filter(
        Q(resolved_at__isnull=True, created_at__lt=at) | Q(resolved_at__gte=at, created_at__lt=at)
    ).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=at) | Q(resolved_at__isnull=False))


def _backlog(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    rows = _grouped(_open_at(_tickets(s), s.end), _ticket_group(group), n=Count("pk"))
    return {key: (_d(row["n"]), None) for key, row in rows.items()}


def _fcr(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    window = timedelta(days=int(p["window_days"]))
    same = {"customer_id": OuterRef("customer_id"), "type": OuterRef("type")}
    before = Ticket.objects.filter(
        **same,
        created_at__gte=OuterRef("created_at") - window,
        created_at__lt=OuterRef("created_at"),
    )
    after = Ticket.objects.filter(
        **same,
        created_at__gt=OuterRef("created_at"),
        created_at__lte=OuterRef("created_at") + window,
    )
    qs = (
        _tickets(s)
        .filter(_in("created_at", s), NOT_CANCELLED, customer__isnull=False)
        .exclude(type=Ticket.Type.REPAIR)  # repairs use first-time fix instead
        .annotate(first=Exists(before), repeated=Exists(after))
        .filter(first=False)
    )
    solved = Q(resolved_at__isnull=False, reopen_count=0, repeated=False)
    rows = _grouped(qs, _ticket_group(group), ok=Count("pk", filter=solved), n=Count("pk"))
    return _pairs(rows, lambda r: r["ok"], lambda r: r["n"])


def _reopen_rate(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    qs = _tickets(s).filter(_in("resolved_at", s), NOT_CANCELLED)
    rows = _grouped(
        qs, _ticket_group(group), re=Count("pk", filter=Q(reopen_count__gt=0)), n=Count("pk")
    )
    return _pairs(rows, lambda r: r["re"], lambda r: r["n"])


VALID_LIABILITY = (Ticket.Liability.OURS, Ticket.Liability.SUPPLIER, Ticket.Liability.CARRIER)


def _complaint_rate(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    complaints = _tickets(s).filter(
        _in("created_at", s), type=Ticket.Type.COMPLAINT, liability__in=VALID_LIABILITY
    )
    orders = Order.objects.filter(date__gte=s.start_date, date__lt=s.end_date)
    if s.tier is not None:
        orders = orders.filter(customer__tier=s.tier)
    c_rows = _grouped(complaints, None if group is None else "tier", n=Count("pk"))
    o_rows = _grouped(orders, None if group is None else "customer__tier", n=Count("pk"))
    return {
        key: (_d(c_rows.get(key, {}).get("n")), _d(o_rows.get(key, {}).get("n")))
        for key in {*c_rows, *o_rows}
    }


# Cost per contact ----------------------------------------------------------------------------


def _months(s: Slice) -> list[date]:
    first = s.start_date.replace(day=1)
    months = []
    while _midnight(first) < s.end:
        months.append(first)
        first = _next_month(first)
    return months


def _cost_per_contact(s: Slice, p: dict[str, Any], group: str | None) -> dict[Any, Pair]:
    if group is not None:
        return {}
    months = _months(s)
    costs = dict(
        ServiceCost.objects.filter(month__in=months)
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    if any(month not in costs for month in months):
        return {None: (Decimal(0), Decimal(0))}  # a month without costs: n/a, not a low cost
    total = Decimal(0)
    for month in months:
        month_start, month_end = _midnight(month), _midnight(_next_month(month))
        overlap = min(s.end, month_end) - max(s.start, month_start)
        days = Decimal(overlap.total_seconds()) / Decimal(86400)
        total += Decimal(costs[month]) * days / calendar.monthrange(month.year, month.month)[1]
    calls = Call.objects.filter(
        direction=Call.Direction.INBOUND, outcome=Call.Outcome.ANSWERED, **_range("offered_at", s)
    )
    tickets = Ticket.objects.filter(**_range("created_at", s)).exclude(channel=Ticket.Channel.PHONE)
    return {None: (total.quantize(Decimal("0.01")), _count_sum(calls, tickets))}


def _count_sum(*querysets: QuerySet[Any]) -> Decimal:
    """The rows of several querysets, counted in one statement (SQLite and PostgreSQL)."""
    parts: list[str] = []
    params: list[Any] = []
    for qs in querysets:
        sql, part_params = qs.order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS part)")  # noqa: S608 (Django's SQL)
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " + ".join(parts), params)
        row = cursor.fetchone()
    return Decimal(row[0] if row else 0)


def _range(field_name: str, s: Slice) -> dict[str, datetime]:
    return {f"{field_name}__gte": s.start, f"{field_name}__lt": s.end}


# --- the registry -------------------------------------------------------------------------

_ANSWERED_CALL_DIMS = frozenset({"team", "agent", "channel", "tier"})
_OFFERED_CALL_DIMS = frozenset({"channel", "tier"})
_TICKET_DIMS = frozenset(DIMENSIONS)
_CALL_COUNTS = _(
    "呼入且进入人工队列（非工作时间的来电除外）并已结束的通话，按进线时间计入区间；"
    "班组与坐席按接听坐席，客户等级按来电客户当前等级，渠道只有电话，不分工单类型。"
)

_DEFS = [
    KpiDefinition(
        key="answer_rate",
        label=_("接通率"),
        formula=_("已接听 ÷ 人工请求量"),
        denominator=_("人工请求量：进入人工队列的呼入电话（接听 + 放弃）"),
        unit="percent",
        honours=_OFFERED_CALL_DIMS,
        counts=_CALL_COUNTS,
        compute=_answer_rate,
        scale=Decimal(100),
        source="calls",
    ),
    KpiDefinition(
        key="abandon_rate",
        label=_("放弃率"),
        formula=_("放弃（等待不少于 5 秒） ÷ （人工请求量 − 短时放弃）"),
        denominator=_("人工请求量减去等待不足 5 秒即挂断的短时放弃"),
        unit="percent",
        honours=_OFFERED_CALL_DIMS,
        counts=_(
            "短时放弃（等待 < 5 秒，参数 short_abandon_seconds）同时移出分子与分母；"
            "等待正好 5 秒的放弃计入。"
        ),
        compute=_abandon_rate,
        params={"short_abandon_seconds": 5},
        scale=Decimal(100),
        source="calls",
    ),
    KpiDefinition(
        key="abandon_rate_raw",
        label=_("放弃率（原始）"),
        formula=_("放弃 ÷ 人工请求量"),
        denominator=_("人工请求量（含短时放弃）"),
        unit="percent",
        honours=_OFFERED_CALL_DIMS,
        counts=_CALL_COUNTS,
        compute=_abandon_rate_raw,
        scale=Decimal(100),
        source="calls",
    ),
    KpiDefinition(
        key="service_level",
        label=_("服务水平"),
        formula=_(
            "公式 4（默认）：Y 秒内接听 ÷ （接听 + 超过 Y 秒的放弃）；公式 1：（Y 秒内接听 + "
            "Y 秒内放弃） ÷ （接听 + 放弃）；公式 2：Y 秒内接听 ÷ 接听；公式 3：Y 秒内接听 ÷ "
            "（接听 + 放弃）"
        ),
        denominator=_("按公式：默认为接听 + 等待超过 Y 秒的放弃"),
        unit="percent",
        honours=_OFFERED_CALL_DIMS,
        counts=_(
            "参数 threshold（Y，默认 20 秒，等待 ≤ Y 算达标）与 formula（1–4，默认 4）；"
            "短时放弃不剔除；未记录等待时长的放弃按超过 Y 计。"
        ),
        compute=_service_level,
        params={"threshold": 20, "formula": 4},
        scale=Decimal(100),
        source="calls",
    ),
    KpiDefinition(
        key="service_level_strict",
        label=_("服务水平（严格口径）"),
        formula=_("Y 秒内接听 ÷ （接听 + 放弃）（公式 3）"),
        denominator=_("全部接听与放弃"),
        unit="percent",
        honours=_OFFERED_CALL_DIMS,
        counts=_("参数 threshold（默认 20 秒）；所有放弃都在分母中。"),
        compute=_service_level_strict,
        params={"threshold": 20},
        scale=Decimal(100),
        source="calls",
    ),
    KpiDefinition(
        key="asa",
        label=_("平均应答速度"),
        formula=_("已接听电话的等待时长合计 ÷ 已接听电话数"),
        denominator=_("已接听电话数"),
        unit="seconds",
        honours=_ANSWERED_CALL_DIMS,
        counts=_("等待 = 排队 + 振铃；放弃的电话不计入，请与放弃率一同查看。"),
        compute=_asa,
        source="calls",
    ),
    KpiDefinition(
        key="aht",
        label=_("平均处理时长"),
        formula=_("（通话 + 保持 + 话后处理）合计 ÷ 已处理（已接听）电话数"),
        denominator=_("已接听电话数"),
        unit="seconds",
        honours=_ANSWERED_CALL_DIMS,
        counts=_(
            "按挂断时间计入区间；未上报的保持与话后处理时长按 0 计；每通电话只计一次（中心口径）。"
        ),
        compute=_aht,
        source="calls",
    ),
    KpiDefinition(
        key="repeat_contact_rate",
        label=_("重复来电率（24 小时）"),
        formula=_("此前 24 小时内同一号码已来电过的已接听电话 ÷ 已接听电话"),
        denominator=_("已接听电话数"),
        unit="percent",
        honours=_ANSWERED_CALL_DIMS,
        counts=_("此前的来电指任何呼入（含放弃与非工作时间来电）；无主叫号码的电话不算重复。"),
        compute=_repeat_contact,
        params={"hours": 24},
        scale=Decimal(100),
        source="calls",
    ),
    KpiDefinition(
        key="repeat_contact_rate_72h",
        label=_("重复来电率（72 小时）"),
        formula=_("此前 72 小时内同一号码已来电过的已接听电话 ÷ 已接听电话"),
        denominator=_("已接听电话数"),
        unit="percent",
        honours=_ANSWERED_CALL_DIMS,
        counts=_("同 24 小时口径，回看 72 小时。"),
        compute=_repeat_contact,
        params={"hours": 72},
        scale=Decimal(100),
        source="calls",
    ),
    KpiDefinition(
        key="fcr",
        label=_("首次解决率"),
        formula=_(
            "已解决、未重开、且 W 天内同一客户无同类型新工单的首次接触 ÷ 首次接触（W 默认 7 天）"
        ),
        denominator=_("首次接触：区间内新建、有客户、此前 W 天内该客户无同类型工单的工单"),
        unit="percent",
        honours=_TICKET_DIMS,
        counts=_(
            "按建单时间计入区间；取消与被合并的工单不计；报修工单不计（用一次修复率）；"
            "区间最后 W 天的结果会随新工单而变化。"
        ),
        compute=_fcr,
        params={"window_days": 7},
        scale=Decimal(100),
    ),
    KpiDefinition(
        key="sla_response",
        label=_("首次响应 SLA 达成率"),
        formula=_("按时首次响应的工单 ÷ （区间内首次响应的工单 + 区间内到期仍未响应的工单）"),
        denominator=_(
            "区间内停表（首次公开回复，或未回复即解决）的工单 + 区间内到期至区间末仍未停表的工单"
        ),
        unit="percent",
        honours=_TICKET_DIMS,
        counts=_(
            "时限为扣除暂停后的工作时间时限（工单上的首次响应时限）；逾期未响应的工单计入"
            "到期所在区间的分母，超时工单无法隐藏；取消、合并及无时限的工单不计。"
        ),
        compute=_sla_response,
        scale=Decimal(100),
    ),
    KpiDefinition(
        key="sla_resolution",
        label=_("解决 SLA 达成率"),
        formula=_("按时解决的工单 ÷ （区间内解决的工单 + 区间内到期仍未解决的工单）"),
        denominator=_("区间内解决的工单 + 解决时限在区间内且至区间末仍未解决的工单"),
        unit="percent",
        honours=_TICKET_DIMS,
        counts=_(
            "解决时间 ≤ 解决时限（含暂停顺延）为达成；重开后按再次解决的时间计；取消、合并"
            "及无时限的工单不计。"
        ),
        compute=_sla_resolution,
        scale=Decimal(100),
    ),
    KpiDefinition(
        key="backlog",
        label=_("积压工单"),
        formula=_("区间结束时仍未解决的工单数"),
        denominator=_("无（计数）"),
        unit="count",
        honours=_TICKET_DIMS,
        counts=_(
            "建单早于区间末、且当时尚未解决、关闭或取消的工单；已解决待关闭的不算积压；"
            "被合并的工单不计。"
        ),
        compute=_backlog,
        ratio=False,
    ),
    KpiDefinition(
        key="complaint_rate",
        label=_("投诉率"),
        formula=_("有效投诉 ÷ 区间内订单数 × 10,000"),
        denominator=_("下单日期在区间内的订单数"),
        unit="per_10k",
        honours=frozenset({"tier"}),
        counts=_(
            "有效投诉：责任判定为我方、供应商或承运商的投诉工单，按建单时间计入；"
            "客户等级按投诉工单记录的等级与下单客户当前等级；不按班组、坐席、渠道、类型切分。"
        ),
        compute=_complaint_rate,
        scale=Decimal(10000),
        source="orders",
    ),
    KpiDefinition(
        key="reopen_rate",
        label=_("重开率"),
        formula=_("区间内解决且曾被重开的工单 ÷ 区间内解决的工单"),
        denominator=_("解决时间在区间内的工单（取消与合并的除外）"),
        unit="percent",
        honours=_TICKET_DIMS,
        counts=_("重开后尚未再次解决的工单在再次解决时才计入。"),
        compute=_reopen_rate,
        scale=Decimal(100),
    ),
    KpiDefinition(
        key="cost_per_contact",
        label=_("单次接触成本"),
        formula=_("区间覆盖月份的服务成本（部分月份按天数折算） ÷ 处理的接触量"),
        denominator=_("接触量 = 已接听的呼入电话 + 非电话渠道新建的工单"),
        unit="yuan",
        honours=frozenset(),
        counts=_(
            "电话渠道的工单不计（那通电话已计入），呼出与回呼不计，转接不重复计；"
            "区间内任一月份未录入成本时为 n/a；不按任何维度切分。"
        ),
        compute=_cost_per_contact,
        source="costs",
    ),
]

DEFINITIONS: dict[str, KpiDefinition] = {definition.key: definition for definition in _DEFS}


# --- the interface ------------------------------------------------------------------------


def _definition(key: str) -> KpiDefinition:
    try:
        return DEFINITIONS[key]
    except KeyError:
        raise KpiError(gettext("未知的指标：%(key)s") % {"key": key}) from None


def _params(definition: KpiDefinition, params: dict[str, Any]) -> dict[str, Any]:
    unknown = set(params) - set(definition.params)
    if unknown:
        raise KpiError(
            gettext("指标 %(key)s 不接受参数：%(names)s")
            % {"key": definition.key, "names": "、".join(sorted(unknown))}
        )
    merged = {**definition.params, **params}
    for name, value in merged.items():
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise KpiError(gettext("参数 %(name)s 必须是整数。") % {"name": name}) from None
        if number < 0 or (name != "short_abandon_seconds" and number == 0):
            raise KpiError(gettext("参数 %(name)s 必须是正整数。") % {"name": name})
        merged[name] = number
    if "formula" in merged and merged["formula"] not in (1, 2, 3, 4):
        raise KpiError(gettext("服务水平公式只能是 1、2、3 或 4。"))
    return merged


def _honours(definition: KpiDefinition, s: Slice) -> bool:
    return all(dim in definition.honours for dim in s.filters)


def kpi(key: str, slice: Slice, **params: Any) -> KpiValue:
    definition = _definition(key)
    merged = _params(definition, params)
    if not _honours(definition, slice):
        return _na(definition)
    rows = definition.compute(slice, merged, None)
    return _value_of(definition, rows.get(None))


def kpis(keys: Iterable[str], slice: Slice) -> dict[str, KpiValue]:
    return {key: kpi(key, slice) for key in keys}


def _buckets(s: Slice, granularity: str) -> list[tuple[date, Slice]]:
    """The days, ISO weeks or months the slice touches, each clipped to the slice."""
    if granularity not in GRANULARITIES:
        raise KpiError(gettext("粒度只能是 day、week 或 month。"))
    makers: dict[str, Callable[..., Slice]] = {
        "day": Slice.day,
        "week": Slice.week,
        "month": Slice.month,
    }
    make = makers[granularity]
    out: list[tuple[date, Slice]] = []
    day = s.start_date
    while True:
        bucket = make(day)
        start, end = max(bucket.start, s.start), min(bucket.end, s.end)
        if start >= s.end:
            break
        out.append((bucket.start_date, replace(s, start=start, end=end)))
        day = bucket.end_date
    return out


def kpi_series(key: str, slice: Slice, granularity: str) -> list[tuple[date, KpiValue]]:
    """The KPI for each day, ISO week or month of the slice (a bucket is clipped to the slice,
    and named by its own first day); backlog is counted at each bucket's end."""
    _definition(key)
    return [(first, kpi(key, bucket)) for first, bucket in _buckets(slice, granularity)]


_NONE_LABEL = _("（未指定）")


def _labels(by: str, keys: Iterable[Any]) -> dict[Any, str]:
    ids = [key for key in keys if key is not None]
    if by == "team":
        return dict(Team.objects.filter(pk__in=ids).values_list("pk", "name"))
    if by == "agent":
        return {user.pk: str(user) for user in User.objects.filter(pk__in=ids)}
    choices = {
        "channel": Ticket.Channel.choices,
        "ticket_type": Ticket.Type.choices,
        "tier": Customer.Tier.choices,
    }[by]
    return {value: str(label) for value, label in choices}


def kpi_breakdown(key: str, slice: Slice, by: str) -> list[tuple[str, str, KpiValue]]:
    """The KPI per team, agent, channel, ticket type or tier in ONE grouped query (two for the
    complaint rate). Rows (group key, label, value): channels, types and tiers in their choice
    order, teams and agents by name, the unassigned group ("", （未指定）) last; a group with no
    rows is not listed; [] when the KPI does not honour ``by`` or the slice's filters."""
    definition = _definition(key)
    if by not in DIMENSIONS:
        raise KpiError(gettext("分组维度只能是 team、agent、channel、ticket_type 或 tier。"))
    if by not in definition.honours or not _honours(definition, slice):
        return []
    rows = definition.compute(slice, dict(definition.params), by)
    labels = _labels(by, rows)
    out = [
        (
            "" if group in (None, "") else str(group),
            str(_NONE_LABEL) if group in (None, "") else labels.get(group, str(group)),
            _value_of(definition, pair),
        )
        for group, pair in rows.items()
    ]
    # enumerations in their own order (钻石, 金, 银, 普通), teams and agents by name
    order = {value: index for index, value in enumerate(_CHOICE_ORDER.get(by, []))}
    return sorted(out, key=lambda row: (row[0] == "", order.get(row[0], 0), row[1]))


_CHOICE_ORDER = {
    "channel": Ticket.Channel.values,
    "ticket_type": Ticket.Type.values,
    "tier": Customer.Tier.values,
}


AGE_BUCKETS: list[tuple[str, Promise, timedelta | None]] = [
    ("lt1d", _("不足1天"), timedelta(days=1)),
    ("1to3d", _("1–3天"), timedelta(days=3)),
    ("3to7d", _("3–7天"), timedelta(days=7)),
    ("7to30d", _("7–30天"), timedelta(days=30)),
    ("gt30d", _("30天以上"), None),
]


def backlog_ageing(at: datetime, **filters: Any) -> list[tuple[str, str, int]]:
    """Tickets open at ``at`` by age (``at`` − creation): under 1 day, 1–3, 3–7, 7–30 days and
    30 days or more; a bucket's lower bound is inclusive. Filters as Slice's: team_id,
    agent_id, channel, ticket_type, tier. One grouped query."""
    s = Slice(at, at, **filters)
    whens = [
        When(created_at__gt=at - limit, then=Value(key))
        for key, _label, limit in AGE_BUCKETS
        if limit is not None
    ]
    bucket = Case(*whens, default=Value("gt30d"), output_field=CharField())
    counts = dict(
        _open_at(_tickets(s), at)
        .order_by()
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(n=Count("pk"))
        .values_list("bucket", "n")
    )
    return [(key, str(label), int(counts.get(key, 0))) for key, label, _limit in AGE_BUCKETS]
