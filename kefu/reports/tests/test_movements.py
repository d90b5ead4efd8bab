"""Customer movements (domain.md §3): scenario 7 of §7 and a fixed data set where every
customer's status and reason were worked out by hand. Report month: October 2026 (ends
2026-10-31, the day "days since the last order" is counted to)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.orders.models import Order, OrderLine
from kefu.org.models import User
from kefu.reports.movements import (
    STATUSES,
    Movement,
    MovementRules,
    Movements,
    classify_customers,
)

pytestmark = pytest.mark.django_db

OCTOBER = date(2026, 10, 1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)

# Every 30 days from 2026-05-03: three orders in P3 (May–Jul), four in R3 (Aug–Oct).
P3_DAYS = [date(2026, 5, 3), date(2026, 6, 2), date(2026, 7, 2)]
R3_DAYS = [date(2026, 8, 1), date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 30)]


def customer(name: str, **fields: object) -> Customer:
    return Customer.objects.create(name=name, **fields)


def buy(
    who: Customer,
    on: date,
    amount: int | str,
    *,
    product: str = "产品A",
    due: date | None = None,
    paid: date | None = None,
) -> Order:
    order = Order.objects.create(
        customer=who,
        order_no=f"SO{next(_numbers):08d}",
        date=on,
        due_date=due,
        paid_date=paid,
        amount=Decimal(amount),
        content_hash="x",
    )
    OrderLine.objects.create(
        order=order, line_no=1, product=product, quantity=Decimal(1), amount=Decimal(amount)
    )
    return order


def buy_many(who: Customer, days: Iterable[date], amounts: Iterable[int]) -> None:
    for on, amount in zip(days, amounts, strict=True):
        buy(who, on, amount)


def monthly(first: date, last: date, day: int) -> list[date]:
    """The ``day`` of every month from ``first``'s month to ``last``'s month."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(date(year, month, day))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def complaint(
    who: Customer, created: datetime, *, liability: str = "", closed: datetime | None = None
) -> Ticket:
    return Ticket.objects.create(
        number=f"TS{next(_numbers):08d}",
        type=Ticket.Type.COMPLAINT,
        channel=Ticket.Channel.PHONE,
        status=Ticket.Status.CLOSED if closed else Ticket.Status.INVESTIGATING,
        subject="投诉",
        customer=who,
        liability=liability,
        created_at=created,
        closed_at=closed,
    )


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def where(result: Movements, who: Customer) -> Movement | None:
    found = [m for s in STATUSES for m in result.by_status[s] if m.customer_id == who.pk]
    assert len(found) <= 1
    return found[0] if found else None


def status_of(result: Movements, who: Customer) -> str:
    movement = where(result, who)
    return movement.status if movement else "-"


# ---------------------------------------------------------------------------------------------
# Scenario 7 (gap 30 d, base P3)


def test_scenario_7_monthly_statuses() -> None:
    # given
    rising = customer("上升客户")
    buy_many(rising, P3_DAYS + R3_DAYS, [33000, 33000, 34000] + [33750] * 4)
    falling = customer("下降客户")
    buy_many(falling, P3_DAYS + R3_DAYS, [33000, 33000, 34000] + [15000] * 4)
    stable = customer("稳定客户")
    buy_many(stable, P3_DAYS + R3_DAYS, [33000, 33000, 34000] + [26250] * 4)
    at_risk = customer("预警客户")  # last order 2026-08-12: 80 days before 10-31
    buy_many(at_risk, [date(2026, 6, 13), date(2026, 7, 13), date(2026, 8, 12)], [20000] * 3)
    churned = customer("流失客户")  # last order 2026-04-14: 200 days before 10-31
    buy_many(churned, [date(2026, 2, 13), date(2026, 3, 15), date(2026, 4, 14)], [20000] * 3)
    anomalous = customer("异动客户")  # 11 months of 90k–110k, then 400k
    buy_many(
        anomalous,
        monthly(date(2025, 11, 1), date(2026, 10, 1), 15),
        [90000 + 2000 * i for i in range(11)] + [400000],
    )

    # when
    result = classify_customers(OCTOBER)

    # then
    assert status_of(result, rising) == "rising"
    assert status_of(result, falling) == "falling"
    assert status_of(result, at_risk) == "at_risk"
    assert status_of(result, churned) == "churned"
    assert status_of(result, anomalous) == "anomalous"
    assert status_of(result, stable) == "-"
    assert result.stable == 1
    assert result.small == 0

    def reason(who: Customer) -> str:
        movement = where(result, who)
        assert movement is not None
        return movement.reason

    assert reason(rising) == "近3月订单额较前3月上升35%（¥135,000.00，前3月¥100,000.00）"
    assert reason(falling) == "近3月订单额较前3月下降40%，最近一次下单已过1天"
    assert reason(at_risk) == "已80天未下单（预警阈值60天，流失阈值180天，平均下单间隔30天）"
    assert reason(churned) == "已200天未下单（流失阈值180天，平均下单间隔30天）"
    # median of the 11 months 100,000, MAD 6,000: z = 0.6745 × 300,000 / 6,000 = 33.7
    assert reason(anomalous) == (
        "10月订单额¥400,000.00，为前12个月中位数的4.0倍（修正Z值33.7）；"
        "10月单笔订单¥400,000.00，为前12个月订单中位数的4.0倍"
    )
    figures = where(result, rising).figures  # type: ignore[union-attr]
    assert figures["r3"] == "135000.00"
    assert figures["base"] == "100000.00"
    assert figures["base_kind"] == "P3"
    assert figures["t12"] == "235000.00"
    assert figures["gap_days"] == 30
    assert figures["days_since_last"] == 1
    assert figures["severe"] is False
    assert where(result, anomalous).figures["flags"] == ["revenue_z", "big_order"]  # type: ignore[union-attr]
    assert where(result, churned).figures["churn_days"] == 180  # type: ignore[union-attr]
    assert result.api_dict()["rising"] == [
        {"customer_id": rising.pk, "name": "上升客户", "reason": reason(rising)}
    ]


