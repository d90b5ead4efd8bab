"""Tickets for the demo company and the benchmark.

Demo: a year of tickets opened and worked through the services (so numbers, SLA, transitions,
sign-offs, notifications and the audit log are all real): inquiries, repairs, orders and
suggestions resolved and closed, a few cancelled or reopened, some waiting on the customer;
complaints through assessment, investigation, approval by amount, escalation and follow-up;
claims through liability, approval and settlement with recovery against the supplier; an
arbitration. The last days' tickets are still open, some of them at risk or breached.

Large (``--size large``): 1,000,000 tickets written in bulk (COPY on PostgreSQL, executemany
on SQLite, kefu.core.seeding.fast_insert) with their search grams and the day counters, spread
over two years; the last three days' tickets are open with real due times, older ones closed.
Closed tickets get due times from the targets on a 7x24 clock (no business-hours walk per row:
they only have to look plausible).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kefu.core.seeding import SeedContext, fast_insert
from kefu.customers.models import Customer
from kefu.desk import sla
from kefu.desk.escalation import tickets_sla_check
from kefu.desk.models import Ticket, TicketCounter, TicketSearchGram, open_tickets_q
from kefu.desk.services import (
    StepFields,
    TicketInput,
    comment_add,
    subject_grams,
    ticket_create,
    ticket_transition,
)
from kefu.org.models import User
from kefu.sla.engine import ticket_targets

DEMO_COUNT = 360
LARGE_COUNT = 1_000_000
LARGE_CHUNK = 20_000

SUBJECTS: dict[str, tuple[str, ...]] = {
    "inquiry": (
        "咨询空调保修政策",
        "询问净水器滤芯更换周期",
        "咨询延保服务价格",
        "询问发票开具进度",
        "咨询冷水机节能改造方案",
        "询问订单发货时间",
    ),
    "repair": (
        "空调不制冷需要上门",
        "净水器漏水",
        "空调外机噪音大",
        "冷却塔风机异响",
        "空压机压力不稳",
        "多联机显示故障代码",
    ),
    "order": ("追加采购滤芯套装", "订购挂式空调两台", "续订延保服务", "补订冷媒三瓶"),
    "suggestion": ("建议增加周末上门时段", "建议短信提前通知师傅到达时间", "建议简化报修流程"),
    "complaint": (
        "安装师傅迟到三小时",
        "维修后一周再次故障",
        "送货时外包装破损",
        "客服电话长时间无人接听",
        "收费与报价不一致",
    ),
    "claim": (
        "二百台空调外包装破损索赔",
        "滤芯批次质量问题索赔",
        "运输途中设备损坏索赔",
        "安装不当造成墙面损坏赔偿",
    ),
}
_TYPE_WEIGHTS = (
    ("inquiry", 34),
    ("repair", 22),
    ("order", 11),
    ("suggestion", 5),
    ("complaint", 16),
    ("claim", 12),
)
_CHANNEL_WEIGHTS = (
    ("phone", 50),
    ("web", 14),
    ("email", 12),
    ("wechat", 14),
    ("sms", 2),
    ("walkin", 4),
    ("visit", 4),
)
_PRIORITY_WEIGHTS = (("low", 15), ("normal", 60), ("high", 20), ("urgent", 5))
St = Ticket.Status


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    values = [value for value, _weight in weighted]
    weights = [weight for _value, weight in weighted]
    return str(rng.choices(values, weights=weights)[0])


# --- demo ----------------------------------------------------------------------------------------


class _Demo:
    def __init__(self, ctx: SeedContext) -> None:
        self.rng = random.Random(ctx.seed * 104_729 + 4)  # noqa: S311 (demo data)
        staff: dict[str, User] = ctx.shared.get("staff") or {
            user.username: user for user in User.objects.all()
        }
        self.staff = staff
        self.now = timezone.now()

    def person(self, name: str) -> User:
        return self.staff[name]

    def actor_for(self, customer: Customer) -> User:
        """An agent of the customer's team, else someone whose scope includes it."""
        team = customer.serving_team.name if customer.serving_team else ""
        if team == "客服一组":
            return self.person("agent")
        if team == "客服二组":
            return self.person("agent2")
        return self.person("manager")

    def step(
        self, ticket: Ticket, to: str, actor: User | None, at: dt.datetime, **fields: Any
    ) -> Ticket:
        note = fields.pop("note", "")
        return ticket_transition(
            actor=actor, ticket=ticket, to=to, note=note, step=StepFields(**fields), now=at
        )

    def reply(self, ticket: Ticket, actor: User, at: dt.datetime, body: str) -> None:
        comment_add(actor=actor, ticket=ticket, body=body, public=True, now=at)

    def later(self, at: dt.datetime, low: float, high: float) -> dt.datetime | None:
        """A moment ``low``–``high`` hours after ``at``; None if that is still to come."""
        moment = at + dt.timedelta(hours=self.rng.uniform(low, high))
        return moment if moment < self.now else None


