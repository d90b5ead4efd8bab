"""The complaints section (投诉, order 20): how many complaints came in, how many were valid
(liability ours, the supplier's or the carrier's), the complaint rate, their root causes,
products and responsible departments, how long the resolved ones took, the compensation paid,
and the outcomes of claims (理赔) and arbitration (仲裁), compared with the month before.

Every figure is one aggregate query over the month's tickets; nothing is read row by row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import (
    Avg,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.analytics.kpis import Slice, kpi
from kefu.desk.models import Ticket, TicketTransition
from kefu.orders.models import OrderLine
from kefu.reports.builtin.common import (
    SecondsBetween,
    add_months,
    change_words,
    kpi_cell,
    median,
    money_cell,
    month_start,
    one_decimal,
    points_words,
    share,
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

T = Ticket.Type
St = Ticket.Status
VALID_LIABILITY = (Ticket.Liability.OURS, Ticket.Liability.SUPPLIER, Ticket.Liability.CARRIER)
VALID = Q(liability__in=VALID_LIABILITY)
TOP = 10


def complaints_in(start: datetime, end: datetime) -> QuerySet[Ticket]:
    """Complaints created in [start, end); a ticket merged into another counts once, there."""
    return Ticket.objects.filter(
        type=T.COMPLAINT, created_at__gte=start, created_at__lt=end, merged_into__isnull=True
    )


def product_of_ticket() -> Coalesce:
    """The product a ticket is about: its asset's model, else the first line of its order, else
    "" (no product linked)."""
    first_line = (
        OrderLine.objects.filter(order_id=OuterRef("order_id"))
        .order_by("line_no")
        .values("product")[:1]
    )
    return Coalesce(F("asset__product_model"), Subquery(first_line), Value(""))


def by_product(
    previous: datetime, start: datetime, end: datetime
) -> dict[str, tuple[int, int, int]]:
    """Product → (complaints in [start, end), valid ones, complaints in [previous, start)):
    one grouped query over both months."""
    this_month = Q(created_at__gte=start)
    rows = (
        complaints_in(previous, end)
        .annotate(product=product_of_ticket())
        .values("product")
        .annotate(
            n=Count("id", filter=this_month),
            valid=Count("id", filter=this_month & VALID),
            before=Count("id", filter=~this_month),
        )
        .order_by()
    )
    return {row["product"]: (row["n"], row["valid"], row["before"]) for row in rows}


class ComplaintsSection:
    key = "complaints"
    title: Promise = _("投诉分析")
    order = 20

    def build(self, ctx: ReportContext) -> SectionResult:
        start, end = ctx.start, ctx.end
        previous = month_start(add_months(ctx.month, -1))
        figures: list[Figure] = []
        tables: list[Table] = []
        charts: list[Chart] = []
        notes: list[str] = []

        # 1. volume and validity, this month and the one before
        this_month = Q(created_at__gte=start)
        both = complaints_in(previous, end).aggregate(
            total=Count("id", filter=this_month),
            valid=Count("id", filter=this_month & VALID),
            customers=Count("customer", distinct=True, filter=this_month),
            before=Count("id", filter=~this_month),
        )
        counts = {key: both[key] for key in ("total", "valid", "customers")}
        before = {"total": both["before"]}
        rate = kpi("complaint_rate", Slice.month(ctx.month))
        rate_before = kpi("complaint_rate", Slice.month(add_months(ctx.month, -1)))
        figures += [
            Figure(gettext("投诉量"), counts["total"], "int"),
            Figure(gettext("有效投诉"), counts["valid"], "int"),
            Figure(gettext("投诉客户数"), counts["customers"], "int"),
            Figure(gettext("投诉率（每万单）"), kpi_cell(rate), "decimal"),
            Figure(gettext("上月投诉量"), before["total"], "int"),
        ]

        # 2. root causes
        causes = sorted(
            complaints_in(start, end)
            .values("root_cause")
            .annotate(n=Count("id"), valid=Count("id", filter=VALID))
            .order_by(),
            key=lambda row: (-row["n"], row["root_cause"]),
        )
        cause_labels = dict(Ticket.RootCause.choices)
        cause_rows = [
            {
                "cause": str(cause_labels.get(row["root_cause"], "")) or gettext("未判定"),
                "complaints": row["n"],
                "valid": row["valid"],
                "share": share(row["n"], counts["total"]),
            }
            for row in causes
        ]
        tables.append(
            Table(
                key="root_causes",
                title=gettext("投诉原因"),
                columns=[
                    Column("cause", gettext("原因分类"), "text"),
                    Column("complaints", gettext("投诉量"), "int"),
                    Column("valid", gettext("有效投诉"), "int"),
                    Column("share", gettext("占比"), "percent"),
                ],
                rows=cause_rows,
            )
        )
        if cause_rows:
            charts.append(
                Chart(
                    key="root_causes",
                    title=gettext("投诉原因分布"),
                    kind="pie",
                    categories=[row["cause"] for row in cause_rows],
                    series=[
                        {
                            "name": gettext("投诉量"),
                            "data": [row["complaints"] for row in cause_rows],
                        }
                    ],
                )
            )

        # 3. products, against the month before
        no_product = gettext("未关联产品")
        product_rows: list[dict[str, Any]] = sorted(
            (
                {
                    "product": name or no_product,
                    "complaints": n,
                    "valid": valid,
                    "previous": n_before,
                    "share": share(n, counts["total"]),
                }
                for name, (n, valid, n_before) in by_product(previous, start, end).items()
                if n  # a product complained of only the month before is not this month's
            ),
            key=lambda row: (-row["complaints"], row["product"]),
        )
        tables.append(
            Table(
                key="products",
                title=gettext("按产品"),
                columns=[
                    Column("product", gettext("产品"), "text"),
                    Column("complaints", gettext("投诉量"), "int"),
                    Column("valid", gettext("有效投诉"), "int"),
                    Column("previous", gettext("上月投诉量"), "int"),
                    Column("share", gettext("占比"), "percent"),
                ],
                rows=product_rows,
            )
        )
        if product_rows:
            top = product_rows[:TOP]
            charts.append(
                Chart(
                    key="products",
                    title=gettext("投诉量前 %(n)d 的产品") % {"n": len(top)},
                    kind="bar",
                    categories=[row["product"] for row in top],
                    series=[
                        {"name": gettext("本月"), "data": [row["complaints"] for row in top]},
                        {"name": gettext("上月"), "data": [row["previous"] for row in top]},
                    ],
                )
            )

        # 4. responsible departments
        departments = sorted(
            (
                {
                    "department": row["responsible_department__name"] or gettext("未指定"),
                    "complaints": row["n"],
                    "valid": row["valid"],
                    "share": share(row["n"], counts["total"]),
                }
                for row in complaints_in(start, end)
                .values("responsible_department__name")
                .annotate(n=Count("id"), valid=Count("id", filter=VALID))
                .order_by()
            ),
            key=lambda row: (-row["complaints"], row["department"]),
        )
        tables.append(
            Table(
                key="departments",
                title=gettext("按责任部门"),
                columns=[
                    Column("department", gettext("责任部门"), "text"),
                    Column("complaints", gettext("投诉量"), "int"),
                    Column("valid", gettext("有效投诉"), "int"),
                    Column("share", gettext("占比"), "percent"),
                ],
                rows=departments,
            )
        )

        # 5. time to resolve: complaints closed (resolved) in the month, whenever they came in
        resolved = Ticket.objects.filter(
            type=T.COMPLAINT,
            status=St.CLOSED,
            resolved_at__gte=start,
            resolved_at__lt=end,
            merged_into__isnull=True,
        ).annotate(seconds=SecondsBetween("created_at", "resolved_at"))
        timing = resolved.aggregate(n=Count("id"), mean=Avg("seconds"))
        middle = median(resolved, "seconds")
        mean_hours = one_decimal(timing["mean"] / 3600) if timing["mean"] is not None else None
        median_hours = one_decimal(middle / 3600) if middle is not None else None
        figures += [
            Figure(gettext("本月解决投诉"), timing["n"], "int"),
            Figure(gettext("平均解决时长（小时）"), mean_hours, "decimal"),
            Figure(gettext("解决时长中位数（小时）"), median_hours, "decimal"),
        ]

        # 6. compensation paid: complaints and claims closed in the month
        paid = Ticket.objects.filter(
            type__in=(T.COMPLAINT, T.CLAIM),
            status=St.CLOSED,
            closed_at__gte=start,
            closed_at__lt=end,
            merged_into__isnull=True,
        ).aggregate(
            total=Sum("compensation_amount"),
            complaints=Sum("compensation_amount", filter=Q(type=T.COMPLAINT)),
            claims=Sum("compensation_amount", filter=Q(type=T.CLAIM)),
        )
        figures.append(Figure(gettext("赔偿金额"), money_cell(paid["total"]), "money"))

        # 7. claims and arbitration
        tables.append(self._claims(start, end))
        tables.append(self._arbitration(start, end))

        # 8. in words
        if counts["total"] == 0 and before["total"] == 0:
            notes.append(gettext("本月与上月均无投诉。"))
        else:
            sentence = gettext("本月受理投诉 %(n)d 件（上月 %(before)d 件），%(change)s") % {
                "n": counts["total"],
                "before": before["total"],
                "change": change_words(counts["total"], before["total"]),
            }
            focus = self._focus(product_rows, no_product)
            notes.append(sentence + focus + gettext("。"))
        if counts["total"]:
            rate_words = points_words(kpi_cell(rate), kpi_cell(rate_before), gettext("万分点"))
            notes.append(
                gettext("有效投诉 %(valid)d 件，投诉率 %(rate)s 件/万单")
                % {
                    "valid": counts["valid"],
                    "rate": f"{kpi_cell(rate):.2f}" if rate.value is not None else "—",
                }
                + (gettext("，") + rate_words if rate_words else "")
                + gettext("。")
            )
            if cause_rows:
                main = cause_rows[0]
                notes.append(
                    gettext("最主要的原因是%(cause)s（%(n)d 件，占 %(share)s%%）。")
                    % {"cause": main["cause"], "n": main["complaints"], "share": main["share"]}
                )
        if paid["total"]:
            notes.append(
                gettext("本月结案赔付 %(total)s，其中投诉 %(complaints)s、理赔 %(claims)s。")
                % {
                    "total": yuan(paid["total"]),
                    "complaints": yuan(paid["complaints"]),
                    "claims": yuan(paid["claims"]),
                }
            )
        return SectionResult(
            key=self.key,
            title=str(self.title),
            figures=figures,
            tables=tables,
            charts=charts,
            notes=notes,
        )

    @staticmethod
    def _focus(product_rows: list[dict[str, Any]], no_product: str) -> str:
        """ ", 主要集中在 XX（12 件，上月 2 件）": the linked product with the most complaints
        (the largest rise breaking ties), if one stands out with at least 3."""
        linked = [row for row in product_rows if row["product"] != no_product]
        if not linked:
            return ""
        top = max(linked, key=lambda r: (r["complaints"], r["complaints"] - r["previous"]))
        if top["complaints"] < 3:
            return ""
        return gettext("，主要集中在 %(product)s（%(n)d 件，上月 %(before)d 件）") % {
            "product": top["product"],
            "n": top["complaints"],
            "before": top["previous"],
        }

    @staticmethod
    def _claims(start: datetime, end: datetime) -> Table:
        """Claims (理赔): new, settled, rejected, appealed in the month, and open at its end."""
        in_month = Q(closed_at__gte=start, closed_at__lt=end)
        amount = "compensation_amount"
        claims = Ticket.objects.filter(type=T.CLAIM, merged_into__isnull=True)
        new = Q(created_at__gte=start, created_at__lt=end)
        settled = Q(status=St.CLOSED) & in_month
        rejected = Q(status=St.REJECTED) & in_month
        appealed = Q(status=St.ARBITRATION) & in_month
        still_open = Q(created_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end))
        figures = claims.aggregate(
            new=Count("id", filter=new),
            new_amount=Sum(amount, filter=new),
            settled=Count("id", filter=settled),
            settled_amount=Sum(amount, filter=settled),
            rejected=Count("id", filter=rejected),
            rejected_amount=Sum(amount, filter=rejected),
            appealed=Count("id", filter=appealed),
            appealed_amount=Sum(amount, filter=appealed),
            open=Count("id", filter=still_open),
            open_amount=Sum(amount, filter=still_open),
        )
        labels = (
            ("new", gettext("本月新增理赔")),
            ("settled", gettext("已赔付结案")),
            ("rejected", gettext("已拒赔")),
            ("appealed", gettext("拒赔后申请仲裁")),
            ("open", gettext("月末未结")),
        )
        return Table(
            key="claims",
            title=gettext("理赔结果"),
            columns=[
                Column("outcome", gettext("结果"), "text"),
                Column("count", gettext("件数"), "int"),
                Column("amount", gettext("金额"), "money"),
            ],
            rows=[
                {
                    "outcome": label,
                    "count": figures[key],
                    "amount": money_cell(figures[f"{key}_amount"]),
                }
                for key, label in labels
            ],
        )

    @staticmethod
    def _arbitration(start: datetime, end: datetime) -> Table:
        """Arbitration (仲裁): filed, accepted, dismissed, decided, enforced and closed in the
        month (from the status changes), and open at its end."""
        cases = Ticket.objects.filter(type=T.ARBITRATION, merged_into__isnull=True)
        filed = cases.filter(created_at__gte=start, created_at__lt=end).aggregate(
            n=Count("id"), amount=Sum("compensation_amount")
        )
        still_open = (
            cases.filter(created_at__lt=end)
            .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end))
            .aggregate(n=Count("id"), amount=Sum("compensation_amount"))
        )
        steps = {
            row["to_status"]: row
            for row in TicketTransition.objects.filter(
                ticket__type=T.ARBITRATION, created_at__gte=start, created_at__lt=end
            )
            .values("to_status")
            .annotate(n=Count("ticket", distinct=True), amount=Sum("ticket__compensation_amount"))
            .order_by()
        }
        rows = [
            {
                "outcome": gettext("本月立案申请"),
                "count": filed["n"],
                "amount": money_cell(filed["amount"]),
            }
        ]
        for status in (St.ACCEPTED, St.DISMISSED, St.DECIDED, St.ENFORCED, St.CLOSED):
            row = steps.get(status, {"n": 0, "amount": None})
            rows.append(
                {
                    "outcome": str(St(status).label),
                    "count": row["n"],
                    "amount": money_cell(row["amount"]),
                }
            )
        rows.append(
            {
                "outcome": gettext("月末未结"),
                "count": still_open["n"],
                "amount": money_cell(still_open["amount"]),
            }
        )
        return Table(
            key="arbitration",
            title=gettext("仲裁结果"),
            columns=[
                Column("outcome", gettext("结果"), "text"),
                Column("count", gettext("件数"), "int"),
                Column("amount", gettext("涉及金额"), "money"),
            ],
            rows=rows,
        )


COMPLAINTS = ComplaintsSection()
