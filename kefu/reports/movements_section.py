"""Section 10 of the monthly report: customer movements (客户动态) and the month's tier moves.

The classification itself is kefu.reports.movements.classify_customers (domain.md §3); this
section lays its result out and hands it on in ctx.shared["movements"] for the later sections
(the action lists read it) and for the report's top-level "customers" lists.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.phones import mask_name
from kefu.customers.models import Customer
from kefu.reports.models import ReportSettings
from kefu.reports.sections import Chart, Column, Figure, ReportContext, SectionResult, Table

if TYPE_CHECKING:
    from kefu.reports.movements import Movements

# The seven statuses in the order domain.md §3 evaluates them, with their Chinese names.
STATUSES: tuple[tuple[str, Any], ...] = (
    ("churned", gettext_lazy("流失")),
    ("at_risk", gettext_lazy("流失预警")),
    ("anomalous", gettext_lazy("异动")),
    ("rising", gettext_lazy("上升")),
    ("falling", gettext_lazy("下降")),
    ("new", gettext_lazy("新客户")),
    ("won_back", gettext_lazy("赢回")),
)
STATUS_KEYS = tuple(key for key, _label in STATUSES)
TABLE_TITLES = {
    "churned": gettext_lazy("流失客户"),
    "at_risk": gettext_lazy("流失预警客户"),
    "anomalous": gettext_lazy("异动客户"),
    "rising": gettext_lazy("上升客户"),
    "falling": gettext_lazy("下降客户"),
    "new": gettext_lazy("新客户"),
    "won_back": gettext_lazy("赢回客户"),
}
TIER_MOVES_LIMIT = 500  # rows in the tier-moves table; the counts cover them all

_TIER_RANK = {
    Customer.Tier.ORDINARY: 0,
    Customer.Tier.SILVER: 1,
    Customer.Tier.GOLD: 2,
    Customer.Tier.DIAMOND: 3,
}


def classify(month: date, report_settings: ReportSettings) -> Movements:
    """kefu.reports.movements.classify_customers under the settings' rules (imported when
    called: it brings numpy; the layout tests swap this function for a stand-in)."""
    from kefu.reports.movements import classify_customers

    return classify_customers(month, report_settings.movement_rules())


def _money(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"
    except (InvalidOperation, ValueError):
        return None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _movement_row(movement: Any) -> dict[str, Any]:
    figures = movement.figures or {}
    return {
        "customer_id": movement.customer_id,
        "name": movement.name,
        "reason": movement.reason,
        "owner": movement.owner_name or "—",
        "r3": _money(figures.get("r3")),
        "base": _money(figures.get("base")),
        "base_kind": str(figures.get("base_kind") or ""),
        "t12": _money(figures.get("t12")),
        "days_since_last": _int(figures.get("days_since_last")),
    }


def _movement_columns() -> list[Column]:
    return [
        Column("customer_id", _("客户编号"), "int"),
        Column("name", _("客户"), "text"),
        Column("reason", _("原因"), "text"),
        Column("owner", _("负责销售"), "text"),
        Column("r3", _("近3月订单额"), "money"),
        Column("base", _("基数"), "money"),
        Column("base_kind", _("基数口径"), "text"),
        Column("t12", _("近12月订单额"), "money"),
        Column("days_since_last", _("距上次下单（天）"), "int"),
    ]


def _shown_name(customer: Customer) -> str:
    """A person's name masked (张**), as everywhere in the report; companies as they are."""
    if customer.kind == Customer.Kind.PERSON:
        return mask_name(customer.name)
    return customer.name


def _tier_label(value: str) -> str:
    try:
        return str(Customer.Tier(value).label)
    except ValueError:
        return value