def _created_at(rng: random.Random, now: dt.datetime) -> dt.datetime:
    """Working hours on a day of the past year, more of them recently."""
    days = int(365 * rng.random() ** 1.3)
    day = timezone.localtime(now).date() - dt.timedelta(days=days)
    at = dt.datetime.combine(
        day,
        dt.time(rng.randrange(8, 20), rng.randrange(60)),
        tzinfo=timezone.get_current_timezone(),
    )
    return min(at, now - dt.timedelta(minutes=rng.randrange(5, 120)))


def _work_generic(demo: _Demo, ticket: Ticket, agent: User) -> None:
    rng, at = demo.rng, ticket.created_at
    first = demo.later(at, 0.1, 3)
    if first is None:
        return
    demo.reply(ticket, agent, first, "您好，您的问题已受理，我们正在处理。")
    ticket = demo.step(ticket, St.IN_PROGRESS, agent, first)
    if rng.random() < 0.04:
        demo.step(ticket, St.CANCELLED, demo.person("supervisor"), first, note="重复工单")
        return
    if rng.random() < 0.15:
        paused = demo.later(first, 0.5, 4)
        if paused is None:
            return
        ticket = demo.step(ticket, St.PENDING_CUSTOMER, agent, paused, note="请客户补充照片和型号")
        back = demo.later(paused, 2, 40)
        if back is None:
            return
        ticket = demo.step(ticket, St.IN_PROGRESS, agent, back)
        first = back
    done = demo.later(first, 1, 60)
    if done is None:
        return
    ticket = demo.step(ticket, St.RESOLVED, agent, done, note="已处理完毕，客户确认可以正常使用")
    if rng.random() < 0.06:
        again = demo.later(done, 20, 100)
        if again is None:
            return
        ticket = demo.step(ticket, St.REOPENED, agent, again, note="客户反映问题再次出现")
        ticket = demo.step(ticket, St.IN_PROGRESS, agent, again)
        done = demo.later(again, 2, 30)
        if done is None:
            return
        ticket = demo.step(ticket, St.RESOLVED, agent, done, note="更换配件后恢复正常")
    closed = demo.later(done, 24, 80)
    if closed is not None:
        demo.step(ticket, St.CLOSED, None, closed)


def _approve(demo: _Demo, ticket: Ticket, at: dt.datetime) -> Ticket:
    amount = ticket.compensation_amount or Decimal(0)
    if amount <= 2000:
        signers = ["supervisor"]
    elif amount <= 20000:
        signers = ["manager", "finance"]
    else:
        signers = ["gm"]
    for name in signers:
        ticket = demo.step(ticket, St.APPROVED, demo.person(name), at, note="同意")
    return ticket