# ---------------------------------------------------------------------------------------------
# The fixed data set: one customer per rule, with the rules' edges


def steady(
    name: str, *, october: int = 20000, product: str = "产品A", **fields: object
) -> Customer:
    """Orders of ¥20,000 on the 10th of every month, 2025-11 to 2026-09, then ``october`` on
    2026-10-10: stable (R3 = P3 = ¥60,000; every month equal, so no z-score)."""
    who = customer(name, **fields)
    buy_many(who, monthly(date(2025, 11, 1), date(2026, 9, 1), 10), [20000] * 11)
    buy(who, date(2026, 10, 10), october, product=product)
    return who


@pytest.fixture
def world() -> dict[str, Customer]:
    seller = User.objects.create(username="sales1", display_name="李销售")
    w: dict[str, Customer] = {}

    w["ended"] = customer("终止合作客户", lifecycle_stage=Customer.Stage.ENDED)
    buy_many(w["ended"], P3_DAYS + R3_DAYS, [33000, 33000, 34000] + [26250] * 4)

    w["severe"] = customer("严重下滑客户", owner=seller)
    buy_many(w["severe"], P3_DAYS + R3_DAYS, [33000, 33000, 34000] + [10000] * 4)

    w["new"] = customer("王小明", kind=Customer.Kind.PERSON)
    buy(w["new"], date(2026, 10, 8), 8000)

    w["won_back"] = customer("回流客户")  # silent 598 days at the end of September
    buy_many(w["won_back"], [date(2025, 1, 10), date(2025, 2, 9)], [20000, 20000])
    buy(w["won_back"], date(2026, 10, 20), 15000)

    w["small_amount"] = customer("小额客户")  # 2 orders but ¥9,000 in T12
    buy_many(w["small_amount"], [date(2026, 6, 1), date(2026, 9, 1)], [4000, 5000])
    w["small_once"] = customer("单次客户")  # ¥50,000 but one order in T12
    buy_many(w["small_once"], [date(2025, 3, 1), date(2026, 9, 1)], [50000, 50000])

    # first order 2026-07-05: P3 (May–Jul) would be ¥20,000 against R3 ¥60,000 (rising), but
    # May and June precede the first order, so there is no base; 4 months, no z-score either
    w["young"] = customer("新近客户")
    buy_many(w["young"], monthly(date(2026, 7, 1), date(2026, 10, 1), 5), [20000] * 4)

    # first order 2026-05: only 5 months (May–Sep) in the anomaly window, too few for a z-score
    # (counting Oct 2025–Apr 2026 as zeros would give median 0, mean absolute deviation 8,333
    # and z = 40,000 / 10,444 = 3.8 for October); the whole of P3 is covered: rising
    w["short"] = customer("半年客户")
    buy_many(w["short"], monthly(date(2026, 5, 1), date(2026, 9, 1), 6), [20000] * 5)
    buy(w["short"], date(2026, 10, 6), 40000)

    # 22 months of history: Y3 (Aug–Oct 2025, ¥90,000) is the base, not P3 (¥30,000)
    w["seasonal"] = customer("季节性客户")
    for on in monthly(date(2025, 1, 1), date(2026, 10, 1), 20):
        peak = on.year == 2025 and on.month >= 8
        for _ in range(2 if peak else 1):
            buy(w["seasonal"], on, 15000 if peak else 10000)

    w["stable"] = steady("平稳客户")
    complaint(w["stable"], at(date(2026, 10, 20)))  # open only 11 days at the month's end
    complaint(w["stable"], at(date(2026, 10, 3)), liability="ours", closed=at(date(2026, 10, 9)))
    complaint(
        w["stable"], at(date(2026, 10, 4)), liability="customer", closed=at(date(2026, 10, 9))
    )
    w["paid_late"] = steady("按时付清客户")
    Order.objects.filter(customer=w["paid_late"], date=date(2026, 9, 10)).update(
        due_date=date(2026, 9, 20), paid_date=date(2026, 10, 25)
    )

    w["overdue"] = steady("逾期客户")
    Order.objects.filter(customer=w["overdue"], date=date(2026, 9, 10)).update(
        due_date=date(2026, 9, 20)
    )
    w["exposure"] = steady("高占用客户")
    Customer.objects.filter(pk=w["exposure"].pk).update(
        credit_limit=Decimal("100000"), credit_exposure=Decimal("95000")
    )
    w["complaints"] = steady("投诉客户")
    complaint(
        w["complaints"], at(date(2026, 10, 5)), liability="ours", closed=at(date(2026, 10, 20))
    )
    complaint(
        w["complaints"], at(date(2026, 10, 12)), liability="carrier", closed=at(date(2026, 10, 20))
    )
    w["complaint_open"] = steady("投诉未结客户")
    complaint(w["complaint_open"], at(date(2026, 10, 10)))
    w["category"] = steady("品类变化客户", product="产品B")
    w["big_order"] = steady("大单客户", october=70000)

    # 12 months at ¥20,000 except March (¥32,000): median 20,000, MAD 0, mean absolute
    # deviation 1,000; October ¥25,000: z = 5,000 / 1,253.314 = 4.0 ≥ 3.5; ¥24,000: 3.2
    for name, october in (("波动客户", 25000), ("小波动客户", 24000)):
        who = customer(name)
        days = monthly(date(2025, 10, 1), date(2026, 9, 1), 10)
        buy_many(who, days, [32000 if d.month == 3 else 20000 for d in days])
        buy(who, date(2026, 10, 10), october)
        w["z" if october == 25000 else "z_below"] = who

    merged_into = steady("合并目标客户")
    w["merged"] = customer("已合并客户", merged_into=merged_into)
    buy_many(w["merged"], [date(2026, 2, 13), date(2026, 3, 15), date(2026, 4, 14)], [20000] * 3)
    w["merged_into"] = merged_into
    return w


