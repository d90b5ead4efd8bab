"""The profitability section (客户盈利, order 40): per customer over the trailing 12 months to
the month end, revenue, gross profit (amount − cost), the cost of serving the customer and
the margin left after it; totals by tier, and the customers whose service cost exceeds their
gross profit (the 100 largest losses).

Service cost = tickets × unit cost of a ticket + answered calls × unit cost of a call + repair
tickets × unit cost of a repair (a repair ticket is a ticket too: the visit comes on top of
handling it), with the unit costs of ReportSettings. A ticket merged into another counts once.

One aggregating statement per table: orders, tickets and calls of the 12 months are summed
per customer in a UNION ALL grouped by customer, costed, and then totalled by tier or ranked
by loss, all in the database (100,000 customers, 1,000,000 tickets and 2,000,000 order lines
never leave it).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.calls.models import Call
from kefu.core.phones import mask_name
from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.orders.models import Order
from kefu.org.models import User
from kefu.reports.builtin.common import (
    add_months,
    last_day,
    money_cell,
    month_label,
    month_start,
    one_decimal,
    to_decimal,
    yuan,
)
from kefu.reports.sections import (
    Chart,
    Column,
    Figure,
    ReportContext,
    SectionResult,
    Table,
)

LOSS_LIMIT = 100


def _per_customer_sql() -> str:
    """The costed per-customer rows of the window, as a WITH clause (parameters in order:
    first day, last day, start, end, repair type, start, end, unit costs ticket, call,
    repair)."""
    orders = Order._meta.db_table
    tickets = Ticket._meta.db_table
    calls = Call._meta.db_table
    return f"""
WITH per AS (
    SELECT customer_id, SUM(revenue) AS revenue, SUM(profit) AS profit,
           SUM(tickets) AS tickets, SUM(repairs) AS repairs, SUM(calls) AS calls
    FROM (
        SELECT customer_id, amount AS revenue, amount - cost AS profit,
               0 AS tickets, 0 AS repairs, 0 AS calls
        FROM {orders} WHERE date >= %s AND date <= %s
        UNION ALL
        SELECT customer_id, 0, 0, 1, CASE WHEN type = %s THEN 1 ELSE 0 END, 0
        FROM {tickets}
        WHERE customer_id IS NOT NULL AND merged_into_id IS NULL
          AND created_at >= %s AND created_at < %s
        UNION ALL
        SELECT customer_id, 0, 0, 0, 0, 1
        FROM {calls}
        WHERE customer_id IS NOT NULL AND outcome = 'answered'
          AND offered_at >= %s AND offered_at < %s
    ) AS x
    GROUP BY customer_id
), costed AS (
    SELECT customer_id, revenue, profit, tickets, repairs, calls,
           tickets * %s + calls * %s + repairs * %s AS service_cost
    FROM per
)
"""  # noqa: S608 (table names from the models; values are parameters)


def _params(ctx: ReportContext, window_start: datetime) -> list[Any]:
    ops = connection.ops
    first, last = window_start.date(), last_day(ctx.month)
    start, end = ops.adapt_datetimefield_value(window_start), ops.adapt_datetimefield_value(ctx.end)
    settings = ctx.settings
    return [
        ops.adapt_datefield_value(first),
        ops.adapt_datefield_value(last),
        Ticket.Type.REPAIR.value,
        start,
        end,
        start,
        end,
        Decimal(settings.unit_cost_ticket),
        Decimal(settings.unit_cost_call),
        Decimal(settings.unit_cost_repair),
    ]


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _margin_rate(margin: Decimal, revenue: Decimal) -> float | None:
    if not revenue:
        return None
    return one_decimal(margin * 100 / revenue)


class ProfitabilitySection:
    key = "profitability"
    title: Promise = _("客户盈利（扣除服务成本）")
    order = 40

    def build(self, ctx: ReportContext) -> SectionResult:
        window_first = add_months(ctx.month, -11)
        window_start = month_start(window_first)
        params = _params(ctx, window_start)
        customers = Customer._meta.db_table
        users = User._meta.db_table
        with_clause = _per_customer_sql()

        # 1. one statement: the totals by tier, then the largest losses (service cost above
        # gross profit); PostgreSQL computes the per-customer rows once for both
        found = _fetch(
            f"""{with_clause}