def _tier_moves(ctx: ReportContext) -> tuple[Table, int, int]:
    from kefu.tiering.models import TierChange

    changes = TierChange.objects.filter(created_at__gte=ctx.start, created_at__lt=ctx.end)

    def rank(field: str) -> Case:
        return Case(
            *(When(**{field: tier}, then=Value(n)) for tier, n in _TIER_RANK.items()),
            default=Value(0),
            output_field=IntegerField(),
        )

    counts = (
        changes.order_by()
        .annotate(from_rank=rank("from_tier"), to_rank=rank("to_tier"))
        .aggregate(
            up=Count("id", filter=Q(to_rank__gt=F("from_rank"))),
            down=Count("id", filter=Q(to_rank__lt=F("from_rank"))),
        )
    )
    rows = [
        {
            "date": f"{change.created_at.astimezone(ctx.start.tzinfo):%Y-%m-%d}",
            "customer_id": change.customer_id,
            "name": _shown_name(change.customer),
            "from_tier": _tier_label(change.from_tier),
            "to_tier": _tier_label(change.to_tier),
            "reason": change.reason,
        }
        for change in changes.select_related("customer")
        .only(
            "created_at",
            "customer_id",
            "from_tier",
            "to_tier",
            "reason",
            "customer__name",
            "customer__kind",
        )
        .order_by("created_at", "id")[:TIER_MOVES_LIMIT]
    ]
    table = Table(
        key="tier_moves",
        title=_("本月客户等级变动"),
        columns=[
            Column("date", _("日期"), "date"),
            Column("customer_id", _("客户编号"), "int"),
            Column("name", _("客户"), "text"),
            Column("from_tier", _("原等级"), "text"),
            Column("to_tier", _("新等级"), "text"),
            Column("reason", _("原因"), "text"),
        ],
        rows=rows,
    )
    return table, counts["up"] or 0, counts["down"] or 0


class CustomerMovementsSection:
    key = "movements"
    title = gettext_lazy("客户动态")
    order = 10

    def build(self, ctx: ReportContext) -> SectionResult:
        movements = classify(ctx.month, ctx.settings)
        ctx.shared["movements"] = movements
        labels = {key: str(label) for key, label in STATUSES}
        counts = {key: len(movements.by_status.get(key, [])) for key in STATUS_KEYS}

        figures = [Figure(labels[key], counts[key], "int") for key in STATUS_KEYS]
        figures.append(Figure(_("稳定"), movements.stable, "int"))
        figures.append(Figure(_("规模较小未评估"), movements.small, "int"))

        tables = [
            Table(
                key=f"movements_{key}",
                title=str(TABLE_TITLES[key]),
                columns=_movement_columns(),
                rows=[_movement_row(m) for m in movements.by_status.get(key, [])],
            )
            for key in STATUS_KEYS
        ]
        tier_table, upgraded, downgraded = _tier_moves(ctx)
        tables.append(tier_table)
        figures.append(Figure(_("等级上调"), upgraded, "int"))
        figures.append(Figure(_("等级下调"), downgraded, "int"))

        chart = Chart(
            key="movements_by_status",
            title=_("客户动态分布"),
            kind="bar",
            categories=[labels[key] for key in STATUS_KEYS],
            series=[{"name": _("客户数"), "data": [counts[key] for key in STATUS_KEYS]}],
        )
        notes = [
            _(
                "本月流失 %(churned)d 家，流失预警 %(at_risk)d 家，异动 %(anomalous)d 家；"
                "上升 %(rising)d 家，下降 %(falling)d 家；新客户 %(new)d 家，赢回 %(won_back)d 家。"
            )
            % counts,
            _("本月客户等级上调 %(up)d 次，下调 %(down)d 次。")
            % {"up": upgraded, "down": downgraded},
        ]
        if len(tier_table.rows) >= TIER_MOVES_LIMIT:
            notes.append(_("等级变动较多，表中只列出前 %(n)d 条。") % {"n": TIER_MOVES_LIMIT})
        return SectionResult(
            key=self.key,
            title=str(self.title),
            figures=figures,
            tables=tables,
            charts=[chart],
            notes=notes,
        )
