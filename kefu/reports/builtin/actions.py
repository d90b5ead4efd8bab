"""The action lists (行动清单, order 50): which customers other departments should act on.

For sales, grouped by the owner sales rep: customers falling, churned and at risk (from the
customer movements section, ``ctx.shared["movements"]``), and customers in credit trouble
(exposure at or over the limit, or orders unpaid more than 30 days past their due date at the
month end), each with the reason in words. For marketing: customers won back and new
customers to welcome. A person customer's name is masked (张**).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.core.phones import mask_name
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.org.models import User
from kefu.reports.builtin.common import last_day, one_decimal, to_decimal, yuan
from kefu.reports.sections import (
    Column,
    Figure,
    ReportContext,
    SectionResult,
    Table,
)

OVERDUE_DAYS = 30
LIST_LIMIT = 1000  # rows per list; the rest are counted in a note
SALES_STATUSES: tuple[tuple[str, Promise], ...] = (
    ("churned", _("流失")),
    ("at_risk", _("流失预警")),
    ("falling", _("下降")),
)
CREDIT = "credit"
CREDIT_LABEL = _("信用风险")
MARKETING_STATUSES: tuple[tuple[str, Promise], ...] = (
    ("won_back", _("回流")),
    ("new", _("新客户")),
)


def credit_trouble(month_end: date) -> tuple[list[dict[str, Any]], int]:
    """Customers with exposure ≥ limit (a limit is set), or with orders placed by the month end
    and unpaid at it more than OVERDUE_DAYS past their due date: rows (customer, owner, credit
    and overdue figures), the largest overdue amount first, at most LIST_LIMIT, and how many
    there are in all. One statement: the overdue orders grouped by customer, joined to the
    customers (100,000 customers are never read into Python)."""
    ops = connection.ops
    orders, customers = Order._meta.db_table, Customer._meta.db_table
    users = User._meta.db_table
    sql = f"""
WITH overdue AS (
    SELECT customer_id, COUNT(*) AS n, SUM(amount) AS amount, MIN(due_date) AS oldest
    FROM {orders}
    WHERE due_date < %s AND date <= %s AND (paid_date IS NULL OR paid_date > %s)
    GROUP BY customer_id
)
SELECT c.id, c.name, c.kind, c.owner_id, u.display_name, u.username,
       c.credit_limit, c.credit_exposure, COALESCE(o.n, 0), o.amount, o.oldest,
       COUNT(*) OVER ()
FROM {customers} AS c
LEFT JOIN overdue AS o ON o.customer_id = c.id
LEFT JOIN {users} AS u ON u.id = c.owner_id
WHERE c.merged_into_id IS NULL
  AND (o.customer_id IS NOT NULL OR (c.credit_limit > 0 AND c.credit_exposure >= c.credit_limit))
