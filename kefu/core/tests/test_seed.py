from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from kefu.customers import seeds as customer_seeds
from kefu.customers.identifiers import normalize_id_number, normalize_uscc
from kefu.customers.models import Address, Asset, Contact, Customer
from kefu.orders import seeds as order_seeds
from kefu.orders.models import Order, OrderLine
from kefu.org.models import User
from kefu.org.roles import ROLES


def _snapshot() -> list[tuple[Any, ...]]:
    return list(
        Customer.objects.order_by("id").values_list(
            "code", "name", "kind", "region", "mobile", "serving_team__name", "uscc", "source"
        )
    )


def _orders() -> list[tuple[Any, ...]]:
    return list(
        Order.objects.order_by("source", "order_no").values_list(
            "order_no", "customer__code", "date", "due_date", "paid_date", "amount", "cost"
        )
    )


def _wipe() -> None:
    from kefu.desk.models import Ticket

    Ticket.objects.all().delete()  # tickets and orders protect their customers
    Order.objects.all().delete()
    Customer.objects.all().delete()


def _report_window() -> tuple[date, date]:
    return customer_seeds.month_window(timezone.localdate())


# The ticket and call seeders work a year of tickets through the services (most of the demo
# seed's time): the tests below that are about the archive and orders leave them out; the first
# test seeds everything.
LIGHT = "desk,calls,dispatch,analytics,reports"  # what these tests do not look at


@pytest.fixture(scope="module")
def demo_company(
    django_db_setup: None, django_db_blocker: Any
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """The demo company's customers and orders (seed 7, without the desk's year of tickets),
    seeded once for the tests of this module that read it, inside a transaction rolled back
    after the last of them; each test runs in a savepoint of its own within it, so what a test
    changes is gone before the next. Yields the customers' and the orders' snapshots."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        call_command("seed", "--size", "demo", "--seed", "7", "--skip", LIGHT, stdout=io.StringIO())
        snapshots = _snapshot(), _orders()
    try:
        yield snapshots
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(demo_company: Any, db: None) -> None:
    """The demo company (see demo_company), in this test's savepoint."""


def test_demo_seed_is_deterministic_and_covers_every_role(db: None) -> None:
    # (the one test of the whole demo seed, the desk's year of tickets included: it runs
    # outside demo_company, in an empty database, as `make run` does)
    # given the whole demo company seeded with seed 7
    call_command("seed", "--size", "demo", "--seed", "7", stdout=io.StringIO())
    first, first_orders = _snapshot(), _orders()
    # and the service desk's year of tickets came with it
    from kefu.desk.models import Ticket

    assert Ticket.objects.count() > 100
    # and a year of it, and of complaints and calls (what the desk's KPIs and archive show)
    from kefu.calls.models import Call

    today = timezone.localdate()
    year_ago = today - timedelta(days=330)

    def months(rows: Any) -> set[tuple[int, int]]:
        return {(when.year, when.month) for when in rows}

    tickets = Ticket.objects.values_list("created_at", flat=True)
    complaints = Ticket.objects.filter(type="complaint").values_list("created_at", flat=True)
    calls = Call.objects.values_list("offered_at", flat=True)
    assert min(tickets).date() <= year_ago
    assert min(complaints).date() <= year_ago
    assert min(calls).date() <= year_ago
    assert len(months(complaints)) >= 10
    assert len(months(calls)) >= 12
    outcomes = set(Call.objects.values_list("outcome", flat=True))
    assert {Call.Outcome.ANSWERED, Call.Outcome.ABANDONED} <= outcomes
    # when the customers and orders are wiped and seeded again with the same seed (without the
    # desk's year of tickets this time: what must repeat is the customers and their orders)
    _wipe()
    call_command("seed", "--size", "demo", "--seed", "7", "--skip", LIGHT, stdout=io.StringIO())
    # then the same customers and the same orders, with the same amounts, come back
    assert _snapshot() == first
    assert _orders() == first_orders
    assert len(first) == 500
    assert len(first_orders) > 3000
    assert all(row[4].startswith("+861") and len(row[4]) == 14 for row in first)
    # and there is a demo login for every role
    role_names = {role.name for role in ROLES}
    seeded_roles = set(User.objects.values_list("groups__name", flat=True))
    assert role_names <= seeded_roles


def test_a_different_seed_gives_a_different_company(
    demo_company: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]], db: None
) -> None:
    first, first_orders = demo_company
    _wipe()
    call_command("seed", "--size", "demo", "--seed", "8", "--skip", LIGHT, stdout=io.StringIO())
    assert [row[1] for row in _snapshot()] != [row[1] for row in first]
    assert _orders() != first_orders


def test_if_empty_leaves_an_existing_company_alone(demo: None) -> None:
    before = Customer.objects.count(), Order.objects.count()
    call_command("seed", "--size", "demo", "--if-empty", stdout=io.StringIO())
    assert (Customer.objects.count(), Order.objects.count()) == before