def test_every_customer_of_the_fixed_set_is_where_it_belongs_with_its_reason(
    world: dict[str, Customer],
) -> None:
    # when
    result = classify_customers(OCTOBER)

    # then
    expected = {
        "ended": ("churned", "客户已终止合作，最近一次下单已过1天"),
        "severe": ("falling", "严重下滑：近3月订单额较前3月下降60%，最近一次下单已过1天"),
        "new": ("new", "首次下单于2026-10-08，本月订单额¥8,000.00"),
        "won_back": (
            "won_back",
            "已598天未下单（流失阈值180天）后于本月重新下单，本月订单额¥15,000.00",
        ),
        "short": ("rising", "近3月订单额较前3月上升33%（¥80,000.00，前3月¥60,000.00）"),
        "seasonal": ("falling", "严重下滑：近3月订单额较去年同期下降67%，最近一次下单已过11天"),
        "overdue": ("anomalous", "新增逾期超30天未付订单1笔，共¥20,000.00"),
        "exposure": ("anomalous", "信用占用¥95,000.00，已达额度¥100,000.00的95%"),
        "complaints": ("anomalous", "10月有效投诉2件"),
        "complaint_open": ("anomalous", "有1件投诉受理超过15天仍未结案"),
        # R3 (Aug–Oct): A ¥40,000 of ¥60,000; the 12 months before (from 2025-11): all A
        "category": ("anomalous", "产品「产品A」占比由此前12个月的100.0%变为近3个月的66.7%"),
        "big_order": ("anomalous", "10月单笔订单¥70,000.00，为前12个月订单中位数的3.5倍"),
        "z": ("anomalous", "10月订单额¥25,000.00，为前12个月中位数的1.3倍（修正Z值4.0）"),
    }
    for key, (status, reason) in expected.items():
        movement = where(result, world[key])
        assert movement is not None, key
        assert (key, movement.status, movement.reason) == (key, status, reason)
    for key in ("young", "stable", "paid_late", "z_below", "merged_into"):
        assert where(result, world[key]) is None, key
    assert where(result, world["merged"]) is None
    # stable: young, stable, paid_late, z_below, merged_into; small: small_amount, small_once
    assert result.stable == 5
    assert result.small == 2
    assert result.counts() == {
        "churned": 1,
        "at_risk": 0,
        "anomalous": 7,
        "rising": 1,
        "falling": 2,
        "new": 1,
        "won_back": 1,
    }