def _work_complaint(demo: _Demo, ticket: Ticket, agent: User, departments: list[int]) -> None:
    rng, at = demo.rng, ticket.created_at
    moment = demo.later(at, 0.2, 20)
    if moment is None:
        return
    demo.reply(ticket, agent, moment, "非常抱歉给您带来不便，我们已登记并会尽快调查。")
    ticket = demo.step(ticket, St.ACKNOWLEDGED, agent, moment)
    level = _pick(rng, (("general", 70), ("serious", 25), ("major", 5)))
    moment = demo.later(moment, 0.5, 8)
    if moment is None:
        return
    ticket = demo.step(ticket, St.ASSESSED, agent, moment, complaint_level=level)
    moment = demo.later(moment, 1, 24)
    if moment is None:
        return
    supervisor = demo.person("supervisor")
    ticket = demo.step(
        ticket,
        St.INVESTIGATING,
        supervisor,
        moment,
        responsible_department_id=rng.choice(departments),
    )
    moment = demo.later(moment, 4, 60)
    if moment is None:
        return
    amount = rng.choice(("0", "200", "500", "1500", "3000", "8000", "15000", "30000"))
    ticket = demo.step(
        ticket,
        St.PROPOSED,
        agent,
        moment,
        liability=_pick(
            rng, (("ours", 50), ("supplier", 20), ("carrier", 15), ("customer", 10), ("none", 5))
        ),
        root_cause=rng.choice(Ticket.RootCause.values),
        proposal=rng.choice(("apology", "refund", "repair", "deduction")),
        compensation_amount=amount,
        note="调查完毕，提出处理方案",
    )
    moment = demo.later(moment, 1, 24)
    if moment is None:
        return
    ticket = _approve(demo, ticket, moment)
    ticket = demo.step(ticket, St.RESPONDED, agent, moment, note="已电话告知客户处理方案")
    moment = demo.later(moment, 2, 48)
    if moment is None:
        return
    if rng.random() < 0.2:  # the customer rejects: one level up, then back to investigation
        ticket = demo.step(ticket, St.ESCALATED, agent, moment, note="客户不接受方案")
        if rng.random() < 0.1:
            demo.step(ticket, St.ARBITRATION, demo.person("manager"), moment, note="责任有争议")
            return
        ticket = demo.step(ticket, St.INVESTIGATING, supervisor, moment)
        ticket = demo.step(ticket, St.PROPOSED, agent, moment, note="提高补偿")
        ticket = _approve(demo, ticket, moment)
        ticket = demo.step(ticket, St.RESPONDED, agent, moment, note="客户接受新方案")
    ticket = demo.step(ticket, St.EXECUTING, agent, moment)
    moment = demo.later(moment, 24, 72)
    if moment is None:
        return
    ticket = demo.step(ticket, St.FOLLOW_UP, agent, moment)
    demo.step(ticket, St.CLOSED, agent, moment, recovery_outcome="回访客户表示满意")


def _work_claim(demo: _Demo, ticket: Ticket, agent: User) -> None:
    rng = demo.rng
    moment = demo.later(ticket.created_at, 0.2, 12)
    if moment is None:
        return
    ticket = demo.step(ticket, St.DOCS_REVIEW, agent, moment)
    ticket = demo.step(ticket, St.INVESTIGATING, agent, moment)
    moment = demo.later(moment, 4, 72)
    if moment is None:
        return
    liability = _pick(rng, (("supplier", 40), ("carrier", 30), ("ours", 20), ("customer", 10)))
    ticket = demo.step(
        ticket, St.LIABILITY_DETERMINED, demo.person("quality"), moment, liability=liability
    )
    if liability == "customer":
        demo.step(ticket, St.REJECTED, demo.person("quality"), moment, note="人为损坏，不予赔偿")
        return
    ticket = demo.step(
        ticket,
        St.PROPOSED,
        agent,
        moment,
        proposal=rng.choice(("credit_note", "replacement", "refund", "deduction")),
        compensation_amount=rng.choice(("800", "1800", "5000", "15000", "26000")),
    )
    moment = demo.later(moment, 2, 48)
    if moment is None:
        return
    ticket = _approve(demo, ticket, moment)
    ticket = demo.step(ticket, St.CONFIRMED, agent, moment)
    moment = demo.later(moment, 24, 120)
    if moment is None:
        return
    finance = demo.person("finance")
    ticket = demo.step(ticket, St.SETTLING, finance, moment)
    demo.step(ticket, St.CLOSED, finance, moment)


