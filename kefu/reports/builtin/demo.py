"""Demo data for the monthly report's sections, written after the desk's year of tickets
(``kefu seed --size demo``): the last complete month gets what a report should have to say.

- A complaint spike on one product: the KFR-35GW/BP3 wall-mounted air conditioner, linked
  through the customers' installed units or through the month's orders of it, with root causes,
  responsible departments, liability, compensation and, for most, a resolution; a few
  complaints on other products that month and the month before, so the comparison has a base.
- Repair tickets on the same units (the cost of serving those customers).
- A rejected claim appealed to arbitration and decided, enforced and closed in the month; a
  settled claim; a complaint escalated to arbitration and dismissed.
- The month's calls (the calls seeder covers only the last two weeks), so the call-center KPIs
  of the service section have a month to measure.
- A second sales rep, and owners for half the companies nobody owned, so the action lists
  group by rep.

Everything goes through the desk's services (numbers, SLA clocks, transitions, sign-offs and
the audit log are real), with a random generator of its own: the same --seed gives the same data.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from kefu.calls.models import Call
from kefu.core.seeding import SeedContext
from kefu.customers.models import Asset, Customer
from kefu.desk.models import Ticket, TicketTransition
from kefu.desk.services import (
    StepFields,
    TicketInput,
    comment_add,
    ticket_create,
    ticket_transition,
)
from kefu.orders.models import OrderLine
from kefu.org.models import Department, Membership, Team, User
from kefu.org.roles import ROLE_BY_CODE
from kefu.reports.builtin.common import add_months, last_day

SPIKE_PRODUCT = "KFR-35GW/BP3 挂式空调"
SPIKE_COUNT = 18
SPIKE_SUBJECTS = (
    "挂式空调维修后再次不制冷",
    "新装挂式空调室内机漏水",
    "挂式空调运行噪音大",
    "挂式空调频繁显示E1故障",
    "挂式空调遥控与面板失灵",
)
OTHER_SUBJECTS = ("安装师傅迟到三小时", "收费与报价不一致", "设备送货时外包装破损")
REPAIR_SUBJECT = "挂式空调不制冷需要上门"
STAFF = ("agent", "agent2", "supervisor", "manager", "gm", "finance", "quality", "sales")
SECOND_REP = ("sales2", "黄磊", "华南销售组")
St = Ticket.Status


class _Flow:
    """Tickets opened and moved through the services at given moments."""

    def __init__(self, staff: dict[str, User], departments: dict[str, int]) -> None:
        self.staff = staff
        self.departments = departments
        self.now = timezone.now()

    def actor_for(self, customer: Customer) -> User:
        team = customer.serving_team.name if customer.serving_team else ""
        if team == "客服一组":
            return self.staff["agent"]
        if team == "客服二组":
            return self.staff["agent2"]
        return self.staff["manager"]

    def open(
        self, kind: str, customer: Customer, subject: str, at: dt.datetime, **refs: Any
    ) -> Ticket:
        actor = self.actor_for(customer)
        ticket, _created = ticket_create(
            actor=actor,
            data=TicketInput(
                type=kind,
                channel=refs.pop("channel", "phone"),
                priority=refs.pop("priority", "normal"),
                subject=subject,
                body=f"客户来电反映：{subject}。",
                customer_id=customer.pk,
                assignee_id=actor.pk if actor.username.startswith("agent") else None,
                **refs,
            ),
            now=at,
        )
        return ticket

    def step(self, ticket: Ticket, to: str, who: str, at: dt.datetime, **fields: Any) -> Ticket:
        note = fields.pop("note", "")
        actor = self.agent_of(ticket) if who == "agent" else self.staff[who]
        return ticket_transition(
            actor=actor, ticket=ticket, to=to, note=note, step=StepFields(**fields), now=at
        )

    def agent_of(self, ticket: Ticket) -> User:
        assert ticket.customer is not None
        return self.actor_for(ticket.customer)

    def approve(self, ticket: Ticket, at: dt.datetime) -> Ticket:
        amount = ticket.compensation_amount or Decimal(0)
        signers = (
            ["supervisor"]
            if amount <= 2000
            else ["manager", "finance"]
            if amount <= 20000
            else ["gm"]
        )
        for name in signers:
            ticket = self.step(ticket, St.APPROVED, name, at, note="同意")
        return ticket

    def complaint(
        self,
        customer: Customer,
        subject: str,
        at: dt.datetime,
        *,
        refs: dict[str, Any],
        level: str,
        department: str,
        liability: str,
        root_cause: str,
        amount: int,
        close_after: float | None,
    ) -> Ticket:
        """Receive → acknowledge → assess → investigate; then, when ``close_after`` hours are
        given, propose → approve → respond → execute → follow up → close."""
        hour = dt.timedelta(hours=1)
        ticket = self.open("complaint", customer, subject, at, **refs)
        moment = at + 2 * hour
        comment_add(
            actor=self.agent_of(ticket),
            ticket=ticket,
            body="非常抱歉给您带来不便，我们已登记并会尽快调查。",
            public=True,
            now=moment,
        )
        ticket = self.step(ticket, St.ACKNOWLEDGED, "agent", moment)
        ticket = self.step(ticket, St.ASSESSED, "agent", moment + hour, complaint_level=level)
        ticket = self.step(
            ticket,
            St.INVESTIGATING,
            "supervisor",
            moment + 2 * hour,
            responsible_department_id=self.departments[department],
        )
        if close_after is None or at + dt.timedelta(hours=close_after) >= self.now:
            return ticket
        done = at + dt.timedelta(hours=close_after)
        proposed = at + dt.timedelta(hours=close_after * 0.5)
        ticket = self.step(
            ticket,
            St.PROPOSED,
            "agent",
            proposed,
            liability=liability,
            root_cause=root_cause,
            proposal="repair" if amount == 0 else "refund",
            compensation_amount=str(amount),
            note="调查完毕，提出处理方案",
        )
        ticket = self.approve(ticket, proposed + hour)
        ticket = self.step(ticket, St.RESPONDED, "agent", proposed + 2 * hour, note="已电话告知")
        ticket = self.step(ticket, St.EXECUTING, "agent", proposed + 3 * hour)
        ticket = self.step(ticket, St.FOLLOW_UP, "agent", done - hour)
        return self.step(ticket, St.CLOSED, "agent", done, recovery_outcome="回访客户表示满意")


def _days(rng: random.Random, month: dt.date, count: int, late: bool) -> list[dt.datetime]:
    """``count`` working-hour moments in ``month``, weighted to its second half when ``late``."""
    zone = timezone.get_current_timezone()
    end = last_day(month).day
    moments = []
    for _ in range(count):
        day = int(end * (rng.random() ** 0.6 if late else rng.random())) + 1
        day = min(max(day, 1), end - 3)
        moments.append(
            dt.datetime.combine(
                month.replace(day=day),
                dt.time(rng.randrange(9, 17), rng.randrange(60)),
                tzinfo=zone,
            )
        )
    return sorted(moments)


def _second_rep(ctx: SeedContext, rng: random.Random, staff: dict[str, User]) -> int:
    """黄磊 of 华南销售组, and owners for half of the companies without one."""
    username, display, team_name = SECOND_REP
    rep = User.objects.filter(username=username).first()
    if rep is None:
        from kefu.org.seeds import DEMO_PASSWORD

        rep = User(username=username, display_name=display, department=staff["sales"].department)
        rep.set_password(DEMO_PASSWORD)
        rep.save()
        rep.groups.add(Group.objects.get(name=ROLE_BY_CODE["sales"].name))
        team = Team.objects.filter(name=team_name).first()
        if team is not None:
            Membership.objects.get_or_create(user=rep, team=team)
    unowned = list(
        Customer.objects.filter(kind=Customer.Kind.COMPANY, owner__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    mine = [pk for pk in unowned if rng.random() < 0.5]
    first, second = mine[::2], mine[1::2]
    Customer.objects.filter(pk__in=first).update(owner=staff["sales"])
    Customer.objects.filter(pk__in=second).update(owner=rep)
    return len(mine)


def _calls(rng: random.Random, month: dt.date, staff: dict[str, User]) -> int:
    """About 25 calls a working day of ``month``: 88 % answered, waits of 3–90 s."""
    zone = timezone.get_current_timezone()
    customers = list(
        Customer.objects.exclude(mobile="").order_by("id").values_list("id", "mobile")[:300]
    )
    agents = [staff["agent"], staff["agent2"], staff["supervisor"]]
    calls = []
    day = month
    while day <= last_day(month):
        if day.weekday() < 5:
            for index in range(rng.randint(18, 32)):
                offered = dt.datetime.combine(day, dt.time(9, 0), tzinfo=zone) + dt.timedelta(
                    seconds=rng.randint(0, 9 * 3600)
                )
                customer_id, number = (
                    rng.choice(customers)
                    if customers and rng.random() < 0.85
                    else (None, f"+86139{rng.randint(0, 10**8 - 1):08d}")
                )
                wait = Decimal(rng.choice((3, 5, 8, 12, 15, 18, 25, 40, 60, 90)))
                abandoned = rng.random() < 0.12
                talk = None if abandoned else Decimal(rng.randint(40, 600))
                calls.append(
                    Call(
                        call_id=f"RPT-{day:%Y%m%d}-{index:03d}",
                        caller=number,
                        called="4008001234",
                        queue=rng.choice(("售后", "咨询", "投诉")),
                        agent=None if abandoned else rng.choice(agents),
                        customer_id=customer_id,
                        status=Call.Status.ENDED,
                        offered_at=offered,
                        ringing_at=offered + dt.timedelta(seconds=min(5, float(wait))),
                        answered_at=None
                        if abandoned
                        else offered + dt.timedelta(seconds=float(wait)),
                        ended_at=offered + dt.timedelta(seconds=float(wait + (talk or 0))),
                        wait_seconds=wait,
                        talk_seconds=talk,
                        outcome=Call.Outcome.ABANDONED if abandoned else Call.Outcome.ANSWERED,
                    )
                )
        day += dt.timedelta(days=1)
    Call.objects.bulk_create(calls, ignore_conflicts=True)
    return len(calls)


def _spike_targets(rng: random.Random, month: dt.date) -> list[tuple[Customer, dict[str, Any]]]:
    """(customer, the asset or order the complaint is about): owners of the air conditioner
    first, then the month's orders whose first line is one."""
    assets = list(
        Asset.objects.filter(product_model=SPIKE_PRODUCT)
        .select_related("customer__serving_team")
        .order_by("pk")
    )
    rng.shuffle(assets)
    targets: list[tuple[Customer, dict[str, Any]]] = []
    seen: set[int] = set()
    for asset in assets:
        if asset.customer_id in seen or len(targets) >= SPIKE_COUNT * 2 // 3:
            continue
        seen.add(asset.customer_id)
        targets.append((asset.customer, {"asset_id": asset.pk}))
    lines = list(
        OrderLine.objects.filter(
            line_no=1,
            product=SPIKE_PRODUCT,
            order__date__gte=add_months(month, -2),
            order__date__lte=last_day(month),
        )
        .select_related("order__customer__serving_team")
        .order_by("order_id")
    )
    rng.shuffle(lines)
    for line in lines:
        if len(targets) >= SPIKE_COUNT:
            break
        targets.append((line.order.customer, {"order_id": line.order_id}))
    return targets


