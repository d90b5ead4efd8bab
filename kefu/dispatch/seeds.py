"""Work orders for the demo company: the desk's open demo tickets send work to 维修部, 销售部 and
财务部 through the services, at the tickets' own (past) times, so that the monitor shows every
state: waiting to be accepted, accepted, completed, returned and re-dispatched, cancelled, and
overdue (announced once by the overdue check at the end). The large seed adds none."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from django.db import transaction
from django.utils import timezone

from kefu.core.seeding import SeedContext
from kefu.desk.models import Ticket, open_tickets_q
from kefu.dispatch.access import is_desk, sees_ticket
from kefu.dispatch.models import WorkOrder
from kefu.dispatch.services import (
    ticket_dispatch_refusal,
    workorder_dispatch,
    workorder_transition,
    workorders_overdue_notify,
)
from kefu.org.models import Department, User

DEMO_COUNT = 18
St = WorkOrder.Status

# ticket type → (department code, what the desk asks for)
_WORK: dict[str, tuple[str, tuple[str, ...]]] = {
    "repair": ("repair", ("请安排师傅上门检修，客户工作日 9–17 点在", "请寄修检测，附故障描述")),
    "complaint": ("repair", ("请核实上次维修记录并上门复检", "请出具维修质量说明")),
    "claim": ("finance", ("请核对赔付金额并安排付款", "请开具红字发票")),
    "order": ("sales", ("请与客户确认型号与交期并报价", "请核实库存并安排发货")),
    "inquiry": ("sales", ("请回电客户介绍延保方案", "请提供最新价格表")),
}
_RESULTS = ("已上门更换配件，试机正常", "已与客户确认，报价单已发送", "款项已于今日支付", "已寄出")
_RETURNS = ("客户地址不全，请补充", "不属于本部门业务，请转财务", "缺少购买凭证")
# scenario of the n-th order (cycled): what happens after the dispatch
_PLAN = ("open", "accepted", "completed", "overdue", "returned", "completed", "redispatched")


def _member(staff: dict[str, User], department: Department) -> User | None:
    for user in staff.values():
        if user.department_id == department.pk and user.is_active:
            return user
    return None


def _desk_actor(ticket: Ticket, desk: list[User]) -> User | None:
    """Who dispatches: the ticket's assignee, else the first of the desk who sees it."""
    for user in (ticket.assignee, *desk):
        if user is not None and is_desk(user) and sees_ticket(user, ticket):
            return user
    return None


@transaction.atomic
def _seed_demo(ctx: SeedContext) -> None:
    if WorkOrder.objects.exists():
        ctx.out("  work orders exist; demo work orders not added again")
        return
    rng = random.Random(ctx.seed * 7_919 + 11)  # noqa: S311 (demo data)
    now = timezone.now()
    staff: dict[str, User] = ctx.shared.get("staff") or {
        user.username: user for user in User.objects.all()
    }
    departments = {d.code: d for d in Department.objects.all()}
    tickets = [
        ticket
        for ticket in Ticket.objects.filter(open_tickets_q(), type__in=_WORK)
        .select_related("assignee")
        .order_by("-created_at")[: DEMO_COUNT * 3]
        if ticket_dispatch_refusal(ticket) is None
    ]
    desk = [staff[name] for name in ("agent", "agent2", "supervisor", "manager") if name in staff]
    kinds: Counter[str] = Counter()
    for index, ticket in enumerate(tickets[:DEMO_COUNT]):
        code, asks = _WORK[ticket.type]
        department = departments.get(code)
        actor = _desk_actor(ticket, desk)
        if department is None or actor is None:
            continue
        member = _member(staff, department)
        plan = _PLAN[index % len(_PLAN)]
        start = min(ticket.created_at + dt.timedelta(minutes=rng.randrange(20, 90)), now)
        deadline = None
        if plan == "overdue":  # a short deadline already past
            deadline = start + dt.timedelta(hours=rng.choice((2, 4, 6)))
            if deadline >= now:
                plan = "open"
                deadline = None
        order, _created = workorder_dispatch(
            actor=actor,
            ticket=ticket,
            department_id=department.pk,
            instructions=rng.choice(asks),
            deadline=deadline,
            now=start,
        )
        span = max((now - start).total_seconds(), 60.0)

        def at(fraction: float, start: dt.datetime = start, span: float = span) -> dt.datetime:
            return start + dt.timedelta(seconds=span * fraction)

        if member is not None and plan in ("accepted", "completed", "returned", "redispatched"):
            if plan in ("returned", "redispatched"):
                workorder_transition(
                    actor=member,
                    work_order=order,
                    to=St.RETURNED,
                    note=rng.choice(_RETURNS),
                    now=at(0.3),
                )
                if plan == "redispatched":
                    workorder_transition(
                        actor=actor,
                        work_order=order,
                        to=St.DISPATCHED,
                        note="已补充信息，请继续处理",
                        now=at(0.5),
                    )
            else:
                workorder_transition(actor=member, work_order=order, to=St.ACCEPTED, now=at(0.2))
                if plan == "completed":
                    workorder_transition(
                        actor=member,
                        work_order=order,
                        to=St.COMPLETED,
                        result=rng.choice(_RESULTS),
                        now=at(0.6),
                    )
        kinds[plan] += 1
    announced = workorders_overdue_notify(now=now)
    ctx.out(
        f"  {sum(kinds.values())} work orders ("
        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        + f"); {announced} overdue announced"
    )


def seed(ctx: SeedContext) -> None:
    if ctx.size == "large":
        return  # the benchmark volumes have no work orders (the demo's stay)
    _seed_demo(ctx)
