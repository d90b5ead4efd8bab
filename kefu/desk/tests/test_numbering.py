"""Ticket numbers: GD + date + 6 digits, unique and gap-free per day, also under concurrent
creation (threads against the real database, SQLite or PostgreSQL: the suite runs on both)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kefu.customers.models import Customer
from kefu.desk.models import Ticket, TicketCounter
from kefu.desk.services import TicketInput, ticket_create
from kefu.desk.tests.concurrency import in_thread, run_threads, shared_database, unwrap
from kefu.org.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _data(customer: Customer, subject: str = "咨询保修政策") -> TicketInput:
    return TicketInput(type="inquiry", channel="phone", subject=subject, customer_id=customer.pk)


@pytest.mark.django_db
def test_numbers_follow_the_local_day_and_count_from_one(agent: User, customer: Customer) -> None:
    # given two days, the second starting at local midnight (16:00 UTC the day before)
    first_day = dt.datetime(2026, 11, 25, 23, 59, tzinfo=SHANGHAI)
    next_day = dt.datetime(2026, 11, 26, 0, 0, tzinfo=SHANGHAI)
    # when
    a, _ = ticket_create(actor=agent, data=_data(customer), now=first_day)
    b, _ = ticket_create(actor=agent, data=_data(customer), now=first_day)
    c, _ = ticket_create(actor=agent, data=_data(customer), now=next_day)
    # then
    assert [a.number, b.number, c.number] == [
        "GD20261125-000001",
        "GD20261125-000002",
        "GD20261126-000001",
    ]
    assert re.fullmatch(r"GD\d{8}-\d{6}", a.number)


@pytest.mark.django_db
def test_a_create_that_fails_after_the_insert_leaves_nothing_and_no_gap(
    agent: User, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    when = dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
    ticket_create(actor=agent, data=_data(customer), now=when)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("crash after the INSERT")

    with monkeypatch.context() as patch:
        patch.setattr("kefu.desk.services._write_grams", crash)
        with pytest.raises(RuntimeError):
            ticket_create(actor=agent, data=_data(customer), now=when)
    assert Ticket.objects.count() == 1
    second, _ = ticket_create(actor=agent, data=_data(customer), now=when)
    assert second.number == "GD20261125-000002"  # no gap
    assert TicketCounter.objects.get(day=dt.date(2026, 11, 25)).last == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_get_distinct_gap_free_numbers(
    agent: User, customer: Customer, tmp_path: Path
) -> None:
    count = 12
    with shared_database(tmp_path):
        results = unwrap(
            run_threads(
                count,
                lambda i: (
                    ticket_create(actor=agent, data=_data(customer, f"并发咨询{i}"))[0].number
                ),
            )
        )
        numbers = sorted(results)
        stored = sorted(in_thread(lambda: list(Ticket.objects.values_list("number", flat=True))))
    day = numbers[0][:10]
    assert numbers == [f"{day}-{n:06d}" for n in range(1, count + 1)]
    assert stored == numbers