def test_demo_customers_carry_a_full_archive(demo: None) -> None:
    customers = list(Customer.objects.all())
    # every customer has a unique sales-system code like C000123
    codes = [c.code for c in customers]
    assert all(code and re.fullmatch(r"C\d{6}", code) for code in codes)
    assert len(set(codes)) == len(codes)
    # companies have a credit code whose GB 32100-2015 check character is right; some persons
    # have an ID number with a valid check character
    companies = [c for c in customers if c.kind == Customer.Kind.COMPANY]
    assert all(normalize_uscc(c.uscc) == c.uscc for c in companies)
    persons_with_id = [c for c in customers if c.id_number]
    assert persons_with_id
    assert all(normalize_id_number(c.id_number) == c.id_number for c in persons_with_id)
    # sources, tags and lifecycle stages vary
    assert len({c.source for c in customers}) >= 5
    assert set(Customer.objects.values_list("tags__name", flat=True)) >= {
        "经销商",
        "终端用户",
        "重点客户",
        "政府采购",
    }
    assert set(Customer.objects.values_list("lifecycle_stage", flat=True)) >= {
        Customer.Stage.PROSPECT,
        Customer.Stage.ACTIVE,
        Customer.Stage.DORMANT,
        Customer.Stage.ENDED,
    }
    # companies have several contacts with roles and e-mails, one primary each
    contacts = Contact.objects.filter(customer__kind=Customer.Kind.COMPANY)
    assert set(contacts.values_list("role", flat=True)) >= {
        Contact.Role.DECISION,
        Contact.Role.PURCHASING,
        Contact.Role.FINANCE,
        Contact.Role.TECHNICAL,
    }
    per_company = contacts.values("customer").annotate(n=Count("id"))
    assert max(row["n"] for row in per_company) >= 3
    assert contacts.exclude(email="").exists()
    assert Contact.objects.filter(is_primary=True).count() == len(customers)
    # addresses of each kind, and installed products with serial numbers and warranty
    assert set(Address.objects.values_list("kind", flat=True)) >= {
        Address.Kind.OFFICE,
        Address.Kind.SHIPPING,
        Address.Kind.SITE,
    }
    assets = list(Asset.objects.all())
    assert len(assets) > 300
    assert len({a.serial_number for a in assets}) == len(assets)
    assert all(
        a.purchase_date and a.warranty_end and a.warranty_end > a.purchase_date for a in assets
    )
    assert {"空调", "净水器", "冷水机"} <= {
        word for a in assets for word in ("空调", "净水器", "冷水机") if word in a.product_model
    }
    # marketing consent is a record: who agreed has a time, a channel and evidence
    consented = [c for c in customers if c.marketing_consent]
    assert 0 < len(consented) < len(customers)
    assert all(
        c.marketing_consent_at and c.marketing_consent_channel and c.marketing_consent_evidence
        for c in consented
    )


def test_demo_orders_cover_24_months_ending_last_month(demo: None) -> None:
    start, end = _report_window()
    span = Order.objects.aggregate(first=Min("date"), last=Max("date"))
    assert start <= span["first"] < start + timedelta(days=10)
    assert end - timedelta(days=10) < span["last"] <= end
    assert end == timezone.localdate().replace(day=1) - timedelta(days=1)
    # order numbers like SO202501-000123 from the ERP, each in its order's month
    for order_no, ordered, source in Order.objects.values_list("order_no", "date", "source"):
        assert source == "erp"
        assert re.fullmatch(rf"SO{ordered:%Y%m}-\d{{6}}", order_no)


def test_demo_order_totals_are_the_sum_of_their_lines_with_margins(demo: None) -> None:
    sums = {
        row["order"]: row
        for row in OrderLine.objects.values("order").annotate(
            amount=Sum("amount"), cost=Sum("cost"), n=Count("id")
        )
    }
    orders = list(Order.objects.values_list("pk", "amount", "cost"))
    assert orders
    for pk, amount, cost in orders:
        assert sums[pk]["amount"] == amount
        assert sums[pk]["cost"] == cost
        assert 1 <= sums[pk]["n"] <= 6
    for amount, cost in OrderLine.objects.values_list("amount", "cost"):
        margin = (amount - cost) / amount
        assert Decimal("0.09") <= margin <= Decimal("0.41")


def test_demo_orders_hash_like_the_order_service_so_reimport_is_a_no_op(demo: None) -> None:
    services = pytest.importorskip("kefu.orders.services")
    for order in Order.objects.prefetch_related("lines")[:300]:
        lines = [
            services.CleanLine(
                product=line.product, quantity=line.quantity, amount=line.amount, cost=line.cost
            )
            for line in order.lines.all()
        ]
        expected = services.content_hash(
            customer_id=order.customer_id,
            date=order.date,
            due_date=order.due_date,
            paid_date=order.paid_date,
            lines=lines,
        )
        assert order.content_hash == expected


def _monthly(customer_id: int) -> dict[str, Decimal]:
    months: dict[str, Decimal] = defaultdict(Decimal)
    for ordered, amount in Order.objects.filter(customer_id=customer_id).values_list(
        "date", "amount"
    ):
        months[f"{ordered:%Y-%m}"] += amount
    return months