SELECT 0, NULL, NULL, NULL, c.tier, NULL, NULL, COUNT(*), SUM(revenue), SUM(profit),
       SUM(service_cost), SUM(tickets), SUM(calls), SUM(repairs),
       SUM(CASE WHEN service_cost > profit THEN 1 ELSE 0 END)
FROM costed JOIN {customers} AS c ON c.id = costed.customer_id
GROUP BY c.tier
UNION ALL
SELECT * FROM (
    SELECT 1, costed.customer_id, c.name, c.kind, c.tier, u.display_name, u.username, 1,
           revenue, profit, service_cost, tickets, calls, repairs, 1
    FROM costed
    JOIN {customers} AS c ON c.id = costed.customer_id
    LEFT JOIN {users} AS u ON u.id = c.owner_id
    WHERE service_cost > profit
    ORDER BY service_cost - profit DESC, costed.customer_id
    LIMIT {LOSS_LIMIT}
) AS worst
""",  # noqa: S608 (table names from the models; values are parameters)
            params,
        )
        tier_rows = [(row[4], *row[7:]) for row in found if row[0] == 0]
        loss_rows = [(*row[1:7], *row[8:14]) for row in found if row[0] == 1]
        tier_order = {value: index for index, value in enumerate(Customer.Tier.values)}
        tier_labels = dict(Customer.Tier.choices)
        by_tier: list[dict[str, Any]] = []
        totals = {"revenue": Decimal(0), "profit": Decimal(0), "service_cost": Decimal(0)}
        counts = {"customers": 0, "tickets": 0, "calls": 0, "repairs": 0, "losses": 0}
        for tier, count, revenue, profit, cost, tickets, calls, repairs, loss_count in sorted(
            tier_rows, key=lambda row: tier_order.get(row[0], len(tier_order))
        ):
            revenue, profit, cost = to_decimal(revenue), to_decimal(profit), to_decimal(cost)
            margin = profit - cost
            by_tier.append(
                {
                    "tier": str(tier_labels.get(tier, tier)),
                    "customers": int(count),
                    "revenue": money_cell(revenue),
                    "profit": money_cell(profit),
                    "service_cost": money_cell(cost),
                    "margin": money_cell(margin),
                    "margin_rate": _margin_rate(margin, revenue),
                    "tickets": int(tickets),
                    "calls": int(calls),
                    "repairs": int(repairs),
                    "losses": int(loss_count),
                }
            )
            totals["revenue"] += revenue
            totals["profit"] += profit
            totals["service_cost"] += cost
            for name, value in (
                ("customers", count),
                ("tickets", tickets),
                ("calls", calls),
                ("repairs", repairs),
                ("losses", loss_count),
            ):
                counts[name] += int(value)
        total_margin = totals["profit"] - totals["service_cost"]

        # 2. the largest losses
        losses: list[dict[str, Any]] = []
        loss_total = Decimal(0)
        for (
            customer_id,
            name,
            kind,
            tier,
            display_name,
            username,
            revenue,
            profit,
            cost,
            tickets,
            calls,
            repairs,
        ) in loss_rows:
            profit, cost = to_decimal(profit), to_decimal(cost)
            loss_total += cost - profit
            losses.append(
                {
                    "customer_id": int(customer_id),
                    "customer": mask_name(name) if kind == Customer.Kind.PERSON else name,
                    "tier": str(tier_labels.get(tier, tier)),
                    "owner": display_name or username or "",
                    "revenue": money_cell(revenue),
                    "profit": money_cell(profit),
                    "service_cost": money_cell(cost),
                    "margin": money_cell(profit - cost),
                    "tickets": int(tickets),
                    "calls": int(calls),
                    "repairs": int(repairs),
                }
            )

        money_columns = [
            Column("revenue", gettext("营业额"), "money"),
            Column("profit", gettext("毛利"), "money"),
            Column("service_cost", gettext("服务成本"), "money"),
            Column("margin", gettext("扣除服务成本后利润"), "money"),
        ]
        count_columns = [
            Column("tickets", gettext("工单数"), "int"),
            Column("calls", gettext("通话数"), "int"),
            Column("repairs", gettext("报修数"), "int"),
        ]
        tables = [
            Table(
                key="by_tier",
                title=gettext("按客户等级"),
                columns=[
                    Column("tier", gettext("客户等级"), "text"),
                    Column("customers", gettext("客户数"), "int"),
                    *money_columns,
                    Column("margin_rate", gettext("服务后利润率"), "percent"),
                    *count_columns,
                    Column("losses", gettext("服务成本超过毛利的客户"), "int"),
                ],
                rows=by_tier,
            ),
            Table(
                key="losses",
                title=gettext("服务成本超过毛利的客户（按亏损排序，前 %(n)d 位）")
                % {"n": LOSS_LIMIT},
                columns=[
                    Column("customer_id", gettext("客户 ID"), "int"),
                    Column("customer", gettext("客户"), "text"),
                    Column("tier", gettext("客户等级"), "text"),
                    Column("owner", gettext("负责销售"), "text"),
                    *money_columns,
                    *count_columns,
                ],
                rows=losses,
            ),
        ]
        charts = []
        if by_tier:
            charts.append(
                Chart(
                    key="by_tier",
                    title=gettext("各等级客户毛利与服务成本"),
                    kind="bar",
                    categories=[row["tier"] for row in by_tier],
                    series=[
                        {
                            "name": gettext("毛利"),
                            "data": [float(row["profit"]) for row in by_tier],
                        },
                        {
                            "name": gettext("服务成本"),
                            "data": [float(row["service_cost"]) for row in by_tier],
                        },
                    ],
                )
            )
        figures = [
            Figure(gettext("近12个月营业额"), money_cell(totals["revenue"]), "money"),
            Figure(gettext("近12个月毛利"), money_cell(totals["profit"]), "money"),
            Figure(gettext("近12个月服务成本"), money_cell(totals["service_cost"]), "money"),
            Figure(gettext("扣除服务成本后利润"), money_cell(total_margin), "money"),
            Figure(gettext("服务成本超过毛利的客户"), counts["losses"], "int"),
        ]
        window = gettext("%(first)s至%(last)s") % {
            "first": month_label(window_first),
            "last": month_label(ctx.month),
        }
        settings = ctx.settings
        notes = [
            gettext(
                "统计期间为近12个月（%(window)s）。服务成本按每张工单 %(ticket)s、每通接通电话 "
                "%(call)s、每张报修工单另加 %(repair)s 计算。"
            )
            % {
                "window": window,
                "ticket": yuan(settings.unit_cost_ticket),
                "call": yuan(settings.unit_cost_call),
                "repair": yuan(settings.unit_cost_repair),
            }
        ]
        if counts["customers"]:
            notes.append(
                gettext(
                    "%(n)d 位客户近12个月毛利 %(profit)s，服务成本 %(cost)s，"
                    "扣除服务成本后利润 %(margin)s。"
                )
                % {
                    "n": counts["customers"],
                    "profit": yuan(totals["profit"]),
                    "cost": yuan(totals["service_cost"]),
                    "margin": yuan(total_margin),
                }
            )
        if counts["losses"]:
            shown = len(losses)
            notes.append(
                gettext(
                    "%(n)d 位客户的服务成本超过其毛利；亏损最大的 %(shown)d 位合计亏损 %(loss)s。"
                )
                % {"n": counts["losses"], "shown": shown, "loss": yuan(loss_total)}
            )
        elif counts["customers"]:
            notes.append(gettext("没有客户的服务成本超过其毛利。"))
        return SectionResult(
            key=self.key,
            title=str(self.title),
            figures=figures,
            tables=tables,
            charts=charts,
            notes=notes,
        )


PROFITABILITY = ProfitabilitySection()