ORDER BY CASE WHEN o.amount IS NULL THEN 1 ELSE 0 END, o.amount DESC, c.id
LIMIT {LIST_LIMIT}
"""  # noqa: S608 (table names from the models; values are parameters)
    cutoff = month_end - timedelta(days=OVERDUE_DAYS)
    params = [
        ops.adapt_datefield_value(cutoff),
        ops.adapt_datefield_value(month_end),
        ops.adapt_datefield_value(month_end),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    keys = (
        "pk",
        "name",
        "kind",
        "owner_id",
        "owner__display_name",
        "owner__username",
        "credit_limit",
        "credit_exposure",
        "overdue_count",
        "overdue_amount",
        "oldest_due",
    )
    rows = []
    for row in found:
        item = dict(zip(keys, row[:-1], strict=True))
        oldest = item["oldest_due"]
        if isinstance(oldest, str):  # SQLite hands dates back as text
            item["oldest_due"] = date.fromisoformat(oldest[:10])
        item["overdue_count"] = int(item["overdue_count"])
        rows.append(item)
    total = int(found[0][-1]) if found else 0
    return rows, total


def _credit_reason(row: dict[str, Any], month_end: date) -> str:
    parts = []
    if row["overdue_count"]:
        parts.append(
            gettext("应收逾期 %(n)d 笔共 %(amount)s，最早已逾期 %(days)d 天")
            % {
                "n": row["overdue_count"],
                "amount": yuan(row["overdue_amount"]),
                "days": (month_end - row["oldest_due"]).days,
            }
        )
    limit, exposure = to_decimal(row["credit_limit"]), to_decimal(row["credit_exposure"])
    if limit > 0 and exposure >= limit:
        parts.append(
            gettext("信用占用 %(exposure)s，已达额度 %(limit)s 的 %(percent)s%%")
            % {
                "exposure": yuan(exposure),
                "limit": yuan(limit),
                "percent": one_decimal(exposure * 100 / limit),
            }
        )
    return gettext("；").join(parts)


def _person_ids(ids: list[int]) -> set[int]:
    persons: set[int] = set()
    for index in range(0, len(ids), 500):
        persons.update(
            Customer.objects.filter(
                pk__in=ids[index : index + 500], kind=Customer.Kind.PERSON
            ).values_list("pk", flat=True)
        )
    return persons


def _owner(name: str) -> str:
    return name or gettext("未分配")


class ActionsSection:
    key = "actions"
    title: Promise = _("行动清单")
    order = 50

    def build(self, ctx: ReportContext) -> SectionResult:
        month_end = last_day(ctx.month)
        movements = ctx.shared.get("movements")
        notes: list[str] = []
        sales: list[dict[str, Any]] = []
        marketing: list[dict[str, Any]] = []
        if movements is None:
            notes.append(gettext("本月没有客户变动数据，销售清单只列出信用风险客户。"))
        else:
            for status, label in SALES_STATUSES:
                found = movements.by_status.get(status, [])
                for movement in found[:LIST_LIMIT]:
                    sales.append(self._movement_row(movement, str(label), status))
                if len(found) > LIST_LIMIT:
                    notes.append(
                        gettext("%(label)s客户共 %(n)d 位，清单只列出前 %(limit)d 位。")
                        % {"label": label, "n": len(found), "limit": LIST_LIMIT}
                    )
            for status, label in MARKETING_STATUSES:
                found = movements.by_status.get(status, [])
                for movement in found[:LIST_LIMIT]:
                    marketing.append(self._movement_row(movement, str(label), status))
                if len(found) > LIST_LIMIT:
                    notes.append(
                        gettext("%(label)s客户共 %(n)d 位，清单只列出前 %(limit)d 位。")
                        % {"label": label, "n": len(found), "limit": LIST_LIMIT}
                    )
        credit_rows, credit_total = credit_trouble(month_end)
        for row in credit_rows:
            sales.append(
                {
                    "owner": _owner(row["owner__display_name"] or row["owner__username"] or ""),
                    "owner_id": row["owner_id"],
                    "customer_id": row["pk"],
                    "customer": row["name"],
                    "category": str(CREDIT_LABEL),
                    "status": CREDIT,
                    "reason": _credit_reason(row, month_end),
                }
            )
        if credit_total > len(credit_rows):
            notes.append(
                gettext("信用风险客户共 %(n)d 位，清单只列出逾期金额最大的 %(limit)d 位。")
                % {"n": credit_total, "limit": len(credit_rows)}
            )

        # mask persons' names
        persons = _person_ids(sorted({row["customer_id"] for row in sales + marketing}))
        for row in sales + marketing:
            if row["customer_id"] in persons:
                row["customer"] = mask_name(row["customer"])

        order = {status: index for index, (status, _l) in enumerate(SALES_STATUSES)}
        order[CREDIT] = len(order)
        sales.sort(key=lambda r: (r["owner"], order[r["status"]], r["customer_id"]))
        marketing.sort(key=lambda r: (r["owner"], r["status"] != "won_back", r["customer_id"]))

        # per owner: how many of each
        per_owner: dict[str, Counter[str]] = {}
        for row in sales:
            per_owner.setdefault(row["owner"], Counter())[row["status"]] += 1
        summary_columns = [
            Column("owner", gettext("负责销售"), "text"),
            *(Column(status, str(label), "int") for status, label in SALES_STATUSES),
            Column(CREDIT, str(CREDIT_LABEL), "int"),
            Column("total", gettext("合计"), "int"),
        ]
        summary = [
            {
                "owner": owner,
                **{status: counts[status] for status, _l in SALES_STATUSES},
                CREDIT: counts[CREDIT],
                "total": sum(counts.values()),
            }
            for owner, counts in sorted(per_owner.items())
        ]
        list_columns = [
            Column("owner", gettext("负责销售"), "text"),
            Column("customer_id", gettext("客户 ID"), "int"),
            Column("customer", gettext("客户"), "text"),
            Column("category", gettext("类别"), "text"),
            Column("reason", gettext("原因"), "text"),
        ]
        keys = [column.key for column in list_columns]
        tables = [
            Table(
                key="sales_summary",
                title=gettext("销售跟进汇总（按负责销售）"),
                columns=summary_columns,
                rows=summary,
            ),
            Table(
                key="sales",
                title=gettext("销售跟进清单"),
                columns=list_columns,
                rows=[{key: row[key] for key in keys} for row in sales],
            ),
            Table(
                key="marketing",
                title=gettext("市场关怀清单（回流与新客户）"),
                columns=list_columns,
                rows=[{key: row[key] for key in keys} for row in marketing],
            ),
        ]
        counted = Counter(row["status"] for row in sales + marketing)
        figures = [
            *(
                Figure(gettext("待跟进：%(label)s") % {"label": label}, counted[status], "int")
                for status, label in SALES_STATUSES
            ),
            Figure(gettext("待跟进：信用风险"), credit_total, "int"),
            *(
                Figure(gettext("待关怀：%(label)s") % {"label": label}, counted[status], "int")
                for status, label in MARKETING_STATUSES
            ),
        ]
        if sales:
            notes.insert(
                0,
                gettext(
                    "销售跟进清单共 %(n)d 项（%(customers)d 位客户），涉及 %(owners)d 位负责销售。"
                )
                % {
                    "n": len(sales),
                    "customers": len({row["customer_id"] for row in sales}),
                    "owners": len(per_owner),
                },
            )
        else:
            notes.insert(0, gettext("本月没有需要销售跟进的客户。"))
        if marketing:
            notes.append(
                gettext("市场部可关怀回流客户 %(won)d 位、新客户 %(new)d 位。")
                % {"won": counted["won_back"], "new": counted["new"]}
            )
        return SectionResult(
            key=self.key,
            title=str(self.title),
            figures=figures,
            tables=tables,
            charts=[],
            notes=notes,
        )

    @staticmethod
    def _movement_row(movement: Any, label: str, status: str) -> dict[str, Any]:
        return {
            "owner": _owner(movement.owner_name),
            "owner_id": movement.owner_id,
            "customer_id": movement.customer_id,
            "customer": movement.name,
            "category": label,
            "status": status,
            "reason": movement.reason,
        }


ACTIONS = ActionsSection()