@transaction.atomic  # one commit for the whole year: the services nest in savepoints
def _seed_demo(ctx: SeedContext) -> None:
    if Ticket.objects.exists():
        ctx.out("  tickets exist; demo tickets not added again")
        return
    demo = _Demo(ctx)
    ids = ctx.shared.get("demo_customer_ids")
    customers = list(Customer.objects.filter(pk__in=ids) if ids else Customer.objects.all()[:500])
    if not customers or "manager" not in demo.staff:
        ctx.out("  no customers or staff: no demo tickets")
        return
    from kefu.org.models import Department

    departments = list(Department.objects.values_list("id", flat=True))
    rng = demo.rng
    plans = sorted(
        (_created_at(rng, demo.now), rng.choice(customers), _pick(rng, _TYPE_WEIGHTS))
        for _ in range(DEMO_COUNT)
    )
    kinds: Counter[str] = Counter()
    for created, customer, ticket_type in plans:
        actor = demo.actor_for(customer)
        ticket, _created = ticket_create(
            actor=actor,
            data=TicketInput(
                type=ticket_type,
                channel=_pick(rng, _CHANNEL_WEIGHTS),
                priority=_pick(rng, _PRIORITY_WEIGHTS),
                subject=rng.choice(SUBJECTS[ticket_type]),
                body="客户来电反映：" + rng.choice(SUBJECTS[ticket_type]) + "。",
                customer_id=customer.pk,
                assignee_id=actor.pk if actor.username.startswith("agent") else None,
            ),
            now=created,
        )
        if ticket_type == "complaint":
            _work_complaint(demo, ticket, actor, departments)
        elif ticket_type == "claim":
            _work_claim(demo, ticket, actor)
        else:
            _work_generic(demo, ticket, actor)
        kinds[ticket_type] += 1
    fired = tickets_sla_check()
    ctx.out(
        f"  {sum(kinds.values())} tickets ("
        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        + f"); SLA check: {sum(fired.values())} warnings/breaches"
    )


# --- large ---------------------------------------------------------------------------------------


def _large_rows(
    rng: random.Random,
    customer_ids: list[int],
    customer_team: dict[int, int | None],
    start: dt.date,
    days: int,
    counters: Counter[str],
) -> Iterator[tuple[dict[str, Any], str]]:
    """Row dicts for fast_insert. Closed tickets (all but the last three days') take due times
    from the targets on a 7x24 clock and skip the model entirely: a model instance per row
    would cost more than the write."""
    zone = timezone.get_current_timezone()
    now = timezone.now()
    open_since = now - dt.timedelta(days=3)
    adapt = connection.ops.adapt_datetimefield_value
    targets_cache: dict[tuple[str, str], Any] = {}
    types = [t for t, _w in _TYPE_WEIGHTS]
    type_weights = [w for _t, w in _TYPE_WEIGHTS]
    channels = [c for c, _w in _CHANNEL_WEIGHTS]
    channel_weights = [w for _c, w in _CHANNEL_WEIGHTS]
    priorities = [p for p, _w in _PRIORITY_WEIGHTS]
    priority_weights = [w for _p, w in _PRIORITY_WEIGHTS]
    hour, day_length = dt.timedelta(hours=1), dt.timedelta(hours=20)
    three_days = dt.timedelta(days=3)
    for _ in range(LARGE_COUNT):
        offset = min(int(days * rng.random() ** 0.8), days - 1)  # more tickets recently
        day = start + dt.timedelta(days=offset)
        created = dt.datetime.combine(
            day, dt.time(rng.randrange(8, 20), rng.randrange(60), rng.randrange(60)), tzinfo=zone
        )
        if created > now:
            created = now - dt.timedelta(minutes=rng.randrange(1, 600))
            day = timezone.localtime(created).date()
        ticket_type = rng.choices(types, weights=type_weights)[0]
        priority = rng.choices(priorities, weights=priority_weights)[0]
        key = f"{day:%Y%m%d}"
        counters[key] += 1
        subject = rng.choice(SUBJECTS[ticket_type])
        customer_id = rng.choice(customer_ids)
        row: dict[str, Any] = {
            "number": f"GD{key}-{counters[key]:06d}",
            "type": ticket_type,
            "channel": rng.choices(channels, weights=channel_weights)[0],
            "priority": priority,
            "subject": subject,
            "customer_id": customer_id,
            # as ticket_create does without a routing rule: the customer's serving team
            "team_id": customer_team[customer_id],
            "customer_team_id": customer_team[customer_id],
            "created_at": adapt(created),
            "updated_at": adapt(created),
        }
        if created >= open_since:
            ticket = Ticket(type=ticket_type, priority=priority, created_at=created, tier="")
            ticket.status = (
                St.REGISTERED
                if ticket_type == "complaint"
                else St.SUBMITTED
                if ticket_type == "claim"
                else rng.choice((St.NEW, St.IN_PROGRESS, St.IN_PROGRESS))
            )
            sla.sla_compute(ticket)
            row["status"] = ticket.status
            for name in (*sla.RESPONSE_POINTS, *sla.RESOLUTION_POINTS, "sla_next_check_at"):
                row[name] = adapt(getattr(ticket, name))
        else:
            targets = targets_cache.get((ticket_type, priority))
            if targets is None:
                targets = ticket_targets(ticket_type=ticket_type, priority=priority)
                targets_cache[(ticket_type, priority)] = targets
            row["status"] = St.CLOSED
            row["first_response_due"] = adapt(created + targets.response)
            row["resolution_due"] = adapt(created + targets.resolution)
            row["first_responded_at"] = adapt(created + hour)
            row["resolved_at"] = adapt(created + day_length)
            row["closed_at"] = adapt(created + three_days)
        yield row, subject


