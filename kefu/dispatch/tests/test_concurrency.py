"""Dispatches racing each other and a ticket's close (threads on real connections: a file copy
of the test database on SQLite, the test database itself on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.core.exceptions import Conflict
from kefu.desk.models import Ticket
from kefu.desk.services import ticket_transition
from kefu.desk.tests.concurrency import in_thread, run_threads, shared_database, unwrap
from kefu.dispatch.models import WorkOrder
from kefu.dispatch.services import workorder_dispatch
from kefu.org.models import Department, User


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatches_get_distinct_numbers_and_one_per_key(
    agent: User, ticket: Ticket, repair: Department, tmp_path: Path
) -> None:
    with shared_database(tmp_path):
        retried = unwrap(
            run_threads(
                4,
                lambda _i: workorder_dispatch(
                    actor=agent,
                    ticket=ticket,
                    department_id=repair.pk,
                    instructions="上门",
                    idempotency_key="same-key",
                ),
            )
        )
        distinct = unwrap(
            run_threads(
                4,
                lambda i: workorder_dispatch(
                    actor=agent,
                    ticket=ticket,
                    department_id=repair.pk,
                    instructions=f"第 {i} 张",
                    idempotency_key=f"key-{i}",
                ),
            )
        )
        numbers = in_thread(lambda: list(WorkOrder.objects.values_list("number", flat=True)))
    assert len({order.pk for order, _created in retried}) == 1
    assert sorted(created for _order, created in retried) == [False] * 3 + [True]
    assert all(created for _order, created in distinct)
    assert len(numbers) == 5
    assert len(set(numbers)) == 5


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_racing_the_close_never_leaves_open_work_on_a_resolved_ticket(
    agent: User, ticket: Ticket, repair: Department, tmp_path: Path
) -> None:
    ticket_transition(actor=agent, ticket=ticket, to="in_progress")

    def work(index: int) -> object:
        if index == 0:
            return ticket_transition(actor=agent, ticket=ticket, to="resolved", note="已解决")
        return workorder_dispatch(
            actor=agent, ticket=ticket, department_id=repair.pk, instructions="上门"
        )

    with shared_database(tmp_path):
        results = run_threads(2, work)
        status = in_thread(lambda: Ticket.objects.get(pk=ticket.pk).status)
        open_orders = in_thread(lambda: WorkOrder.objects.filter(status="dispatched").count())
    # exactly one of them won; the other was refused with a 409
    refused = [result for result in results if isinstance(result, Conflict)]
    assert len(refused) == 1, results
    assert (status, open_orders) in (("resolved", 0), ("in_progress", 1))