def test_figures_name_masking_owner_and_severity(world: dict[str, Customer]) -> None:
    result = classify_customers(date(2026, 10, 17))  # any day of the month

    new = where(result, world["new"])
    assert new is not None
    assert new.name == "王**"  # a person's name is masked
    severe = where(result, world["severe"])
    assert severe is not None
    assert (severe.owner_id, severe.owner_name) == (world["severe"].owner_id, "李销售")
    assert severe.figures["severe"] is True
    assert (severe.figures["r3"], severe.figures["base"]) == ("40000.00", "100000.00")
    seasonal = where(result, world["seasonal"])
    assert seasonal is not None
    assert seasonal.figures["base_kind"] == "Y3"
    assert (seasonal.figures["r3"], seasonal.figures["base"]) == ("30000.00", "90000.00")
    ended = where(result, world["ended"])
    assert ended is not None
    assert ended.figures["ended"] is True
    assert where(result, world["exposure"]).figures["flags"] == ["exposure"]  # type: ignore[union-attr]
    assert where(result, world["won_back"]).figures["days_silent"] == 598  # type: ignore[union-attr]


def test_a_month_is_classified_as_it_stood_then(world: dict[str, Customer]) -> None:
    # at the end of September the won-back customer had not come back yet (one order in T12:
    # small), and the new customer did not exist as a buyer
    result = classify_customers(date(2026, 9, 1))

    assert status_of(result, world["won_back"]) == "-"
    assert status_of(result, world["new"]) == "-"
    # the young customer's first order (July) is "new" in July
    july = classify_customers(date(2026, 7, 1))
    assert status_of(july, world["young"]) == "new"


def test_rules_are_honoured() -> None:
    churned = customer("流失客户")  # 200 days silent, gap 30
    buy_many(churned, [date(2026, 2, 13), date(2026, 3, 15), date(2026, 4, 14)], [20000] * 3)
    rising = customer("上升客户")
    buy_many(rising, P3_DAYS + R3_DAYS, [33000, 33000, 34000] + [33750] * 4)

    result = classify_customers(
        OCTOBER, MovementRules(churn_min_days=250, rising_ratio=Decimal("1.4"))
    )

    # 200 ≤ 250: not churned; 200 ≥ 0.8 × 250 = 200: within 20 % of L, at risk
    assert status_of(result, churned) == "at_risk"
    assert where(result, churned).reason == (  # type: ignore[union-attr]
        "已200天未下单（预警阈值60天，流失阈值250天，平均下单间隔30天）"
    )
    assert status_of(result, rising) == "-"  # 135,000 < 1.4 × 100,000
    assert result.stable == 1


def test_an_empty_database_classifies_nobody() -> None:
    result = classify_customers(OCTOBER)
    assert result.counts() == dict.fromkeys(STATUSES, 0)
    assert (result.stable, result.small) == (0, 0)


def test_command_prints_counts_and_time(world: dict[str, Customer]) -> None:
    out = StringIO()
    call_command("customer_movements", "--month", "2026-10", stdout=out)
    text = out.getvalue()
    assert "Customer movements 2026-10:" in text
    assert "  anomalous: 7\n" in text
    assert "  falling: 2\n" in text
    assert "  stable: 5\n" in text
    assert "  small: 2\n" in text
    assert "Classified in " in text


def test_command_refuses_a_bad_month() -> None:
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("customer_movements", "--month", "2026-13")