def test_demo_orders_show_churn_new_customers_a_spike_and_payment_patterns(demo: None) -> None:
    _start, end = _report_window()
    report_month = end.replace(day=1)
    today = timezone.localdate()
    per_customer = list(
        Order.objects.values("customer_id").annotate(first=Min("date"), last=Max("date"))
    )
    # churned: no order for more than 180 days
    assert any((end - row["last"]).days > 180 for row in per_customer)
    # new: the first order ever falls in the report month
    assert any(row["first"] >= report_month for row in per_customer)
    # prospects have no orders
    prospects = Customer.objects.filter(lifecycle_stage=Customer.Stage.PROSPECT)
    assert prospects.exists()
    assert not Order.objects.filter(customer__in=prospects).exists()
    # a spike: a month of about ¥400,000 after twelve months of about ¥100,000
    spikes = []
    for row in per_customer:
        months = _monthly(row["customer_id"])
        last = months.get(f"{report_month:%Y-%m}", Decimal(0))
        before = [v for k, v in sorted(months.items()) if k < f"{report_month:%Y-%m}"][-12:]
        if len(before) == 12 and last >= 300_000 and max(before) <= 130_000:
            spikes.append(row["customer_id"])
    assert spikes
    # a Pareto spread: the top fifth of buyers bring most of the revenue
    totals = sorted(
        (row["t"] for row in Order.objects.values("customer_id").annotate(t=Sum("amount"))),
        reverse=True,
    )
    assert sum(totals[: len(totals) // 5]) > Decimal("0.55") * sum(totals)
    # payments: mostly on time, some late, some unpaid past the due date, none in the future
    paid = Order.objects.filter(paid_date__isnull=False)
    late = sum(
        1 for due, when in paid.values_list("due_date", "paid_date") if due and when and when > due
    )
    assert 0 < late < paid.count() / 2
    assert Order.objects.filter(paid_date__isnull=True, due_date__lt=today).exists()
    assert not Order.objects.filter(paid_date__gt=today).exists()
    # due dates follow the customer's payment days (cash on order, or 30-90 days)
    terms = {
        (due - ordered).days
        for ordered, due in Order.objects.values_list("date", "due_date")
        if due is not None
    }
    assert terms <= {0, 30, 45, 60, 90}
    assert {0, 30} <= terms


def test_large_seed_writes_exactly_the_line_budget_after_the_demo(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the demo company, and a large seed scaled down to 300 customers and 3,000 lines
    monkeypatch.setattr(customer_seeds, "LARGE_COUNT", 300)
    monkeypatch.setattr(customer_seeds, "BATCH", 120)
    monkeypatch.setattr(order_seeds, "LARGE_LINES", 3_000)
    monkeypatch.setattr(order_seeds, "LARGE_CHUNK", 70)
    demo_orders = Order.objects.count()
    demo_lines = OrderLine.objects.count()
    # when the large seed runs (the million tickets have their own test, kefu/desk/tests)
    printed = io.StringIO()
    call_command("seed", "--size", "large", "--seed", "7", "--skip", LIGHT, stdout=printed)
    # then the planner's statistics are taken at the end, as after any bulk load (SQLite
    # keeps none unless asked)
    assert "  analyze: " in printed.getvalue()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'orders_orderline'")
            assert cursor.fetchone()[0] > 0
    # and 300 more customers with the next codes, and exactly 3,000 more lines on them
    assert Customer.objects.count() == 800
    assert Customer.objects.filter(code="C000800").exists()
    assert OrderLine.objects.count() == demo_lines + 3_000
    new_orders = Order.objects.filter(customer__code__gt="C000500")
    assert new_orders.count() == Order.objects.count() - demo_orders
    numbers = list(Order.objects.values_list("order_no", flat=True))
    assert len(numbers) == len(set(numbers))
    for order in new_orders.prefetch_related("lines")[:200]:
        assert order.amount == sum(line.amount for line in order.lines.all())
    # and the large customers read back like any other, with their primary contact
    last = Customer.objects.get(code="C000800")
    assert last.tier in Customer.Tier.values
    assert last.contacts.get(is_primary=True).mobile == last.mobile
    # and the ORM can still add rows afterwards (the id sequences moved past the seed's ids)
    customer = Customer.objects.create(name="新客户")
    assert customer.pk > last.pk
    extra = Order.objects.create(order_no="X-1", customer=customer, date=timezone.localdate())
    assert extra.pk > max(Order.objects.exclude(pk=extra.pk).values_list("pk", flat=True))


def test_an_unknown_seeder_to_skip_is_refused(db: None) -> None:
    from django.core.management.base import CommandError

    before = Customer.objects.count()
    with pytest.raises(CommandError, match="unknown seeders: nope"):
        call_command("seed", "--size", "demo", "--skip", "nope")
    assert Customer.objects.count() == before  # nothing seeded
