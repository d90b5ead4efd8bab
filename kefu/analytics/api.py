"""/api/v1/kpis: KPI values over a date range, with filters, a breakdown and a series; and the
definitions. Permission analytics.view_kpis."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.analytics.kpis import (
    DEFINITIONS,
    DIMENSIONS,
    GRANULARITIES,
    KpiError,
    KpiValue,
    Slice,
    kpi,
    kpi_breakdown,
    kpi_series,
)
from kefu.api.auth import AuthedRequest
from kefu.api.schemas import ERRORS
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.org.models import Team, User

router = Router(tags=["kpis"])

MAX_DAYS = 731  # two years: a day series stays a few hundred points


class KpiQuery(Schema):
    keys: str = Field("", description="指标键，逗号分隔；缺省为全部指标")
    from_: str = Field("", alias="from", description="开始日期（含），YYYY-MM-DD，缺省为今天")
    to: str = Field("", description="结束日期（含），YYYY-MM-DD，缺省同开始日期")
    team: str = Field("", description="班组 ID")
    agent: str = Field("", description="坐席（员工）ID")
    channel: str = Field("", description="渠道：" + "、".join(Ticket.Channel.values))
    type: str = Field("", description="工单类型：" + "、".join(Ticket.Type.values))
    tier: str = Field("", description="客户等级：" + "、".join(Customer.Tier.values))
    by: str = Field("", description="分组：" + "、".join(DIMENSIONS) + "；给出时返回 breakdown")
    granularity: str = Field("", description="时间序列粒度：day、week、month；给出时返回 series")


class KpiValueOut(Schema):
    key: str
    label: str
    numerator: float | None
    denominator: float | None
    value: float | None = Field(description="null 表示 n/a（分母为 0 或不支持该筛选）")
    unit: str
    display: str


class KpiGroupOut(KpiValueOut):
    group: str = Field(description="分组键（班组/坐席 ID 或取值）；空串表示未指定")
    group_label: str


class KpiPointOut(KpiValueOut):
    date: dt.date = Field(description="该日、周（周一）或月（1 日）的第一天")


class KpisOut(Schema):
    from_: dt.date = Field(alias="from")
    to: dt.date
    filters: dict[str, Any]
    values: dict[str, KpiValueOut]
    breakdown: dict[str, list[KpiGroupOut]] | None = None
    series: dict[str, list[KpiPointOut]] | None = None


class KpiDefinitionOut(Schema):
    key: str
    label: str
    formula: str
    denominator: str
    unit: str
    slices: list[str] = Field(description="支持的筛选/分组维度；其他维度返回 n/a")
    counts: str = Field(description="计入什么、不计入什么、按哪个时间计入区间")
    params: dict[str, Any]
    source: str


def _invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, code="invalid", status=422, fields={field: [message]})


def _date(value: str, field: str, default: dt.date) -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _invalid(
            _("日期格式应为 YYYY-MM-DD：%(value)s") % {"value": value[:20]}, field
        ) from None


def _id(value: str, field: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise _invalid(_("%(field)s 必须是正整数 ID。") % {"field": field}, field)
    return int(value)


def _choice(value: str, field: str, choices: list[str] | tuple[str, ...]) -> str | None:
    if not value:
        return None
    if value not in choices:
        raise _invalid(
            _("%(field)s 的取值无效：%(value)s（可选：%(choices)s）")
            % {"field": field, "value": value[:30], "choices": "、".join(choices)},
            field,
        )
    return value


def _out(key: str, value: KpiValue) -> dict[str, Any]:
    return {**value.as_dict(), "label": str(DEFINITIONS[key].label)}


@router.get(
    "",
    response={200: KpisOut, **ERRORS},
    by_alias=True,
    summary="服务指标",
    description=(
        "区间 [from, to]（按 Asia/Shanghai 的自然日，含两端）内的指标值：分子、分母、值与显示文本。"
        "`by` 给出按班组/坐席/渠道/工单类型/客户等级的分组，"
        "`granularity` 给出按日/周/月的时间序列。"
        "指标不支持的筛选返回 n/a（value 为 null），不返回错误数字。参数错误 → 422。"
    ),
)
def kpis_get(request: AuthedRequest, filters: Query[KpiQuery]) -> dict[str, Any]:
    user: User = request.user
    if not user.has_perm("analytics.view_kpis"):
        raise Forbidden(_("您没有查看服务指标的权限。"))
    keys = [key.strip() for key in filters.keys.split(",") if key.strip()] or list(DEFINITIONS)
    unknown = [key for key in keys if key not in DEFINITIONS]
    if unknown:
        raise _invalid(_("未知的指标：%(keys)s") % {"keys": "、".join(unknown)[:200]}, "keys")
    today = timezone.localdate()
    start = _date(filters.from_, "from", today)
    end = _date(filters.to, "to", start)
    if end < start:
        raise _invalid(_("结束日期不能早于开始日期。"), "to")
    if (end - start).days >= MAX_DAYS:
        raise _invalid(_("区间最长 %(days)s 天。") % {"days": MAX_DAYS}, "to")
    team_id = _id(filters.team, "team")
    agent_id = _id(filters.agent, "agent")
    if team_id is not None and not Team.objects.filter(pk=team_id).exists():
        raise _invalid(_("班组不存在。"), "team")
    if agent_id is not None and not User.objects.filter(pk=agent_id).exists():
        raise _invalid(_("坐席不存在。"), "agent")
    by = _choice(filters.by, "by", DIMENSIONS)
    granularity = _choice(filters.granularity, "granularity", GRANULARITIES)
    try:
        s = Slice.day(
            start,
            team_id=team_id,
            agent_id=agent_id,
            channel=_choice(filters.channel, "channel", Ticket.Channel.values),
            ticket_type=_choice(filters.type, "type", Ticket.Type.values),
            tier=_choice(filters.tier, "tier", Customer.Tier.values),
        )
        s = Slice(s.start, Slice.day(end).end, **_slice_filters(s))
        answer: dict[str, Any] = {
            "from": start,
            "to": end,
            "filters": {
                "team": team_id,
                "agent": agent_id,
                "channel": s.channel,
                "type": s.ticket_type,
                "tier": s.tier,
            },
            "values": {key: _out(key, kpi(key, s)) for key in keys},
        }
        if by is not None:
            answer["breakdown"] = {
                key: [
                    {**_out(key, value), "group": group, "group_label": label}
                    for group, label, value in kpi_breakdown(key, s, by)
                ]
                for key in keys
            }
        if granularity is not None:
            answer["series"] = {
                key: [
                    {**_out(key, value), "date": day}
                    for day, value in kpi_series(key, s, granularity)
                ]
                for key in keys
            }
    except KpiError as exc:
        raise _invalid(str(exc), "__all__") from None
    return answer


def _slice_filters(s: Slice) -> dict[str, Any]:
    return {
        "team_id": s.team_id,
        "agent_id": s.agent_id,
        "channel": s.channel,
        "ticket_type": s.ticket_type,
        "tier": s.tier,
    }


@router.get(
    "/definitions",
    response={200: list[KpiDefinitionOut], **ERRORS},
    summary="指标定义",
    description="每个指标的名称、公式、分母、单位、支持的维度与计入规则。",
)
def kpi_definitions(request: AuthedRequest) -> list[dict[str, Any]]:
    user: User = request.user
    if not user.has_perm("analytics.view_kpis"):
        raise Forbidden(_("您没有查看服务指标的权限。"))
    return [definition.as_dict() for definition in DEFINITIONS.values()]
