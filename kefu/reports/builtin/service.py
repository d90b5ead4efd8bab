"""The service section (服务质量, order 30): SLA attainment (response, resolution), the call
center's KPIs, the backlog and its ageing at the month end, the same by team and by agent,
and a daily series of answer rate and SLA attainment. Every number comes from the KPI layer
(kefu.analytics.kpis), which defines and computes each one in the database."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.analytics.kpis import KpiValue, Slice, backlog_ageing, kpi_breakdown, kpi_series, kpis
from kefu.reports.builtin.common import (
    CENT,
    TENTH,
    add_months,
    kpi_cell,
    kpi_figure,
    last_day,
    points_words,
)
from kefu.reports.sections import (
    Chart,
    Column,
    Figure,
    ReportContext,
    SectionResult,
    Table,
)

# (KPI key, label): the figures of the month, in the order shown
MONTH_KPIS: tuple[tuple[str, Promise], ...] = (
    ("sla_response", _("首次响应 SLA 达成率")),
    ("sla_resolution", _("解决 SLA 达成率")),
    ("answer_rate", _("接通率")),
    ("abandon_rate", _("放弃率（不含 5 秒内短弃）")),
    ("abandon_rate_raw", _("放弃率（原始）")),
    ("service_level", _("服务水平 80/20")),
    ("service_level_strict", _("服务水平 80/20（严格口径）")),
    ("asa", _("平均应答速度（秒）")),
    ("aht", _("平均处理时长（秒）")),
    ("fcr", _("首次解决率")),
    ("reopen_rate", _("重开率")),
    ("repeat_contact_rate", _("24 小时重复来电率")),
    ("repeat_contact_rate_72h", _("72 小时重复来电率")),
    ("cost_per_contact", _("单次接触成本")),
    ("backlog", _("月末积压工单")),
)
# the columns of the by-team and by-agent tables (answer and abandon rates are not among
# them: an abandoned call reached no agent, so it belongs to no team)
BREAKDOWN_KPIS: tuple[tuple[str, Promise, str], ...] = (
    ("sla_response", _("响应达成率"), "percent"),
    ("sla_resolution", _("解决达成率"), "percent"),
    ("asa", _("平均应答（秒）"), "decimal"),
    ("aht", _("平均处理（秒）"), "decimal"),
    ("fcr", _("首次解决率"), "percent"),
    ("reopen_rate", _("重开率"), "percent"),
    ("backlog", _("月末积压"), "int"),
)
SERIES_KPIS: tuple[tuple[str, Promise], ...] = (
    ("answer_rate", _("接通率")),
    ("sla_response", _("响应达成率")),
    ("sla_resolution", _("解决达成率")),
)
TARGET_SERVICE_LEVEL = 80


def _breakdown_table(slice_: Slice, by: str, key: str, title: str, label: str) -> Table:
    """One row per group (team or agent), one column per KPI, merged on the group key."""
    rows: dict[str, dict[str, Any]] = {}
    columns = [Column("group", label, "text")]
    for kpi_key, kpi_label, kind in BREAKDOWN_KPIS:
        values = kpi_breakdown(kpi_key, slice_, by)
        columns.append(Column(kpi_key, str(kpi_label), kind))
        for group, group_label, value in values:
            row = rows.setdefault(group, {"group": group_label})
            row[kpi_key] = kpi_cell(value)
    table_rows = [
        {column.key: row.get(column.key) for column in columns}
        for row in sorted(rows.values(), key=lambda row: str(row["group"]))
    ]
    return Table(key=key, title=title, columns=columns, rows=table_rows)


UNIT_WORDS: dict[str, Promise] = {
    "percent": _("%"),
    "seconds": _("秒"),
    "count": _("张"),
    "yuan": _("元"),
    "per_10k": _("‱"),
    "days": _("天"),
}


def _number(value: KpiValue) -> float | None:
    if value.value is None:
        return None
    places = CENT if value.unit in ("yuan", "per_10k") else TENTH
    return float(value.value.quantize(places, rounding=ROUND_HALF_UP))


def _comparison_row(label: str, value: KpiValue, before: KpiValue) -> dict[str, Any]:
    now, then = _number(value), _number(before)
    change = None
    if now is not None and then is not None:
        change = float((Decimal(str(now)) - Decimal(str(then))).quantize(CENT))
    return {
        "kpi": label,
        "unit": str(UNIT_WORDS.get(value.unit, "")),
        "value": now,
        "previous": then,
        "change": change,
    }


class ServiceSection:
    key = "service"
    title: Promise = _("服务质量")
    order = 30

    def build(self, ctx: ReportContext) -> SectionResult:
        month = Slice.month(ctx.month)
        keys = [key for key, _label in MONTH_KPIS]
        values = kpis(keys, month)
        before = kpis(keys, Slice.month(add_months(ctx.month, -1)))
        figures: list[Figure] = [
            kpi_figure(str(label), values[key]) for key, label in MONTH_KPIS if key in values
        ]

        # the month against the one before, KPI by KPI, as numbers (the unit in its column)
        comparison = Table(
            key="kpis",
            title=gettext("服务指标（本月与上月）"),
            columns=[
                Column("kpi", gettext("指标"), "text"),
                Column("unit", gettext("单位"), "text"),
                Column("value", gettext("本月"), "decimal"),
                Column("previous", gettext("上月"), "decimal"),
                Column("change", gettext("变化"), "decimal"),
            ],
            rows=[
                _comparison_row(str(label), values[key], before[key])
                for key, label in MONTH_KPIS
                if key in values and key in before
            ],
        )

        # backlog and its ageing at the month end
        ageing = backlog_ageing(ctx.end)
        ageing_table = Table(
            key="ageing",
            title=gettext("月末积压工单账龄"),
            columns=[
                Column("bucket", gettext("账龄"), "text"),
                Column("tickets", gettext("工单数"), "int"),
            ],
            rows=[{"bucket": label, "tickets": count} for _key, label, count in ageing],
        )

        tables = [
            comparison,
            ageing_table,
            _breakdown_table(month, "team", "by_team", gettext("按班组"), gettext("班组")),
            _breakdown_table(month, "agent", "by_agent", gettext("按坐席"), gettext("坐席")),
        ]

        # daily series
        series: list[dict[str, Any]] = []
        categories: list[str] = []
        for key, label in SERIES_KPIS:
            points = kpi_series(key, month, "day")
            if not categories:
                categories = [f"{day:%m-%d}" for day, _value in points]  # 10-01 … 10-31
            series.append({"name": str(label), "data": [kpi_cell(v) for _day, v in points]})
        charts = [
            Chart(
                key="daily",
                title=gettext("每日接通率与 SLA 达成率"),
                kind="line",
                categories=categories,
                series=series,
            ),
            Chart(
                key="ageing",
                title=gettext("月末积压工单账龄"),
                kind="bar",
                categories=[label for _key, label, _count in ageing],
                series=[{"name": gettext("工单数"), "data": [count for _k, _l, count in ageing]}],
            ),
        ]
        return SectionResult(
            key=self.key,
            title=str(self.title),
            figures=figures,
            tables=tables,
            charts=charts,
            notes=self._notes(values, before, ageing, ctx),
        )

    @staticmethod
    def _notes(
        values: dict[str, KpiValue],
        before: dict[str, KpiValue],
        ageing: list[tuple[str, str, int]],
        ctx: ReportContext,
    ) -> list[str]:
        notes = []
        names = (("sla_response", gettext("首次响应")), ("sla_resolution", gettext("解决")))
        for key, name in names:
            value = values.get(key)
            if value is None or value.value is None:
                continue
            change = points_words(
                kpi_cell(value), kpi_cell(before[key]) if key in before else None, gettext("百分点")
            )
            notes.append(
                gettext("%(name)s SLA 达成率 %(value)s") % {"name": name, "value": value.display()}
                + (gettext("，") + change if change else "")
                + gettext("。")
            )
        level = values.get("service_level")
        if level is not None and level.value is not None:
            if level.value < TARGET_SERVICE_LEVEL:
                notes.append(
                    gettext("服务水平 %(value)s，低于 80/20 目标。") % {"value": level.display()}
                )
            else:
                notes.append(
                    gettext("服务水平 %(value)s，达到 80/20 目标。") % {"value": level.display()}
                )
        asa, abandon = values.get("asa"), values.get("abandon_rate")
        if asa is not None and abandon is not None and asa.value is not None:
            notes.append(
                gettext("平均应答速度 %(asa)s（不含放弃来电，同期放弃率 %(abandon)s）。")
                % {"asa": asa.display(), "abandon": abandon.display()}
            )
        total = sum(count for _key, _label, count in ageing)
        old = sum(count for key, _label, count in ageing if key in ("7to30d", "gt30d"))
        end_day = last_day(ctx.month).isoformat()
        if total:
            notes.append(
                gettext("截至 %(day)s 日终积压工单 %(total)d 张，其中超过 7 天的 %(old)d 张。")
                % {"day": end_day, "total": total, "old": old}
            )
        else:
            notes.append(gettext("截至 %(day)s 日终没有积压工单。") % {"day": end_day})
        return notes


SERVICE = ServiceSection()