def _seed_large(ctx: SeedContext) -> None:
    customer_ids = ctx.shared.get("large_customer_ids") or list(
        Customer.objects.values_list("id", flat=True)[:200_000]
    )
    if not customer_ids:
        ctx.out("  no customers for large tickets")
        return
    rng = random.Random(ctx.seed * 31 + 5)  # noqa: S311 (demo data)
    customer_team: dict[int, int | None] = dict(
        Customer.objects.values_list("id", "serving_team_id")
    )
    today = timezone.localdate()
    days = 730
    start = today - dt.timedelta(days=days - 1)
    counters: Counter[str] = Counter(
        {f"{row.day:%Y%m%d}": row.last for row in TicketCounter.objects.filter(day__gte=start)}
    )
    grams_of = {subject: sorted(subject_grams(subject)) for s in SUBJECTS.values() for subject in s}
    sqlite_fast = connection.vendor == "sqlite" and not connection.in_atomic_block
    if sqlite_fast:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
    written = 0
    try:
        with transaction.atomic():
            # SQLite maintains the ticket table's 30-odd secondary indexes row by row; building
            # them once after the bulk insert is about twice as quick. Inside the transaction:
            # a failed seed rolls the dropped indexes back with the rows.
            rebuild = _drop_indexes(("desk_ticket", "desk_ticketsearchgram")) if sqlite_fast else []
            rows: list[dict[str, Any]] = []
            subjects: list[str] = []
            for row, subject in _large_rows(
                rng, customer_ids, customer_team, start, days, counters
            ):
                rows.append(row)
                subjects.append(subject)
                if len(rows) >= LARGE_CHUNK:
                    written += _write(rows, subjects, grams_of)
                    rows, subjects = [], []
            written += _write(rows, subjects, grams_of)
            existing = set(TicketCounter.objects.values_list("day", flat=True))
            for key, last in counters.items():
                day = dt.datetime.strptime(key, "%Y%m%d").date()  # noqa: DTZ007 (a date)
                if day in existing:
                    TicketCounter.objects.filter(day=day).update(last=last)
                else:
                    TicketCounter.objects.create(day=day, last=last)
            with connection.cursor() as cursor:
                for statement in rebuild:
                    cursor.execute(statement)
    finally:
        if sqlite_fast:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
    still_open = Ticket.objects.filter(open_tickets_q()).count()
    ctx.out(f"  {written} tickets (large), {still_open} open")


def _drop_indexes(tables: tuple[str, ...]) -> list[str]:
    """Drop the tables' explicit indexes (SQLite); return the statements that recreate them.
    The automatic indexes of UNIQUE and PRIMARY KEY (no SQL in sqlite_master) stay."""
    marks = ", ".join(["%s"] * len(tables))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master "  # noqa: S608 (placeholders only)
            f"WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
            list(tables),
        )
        indexes = cursor.fetchall()
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in indexes]


def _write(rows: list[dict[str, Any]], subjects: list[str], grams_of: dict[str, list[str]]) -> int:
    if not rows:
        return 0
    ids = fast_insert(Ticket, rows)
    gram_rows = [
        {"ticket_id": ticket_id, "gram": gram}
        for ticket_id, subject in zip(ids, subjects, strict=True)
        for gram in grams_of[subject]
    ]
    fast_insert(TicketSearchGram, gram_rows)
    return len(ids)


def seed(ctx: SeedContext) -> None:
    if ctx.size == "large":
        _seed_large(ctx)
        return
    _seed_demo(ctx)