def _arbitration_of(ticket: Ticket, at: dt.datetime) -> Ticket:
    """The arbitration case the services opened (stamped with the real time) moved back to
    the moment of the appeal it belongs to."""
    case = Ticket.objects.filter(parent=ticket, type=Ticket.Type.ARBITRATION).latest("pk")
    Ticket.objects.filter(pk=case.pk).update(created_at=at)
    TicketTransition.objects.filter(ticket=case, from_status="").update(created_at=at)
    case.refresh_from_db()
    return case


@transaction.atomic
def seed(ctx: SeedContext) -> None:
    if ctx.size != "demo":
        return
    staff = {user.username: user for user in User.objects.filter(username__in=STAFF)}
    if len(staff) < len(STAFF) or not Customer.objects.exists():
        ctx.out("  no demo staff or customers: no report data")
        return
    if Ticket.objects.filter(subject__in=SPIKE_SUBJECTS).exists():
        ctx.out("  report data exists; not added again")
        return
    rng = random.Random(ctx.seed * 7_907 + 20)  # noqa: S311 (demo data)
    today = timezone.localdate()
    month = add_months(today.replace(day=1), -1)
    before = add_months(month, -1)
    departments = dict(Department.objects.values_list("code", "id"))
    flow = _Flow(staff, departments)
    owners = _second_rep(ctx, rng, staff)
    calls = _calls(rng, month, staff)

    # 1. the spike: the air conditioner's complaints, most resolved, some still investigated
    targets = _spike_targets(rng, month)
    causes = (("product", "quality"), ("product", "quality"), ("installation", "repair"))
    escalated: Ticket | None = None
    for index, ((customer, refs), at) in enumerate(
        zip(targets, _days(rng, month, len(targets), late=True), strict=True)
    ):
        root_cause, department = rng.choice(causes)
        if index % 9 == 4:
            root_cause, department = "service", "service"
        ticket = flow.complaint(
            customer,
            rng.choice(SPIKE_SUBJECTS),
            at,
            refs=refs,
            level="serious" if index % 5 == 0 else "general",
            department=department,
            liability=rng.choice(("ours", "ours", "ours", "supplier", "customer")),
            root_cause=root_cause,
            amount=rng.choice((0, 200, 500, 800, 1500, 3000)),
            close_after=None if index % 3 == 2 else rng.uniform(20, 140),
        )
        if escalated is None and ticket.status == St.INVESTIGATING and index > 3:
            escalated = ticket
    # repairs on the same units
    for (customer, refs), at in zip(targets[:8], _days(rng, month, 8, late=True), strict=False):
        ticket = flow.open("repair", customer, REPAIR_SUBJECT, at, **refs)
        moment = at + dt.timedelta(hours=rng.uniform(1, 4))
        done = moment + dt.timedelta(hours=rng.uniform(20, 60))
        if done + dt.timedelta(days=2) >= flow.now:
            continue
        ticket = flow.step(ticket, St.IN_PROGRESS, "agent", moment)
        ticket = flow.step(ticket, St.RESOLVED, "agent", done, note="更换电容后恢复制冷")
        flow.step(ticket, St.CLOSED, "agent", done + dt.timedelta(days=2))

    # 2. a few complaints on other products, this month and the month before
    units = list(
        Asset.objects.exclude(product_model=SPIKE_PRODUCT)
        .select_related("customer__serving_team")
        .order_by("pk")[:80]
    )
    others = [unit.customer for unit in units]
    for which, count in ((before, 5), (month, 3)):
        for at in _days(rng, which, count, late=False):
            subject, refs = "客服电话长时间无人接听", {}
            customer = rng.choice(others)
            if units and rng.random() < 0.8:
                unit = rng.choice(units)
                customer, refs = unit.customer, {"asset_id": unit.pk}
                subject = rng.choice(OTHER_SUBJECTS)
            flow.complaint(
                customer,
                subject,
                at,
                refs=refs,
                level="general",
                department=rng.choice(("service", "repair", "quality")),
                liability=rng.choice(("ours", "carrier", "none")),
                root_cause=rng.choice(("service", "delivery", "billing")),
                amount=rng.choice((0, 200)),
                close_after=rng.uniform(10, 80),
            )

    # 3. claims and arbitration decided in the month
    claimants = [customer for customer, _refs in targets] or others
    first, second = claimants[0], claimants[-1]
    zone = timezone.get_current_timezone()
    opened = [
        dt.datetime.combine(month.replace(day=day), dt.time(10, 0), tzinfo=zone)
        for day in (3, 8, 12)
    ]
    hour = dt.timedelta(hours=1)
    claim = flow.open("claim", first, "空调外机运输途中损坏索赔", opened[0], channel="email")
    claim = flow.step(claim, St.DOCS_REVIEW, "agent", opened[0] + hour)
    claim = flow.step(claim, St.INVESTIGATING, "agent", opened[0] + 2 * hour)
    claim = flow.step(
        claim, St.LIABILITY_DETERMINED, "quality", opened[0] + 26 * hour, liability="customer"
    )
    claim = flow.step(
        claim, St.REJECTED, "quality", opened[0] + 27 * hour, note="安装环境不符合要求，不予赔偿"
    )
    appeal = opened[0] + 50 * hour
    claim = flow.step(claim, St.ARBITRATION, "agent", appeal, note="客户不服拒赔决定，申请仲裁")
    case = _arbitration_of(claim, appeal)
    case = flow.step(case, St.ACCEPTED, "manager", appeal + 20 * hour)
    case = flow.step(case, St.EVIDENCE, "manager", appeal + 21 * hour)
    decided = appeal + 96 * hour
    for name in ("manager", "quality", "finance"):
        case = flow.step(case, St.DECIDED, name, decided, note="裁决：双方各承担一半维修费用")
    case = flow.step(case, St.ENFORCED, "manager", decided + 24 * hour)
    flow.step(case, St.CLOSED, "manager", decided + 48 * hour)

    settled = flow.open("claim", second, "二百台空调外包装破损索赔", opened[1], channel="email")
    settled = flow.step(settled, St.DOCS_REVIEW, "agent", opened[1] + hour)
    settled = flow.step(settled, St.INVESTIGATING, "agent", opened[1] + 2 * hour)
    settled = flow.step(
        settled, St.LIABILITY_DETERMINED, "quality", opened[1] + 24 * hour, liability="supplier"
    )
    settled = flow.step(
        settled,
        St.PROPOSED,
        "agent",
        opened[1] + 25 * hour,
        proposal="credit_note",
        compensation_amount="6800",
    )
    settled = flow.approve(settled, opened[1] + 30 * hour)
    settled = flow.step(settled, St.CONFIRMED, "agent", opened[1] + 48 * hour)
    settled = flow.step(settled, St.SETTLING, "finance", opened[1] + 72 * hour)
    flow.step(settled, St.CLOSED, "finance", opened[1] + 96 * hour)

    moment = max(escalated.created_at + 30 * hour, opened[2]) if escalated else flow.now
    if escalated is not None and moment + 28 * hour < flow.now:
        # the customer rejects the proposal; the arbitration case is dismissed
        escalated = flow.step(
            escalated,
            St.PROPOSED,
            "agent",
            moment,
            liability="none",
            root_cause="product",
            proposal="apology",
            compensation_amount="0",
        )
        escalated = flow.approve(escalated, moment + hour)
        escalated = flow.step(
            escalated, St.RESPONDED, "agent", moment + 2 * hour, note="已电话告知处理方案"
        )
        escalated = flow.step(
            escalated, St.ESCALATED, "agent", moment + 3 * hour, note="客户不接受方案"
        )
        escalated = flow.step(
            escalated, St.ARBITRATION, "manager", moment + 4 * hour, note="责任有争议，转仲裁"
        )
        case = _arbitration_of(escalated, moment + 4 * hour)
        flow.step(case, St.DISMISSED, "manager", moment + 28 * hour, note="证据不足，不予受理")
    ctx.out(
        f"  report: {len(targets)} complaints on {SPIKE_PRODUCT} in {month:%Y-%m}, "
        f"{calls} calls, owners for {owners} companies"
    )
