"""The ticket seeders: the demo year goes through the services; the large one writes rows in
bulk that the services then continue (numbers, search, SLA check)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kefu.core.seeding import make_context
from kefu.customers.models import Customer
from kefu.desk import seeds
from kefu.desk.escalation import tickets_sla_check
from kefu.desk.models import Ticket, TicketCounter, TicketSearchGram
from kefu.desk.selectors import ticket_search_filter
from kefu.desk.services import TicketInput, ticket_create
from kefu.org.models import User


@pytest.mark.django_db
def test_large_seed_writes_numbered_searchable_tickets_the_services_continue(
    monkeypatch: pytest.MonkeyPatch, org: dict[str, Any], manager: User
) -> None:
    # given a few customers and a small "large" volume
    ids = [Customer.objects.create(name=f"批量客户{n}").pk for n in range(5)]
    monkeypatch.setattr(seeds, "LARGE_COUNT", 400)
    monkeypatch.setattr(seeds, "LARGE_CHUNK", 150)
    ctx = make_context(size="large", seed=3, out=lambda line: None)
    ctx.shared["large_customer_ids"] = ids
    # when
    seeds.seed(ctx)
    # then every ticket has a unique number of its day, counted by the day counters
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == 400
    assert len(set(numbers)) == 400
    assert all(re.fullmatch(r"GD\d{8}-\d{6}", number) for number in numbers)
    per_day: dict[str, int] = {}
    for number in numbers:
        per_day[number[2:10]] = max(per_day.get(number[2:10], 0), int(number[-6:]))
    counters = {f"{row.day:%Y%m%d}": row.last for row in TicketCounter.objects.all()}
    assert counters == per_day
    # the subject index is filled, and search finds by it
    assert TicketSearchGram.objects.exists()
    found = Ticket.objects.filter(ticket_search_filter("漏水"))
    assert found.exists()
    assert all("漏水" in subject for subject in found.values_list("subject", flat=True))
    # a ticket opened now continues today's numbering; the SLA check runs over the open ones
    ticket, _ = ticket_create(
        actor=manager,
        data=TicketInput(type="inquiry", channel="phone", subject="新工单", customer_id=ids[0]),
    )
    today = ticket.number[2:10]
    assert int(ticket.number[-6:]) == per_day.get(today, 0) + 1
    tickets_sla_check()
    assert Ticket.objects.filter(status="closed", sla_next_check_at__isnull=False).count() == 0


def _indexes(table: str) -> dict[str, tuple[tuple[str, ...], bool]]:
    """The table's indexes as the backend reports them: name → (columns, unique)."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: (tuple(info["columns"] or ()), bool(info["unique"]))
        for name, info in constraints.items()
        if info["index"] or info["unique"]
    }


@pytest.mark.django_db(transaction=True)
def test_the_large_seed_leaves_every_index_of_the_ticket_tables_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the ticket tables' indexes, outside any transaction (the seed's bulk path: on
    # SQLite it drops the explicit indexes while it writes and builds them again at the end)
    tables = ("desk_ticket", "desk_ticketsearchgram")
    before = {table: _indexes(table) for table in tables}
    assert len(before["desk_ticket"]) > 10
    ids = [Customer.objects.create(name=f"批量客户{n}").pk for n in range(3)]
    monkeypatch.setattr(seeds, "LARGE_COUNT", 120)
    ctx = make_context(size="large", seed=5, out=lambda line: None)
    ctx.shared["large_customer_ids"] = ids
    # when the large seed writes its tickets
    seeds.seed(ctx)
    # then the same indexes are there again
    assert Ticket.objects.count() == 120
    assert {table: _indexes(table) for table in tables} == before
