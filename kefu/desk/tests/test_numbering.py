"""Ticket numbers: GD + date + 6 digits, unique and gap-free per day, also under concurrent
creation (threads against the real database, SQLite or PostgreSQL: the suite runs on both)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import ApiClient
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


@pytest.mark.django_db(transaction=True)
def test_500_concurrent_creates_over_the_api_give_500_tickets_with_500_numbers(
    api_as: Callable[[User], ApiClient], agent: User, customer: Customer, tmp_path: Path
) -> None:
    # given 16 API clients (the token is stored before the threads start)
    total, threads = 500, 16
    clients = [api_as(agent) for _ in range(threads)]

    def work(index: int) -> list[tuple[int, str]]:
        answers = []
        for n in range(index, total, threads):
            body = {
                "type": "inquiry",
                "channel": "phone",
                "customer_id": customer.pk,
                "subject": f"并发来电{n}",
                "priority": "normal",
            }
            answer = clients[index].post("/api/v1/tickets", body)
            answers.append((answer.status_code, answer.json().get("number", "")))
        return answers

    # when they all post at once
    with shared_database(tmp_path):
        answers = [pair for chunk in unwrap(run_threads(threads, work)) for pair in chunk]
        stored = in_thread(
            lambda: list(
                Ticket.objects.values_list("number", "first_response_due", "resolution_due")
            )
        )
    # then every create answered 201 with its own number, and exactly those are stored
    assert [status for status, _ in answers] == [201] * total
    numbers = sorted(number for _, number in answers)
    assert len(set(numbers)) == total
    assert sorted(row[0] for row in stored) == numbers
    assert all(row[1] and row[2] for row in stored)  # none without due times
    # gap-free per day (the run may cross local midnight)
    by_day: dict[str, list[int]] = {}
    for number in numbers:
        by_day.setdefault(number[:10], []).append(int(number[11:]))
    for day, values in by_day.items():
        assert values == list(range(1, len(values) + 1)), day