def test_complaints_count_by_shanghai_months(world: dict[str, Customer]) -> None:
    # given: two valid complaints just inside October in Shanghai time (00:30 on 10-01 is
    # 16:30 UTC on 09-30), and a complaint at 23:30 on 09-30 that belongs to September
    who = world["stable"]
    Ticket.objects.filter(customer=who).delete()
    october = datetime(2026, 10, 1, 0, 30, tzinfo=SHANGHAI)
    complaint(who, october, liability="ours", closed=october + timedelta(hours=1))
    last_minute = datetime(2026, 10, 31, 23, 30, tzinfo=SHANGHAI)
    complaint(who, last_minute, liability="ours", closed=last_minute + timedelta(minutes=5))
    other = world["paid_late"]
    september = datetime(2026, 9, 30, 23, 30, tzinfo=SHANGHAI)
    complaint(other, september, liability="ours", closed=september + timedelta(hours=1))
    complaint(other, october, liability="ours", closed=october + timedelta(hours=1))
    # open since 10-16 00:30: 15 days 23.5 hours at the month's end, more than 15 days
    complaint(world["z_below"], datetime(2026, 10, 16, 0, 30, tzinfo=SHANGHAI))

    # when
    result = classify_customers(OCTOBER)

    # then
    assert where(result, who).reason == "10月有效投诉2件"  # type: ignore[union-attr]
    assert status_of(result, other) == "-"
    assert where(result, world["z_below"]).reason == (  # type: ignore[union-attr]
        "有1件投诉受理超过15天仍未结案"
    )


def test_orders_after_the_month_and_returns(world: dict[str, Customer]) -> None:
    # a return in October nets out: the stable customer's R3 drops to 60,000 − 30,000
    buy(world["stable"], date(2026, 10, 15), -30000)
    # an order in November changes nothing about October
    buy(world["severe"], date(2026, 11, 2), 500000)

    result = classify_customers(OCTOBER)

    stable = where(result, world["stable"])
    assert stable is not None
    assert stable.status == "falling"
    # the return is no purchase: the last order is still 2026-10-10
    assert stable.reason == "严重下滑：近3月订单额较前3月下降50%，最近一次下单已过21天"
    assert stable.figures["r3"] == "30000.00"
    assert where(result, world["severe"]).figures["r3"] == "40000.00"  # type: ignore[union-attr]


def test_a_shorter_seasonal_history_never_takes_a_base_from_before_the_first_order() -> None:
    # first order 2025-10 (13 months of history): with seasonal_base_months=12 the history is
    # long enough, but Y3 (Aug–Oct 2025) starts before the first order, so P3 stays the base
    who = customer("十三个月客户")
    days = monthly(date(2025, 10, 1), date(2026, 10, 1), 12)
    # 5,000 and 15,000 in turn to July (MAD 5,000: no z-score flag), then 20,000 a month
    amounts = [5000, 15000] * 5 + [20000] * 3
    buy_many(who, days, amounts)

    result = classify_customers(OCTOBER, MovementRules(seasonal_base_months=12))

    movement = where(result, who)
    assert movement is not None
    assert movement.figures["base_kind"] == "P3"
    # P3 = May 15,000 + June 5,000 + July 15,000; Y3 would be October 2025's 5,000 alone
    assert movement.reason == "近3月订单额较前3月上升71%（¥60,000.00，前3月¥35,000.00）"


def test_the_top_products_share_moving_30_points_is_an_anomaly() -> None:
    def mixed(
        name: str, usual: tuple[int, int], recent: tuple[int, int], *, start: date
    ) -> Customer:
        """One ¥20,000 order a month (lines 产品A and 产品B) from ``start`` to 2026-10; the
        last 3 months (R3: Aug–Oct 2026) split ``recent``, the months before ``usual``."""
        who = customer(name)
        for on in monthly(start, date(2026, 10, 1), 10):
            a, b = recent if on >= date(2026, 8, 1) else usual
            order = buy(who, on, a + b, product="产品A")
            OrderLine.objects.filter(order=order).update(amount=Decimal(a))
            OrderLine.objects.create(
                order=order, line_no=2, product="产品B", quantity=Decimal(1), amount=Decimal(b)
            )
        return who

    year_ago = date(2025, 8, 1)
    moved = mixed("结构变化客户", (15000, 5000), (5000, 15000), start=year_ago)  # 75 % → 25 %
    kept = mixed("结构微调客户", (12000, 8000), (7000, 13000), start=year_ago)  # 60 → 35 %
    tie = mixed("平分客户", (10000, 10000), (4000, 16000), start=year_ago)  # tie: A is top
    # the same swap with only two orders before R3: too few to call it a shift
    thin = mixed("新近客户", (15000, 5000), (5000, 15000), start=date(2026, 6, 1))

    result = classify_customers(OCTOBER)

    assert where(result, moved).reason == (  # type: ignore[union-attr]
        "产品「产品A」占比由此前12个月的75.0%变为近3个月的25.0%"
    )
    assert status_of(result, kept) == "-"
    assert where(result, tie).reason == (  # type: ignore[union-attr]
        "产品「产品A」占比由此前12个月的50.0%变为近3个月的20.0%"
    )
    thin_movement = where(result, thin)
    assert thin_movement is None or "category_shift" not in thin_movement.figures["flags"]
