"""kefu.core.fastsql writes and reads exactly what the ORM would, on both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kefu.audit.models import AuditEvent
from kefu.core import fastsql
from kefu.core.counters import daily_counter_next_with_id
from kefu.customers.access import customer_scope_filter, customer_visible
from kefu.customers.models import Customer
from kefu.desk.models import Ticket, TicketCounter, TicketSearchGram, TicketTransition
from kefu.org.models import User
from kefu.portal.models import TicketAccess

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(org: dict[str, Any]) -> Customer:
    return Customer.objects.create(name="上海海尔空调有限公司", serving_team=org["team_a"])


def _row(model: Any, pk: int) -> dict[str, Any]:
    row = model.objects.filter(pk=pk).values().get()
    row.pop("id")
    return dict(row)


def _full_ticket(customer: Customer, agent: User, number: str) -> Ticket:
    """A ticket with a value in every kind of column: text, choices, foreign keys, datetimes,
    a duration, a decimal, booleans, and the ones left to their defaults."""
    now = timezone.now().replace(microsecond=123456)
    return Ticket(
        number=number,
        type=Ticket.Type.CLAIM,
        channel=Ticket.Channel.EMAIL,
        priority=Ticket.Priority.HIGH,
        status="registered",
        subject="空调漏水 'quoted' %s %(x)s",
        body="正文\n第二行",
        customer=customer,
        tier="vip",
        assignee=agent,
        team_id=customer.serving_team_id,
        first_response_due=now + timedelta(hours=2),
        resolution_due=now + timedelta(days=3),
        paused_total=timedelta(hours=1, minutes=30),
        compensation_amount=Decimal("1234.56"),
        sla_breached=True,
        created_by=agent,
        created_at=now,
    )


def test_an_insert_stores_exactly_what_save_stores(customer: Customer, agent: User) -> None:
    by_orm = _full_ticket(customer, agent, "GD20261126-000001")
    by_orm.save(force_insert=True)
    fast = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000002"))
    assert fast.pk is not None
    assert fast.pk != by_orm.pk
    assert not fast._state.adding
    orm_row, fast_row = _row(Ticket, by_orm.pk), _row(Ticket, fast.pk)
    assert orm_row.pop("number") != fast_row.pop("number")
    # auto_now: both stamped at their own save
    assert abs(orm_row.pop("updated_at") - fast_row.pop("updated_at")) < timedelta(seconds=5)
    assert fast_row == orm_row
    assert fast_row["paused_total"] == timedelta(hours=1, minutes=30)
    assert fast_row["compensation_amount"] == Decimal("1234.56")


def test_an_audit_event_with_json_changes_reads_back(agent: User) -> None:
    event = fastsql.insert(
        AuditEvent(
            actor=agent,
            actor_name="agent",
            action=AuditEvent.Action.CREATE,
            object_type="desk.ticket",
            object_id="7",
            changes={"金额": ["1.00", "2.00"], "n": 3, "none": None},
        )
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.changes == {"金额": ["1.00", "2.00"], "n": 3, "none": None}
    assert stored.created_at is not None
    assert stored.actor_id == agent.pk


def test_many_rows_get_their_ids_in_order(customer: Customer, agent: User) -> None:
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000003"))
    grams = [TicketSearchGram(ticket=ticket, gram=gram) for gram in ("空调", "调漏", "漏水")]
    fastsql.insert_many(grams)
    assert [
        g.gram for g in TicketSearchGram.objects.filter(pk__in=[g.pk for g in grams]).order_by("pk")
    ] == ["空调", "调漏", "漏水"]
    assert [TicketSearchGram.objects.get(pk=g.pk).gram for g in grams] == ["空调", "调漏", "漏水"]
    fastsql.insert_many([])  # nothing to write: no statement


def test_plain_rows_get_their_ids_in_order(customer: Customer, agent: User) -> None:
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000005"))
    ids = fastsql.insert_rows(
        TicketSearchGram, ("ticket_id", "gram"), [(ticket.pk, "室外"), (ticket.pk, "外机")]
    )
    assert [TicketSearchGram.objects.get(pk=pk).gram for pk in ids] == ["室外", "外机"]
    assert fastsql.insert_rows(TicketSearchGram, ("ticket_id", "gram"), []) == []


def test_rows_that_differ_in_which_columns_are_empty_each_keep_their_values(
    customer: Customer, agent: User
) -> None:
    """An empty column is written as NULL only when it is empty in every row of the statement."""
    first = TicketTransition(ticket=None, actor=agent, from_status="", to_status="new")
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000006"))
    first.ticket = ticket
    second = TicketTransition(ticket=ticket, actor=None, from_status="new", to_status="open")
    fastsql.insert_many([first, second])
    rows = TicketTransition.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk")
    assert [(row.actor_id, row.to_status) for row in rows] == [(agent.pk, "new"), (None, "open")]


def test_the_hot_path_models_have_no_save_receivers() -> None:
    """insert() sends no save signals: a receiver added to one of these models later must make
    its author choose save() again."""
    fastsql.assert_no_save_signals(Ticket, TicketTransition, TicketSearchGram, AuditEvent)
    fastsql.assert_no_save_signals(TicketAccess)

    def receiver(**kwargs: Any) -> None:
        pass

    post_save.connect(receiver, sender=TicketTransition, weak=False)
    try:
        with pytest.raises(RuntimeError, match=r"desk\.TicketTransition has save receivers"):
            fastsql.assert_no_save_signals(TicketTransition)
    finally:
        post_save.disconnect(receiver, sender=TicketTransition)


# --- together(): the rows nobody reads back, in one round trip (PostgreSQL) --------------------


def _grams(ticket: Ticket) -> list[str]:
    return sorted(TicketSearchGram.objects.filter(ticket=ticket).values_list("gram", flat=True))


def test_rows_written_together_go_to_postgresql_in_one_statement(
    customer: Customer, agent: User
) -> None:
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000010"))
    transition = TicketTransition(ticket=ticket, actor=agent, from_status="", to_status="new")
    with CaptureQueriesContext(connection) as queries, fastsql.together():
        fastsql.insert_rows(
            TicketSearchGram,
            ("ticket_id", "gram"),
            [(ticket.pk, "空调"), (ticket.pk, "漏水")],
            deferrable=True,
        )
        fastsql.insert(transition, deferrable=True)
        fastsql.insert(
            AuditEvent(actor=agent, action=AuditEvent.Action.CREATE, note="50% 'off'; 再说"),
            deferrable=True,
        )
    if connection.vendor == "postgresql":
        assert len(queries) == 1  # three INSERTs, one round trip
        assert transition.pk is None  # nobody waited for its id
    else:
        assert len(queries) == 3  # SQLite runs in the process: each at once
    assert _grams(ticket) == ["漏水", "空调"]
    assert TicketTransition.objects.filter(ticket=ticket, to_status="new").count() == 1
    assert AuditEvent.objects.filter(note="50% 'off'; 再说").count() == 1  # values stay values


def test_a_statement_inside_the_block_first_sends_the_rows_waiting_before_it(
    customer: Customer, agent: User
) -> None:
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000011"))
    with fastsql.together():
        fastsql.insert_rows(
            TicketSearchGram, ("ticket_id", "gram"), [(ticket.pk, "外机")], deferrable=True
        )
        assert _grams(ticket) == ["外机"]  # the read sees the write made before it
        fastsql.insert_rows(
            TicketSearchGram, ("ticket_id", "gram"), [(ticket.pk, "噪音")], deferrable=True
        )
    assert _grams(ticket) == ["噪音", "外机"]


def test_a_row_with_its_id_drawn_beforehand_is_written_with_that_id(
    customer: Customer, agent: User
) -> None:
    value, ticket_id = daily_counter_next_with_id(TicketCounter, timezone.localdate(), Ticket)
    assert value == 1
    ticket = _full_ticket(customer, agent, f"GD20261126-{value:06d}")
    ticket.pk = ticket_id
    with fastsql.together():
        fastsql.insert(ticket, deferrable=True)
        fastsql.insert_rows(
            TicketSearchGram, ("ticket_id", "gram"), [(ticket.pk, "空调")], deferrable=True
        )
    assert ticket.pk is not None
    assert not ticket._state.adding
    if connection.vendor == "postgresql":
        assert ticket.pk == ticket_id  # drawn from the table's sequence with the number
        later = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000099"))
        assert later.pk > ticket_id  # the sequence moved past it: no collision
    else:
        assert ticket_id is None  # SQLite: the id comes back from the INSERT
    assert Ticket.objects.get(pk=ticket.pk).number == "GD20261126-000001"
    assert _grams(ticket) == ["空调"]


@transaction.atomic
def _ticket_with_the_same_gram_twice(customer: Customer, agent: User) -> None:
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000012"))
    with fastsql.together():
        fastsql.insert_rows(
            TicketSearchGram,
            ("ticket_id", "gram"),
            [(ticket.pk, "空调"), (ticket.pk, "空调")],  # the same gram twice: unique
            deferrable=True,
        )


def test_a_failing_waiting_row_raises_inside_the_transaction_and_nothing_is_kept(
    customer: Customer, agent: User
) -> None:
    with pytest.raises(IntegrityError):
        _ticket_with_the_same_gram_twice(customer, agent)
    assert not Ticket.objects.filter(number="GD20261126-000012").exists()
    assert not TicketSearchGram.objects.filter(gram="空调").exists()


@transaction.atomic
def _grams_then_a_failure(ticket: Ticket) -> None:
    with fastsql.together():
        fastsql.insert_rows(
            TicketSearchGram, ("ticket_id", "gram"), [(ticket.pk, "空调")], deferrable=True
        )
        raise ValueError("the change fails half way")


def test_an_exception_inside_the_block_drops_the_waiting_rows(
    customer: Customer, agent: User
) -> None:
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000013"))
    with pytest.raises(ValueError, match="half way"):
        _grams_then_a_failure(ticket)
    assert _grams(ticket) == []
    assert getattr(connection, "_kefu_together", None) is None  # nothing left to send later
    assert Ticket.objects.filter(pk=ticket.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_together_refuses_to_run_outside_a_transaction() -> None:
    """Rows waiting outside a transaction could be lost by an exception after earlier
    statements had committed: the block needs transaction.atomic around it."""
    if connection.vendor != "postgresql":
        with fastsql.together():  # nothing waits on SQLite: nothing to refuse
            pass
        return
    with pytest.raises(RuntimeError, match="transaction"), fastsql.together():
        pass


READ = fastsql.Prepared(
    lambda pk: Ticket.objects.filter(pk=pk).values_list(
        "id", "created_at", "paused_total", "compensation_amount", "sla_breached", "team__name"
    )
)


def test_a_prepared_read_gives_what_values_list_gives(customer: Customer, agent: User) -> None:
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000004"))
    expected = (
        Ticket.objects.filter(pk=ticket.pk)
        .values_list(
            "id", "created_at", "paused_total", "compensation_amount", "sla_breached", "team__name"
        )
        .get()
    )
    assert READ.first(ticket.pk) == expected  # converted as the ORM converts (SQLite: text)
    with CaptureQueriesContext(connection) as queries:
        assert READ.first(ticket.pk) == expected
        assert READ.first(ticket.pk + 1000) is None
    assert len(queries) == 2


def test_a_prepared_read_must_use_its_id_once() -> None:
    both = fastsql.Prepared(lambda pk: Ticket.objects.filter(pk=pk, parent_id=pk).values_list("id"))
    with pytest.raises(TypeError, match="exactly once"):
        both.first(1)


def test_the_visibility_test_agrees_with_the_scope_filter(
    scope_people: dict[str, User], org: dict[str, Any]
) -> None:
    agent, supervisor, manager, nobody = scope_people.values()
    customers = [
        Customer.objects.create(name="甲", serving_team=org["team_a"]),
        Customer.objects.create(name="乙", serving_team=org["team_b"]),
        Customer.objects.create(name="丙"),
        Customer.objects.create(name="丁", owner=agent),
        Customer.objects.create(name="戊", owner=nobody, serving_team=org["team_b"]),
    ]
    for user in (agent, supervisor, manager, nobody):
        visible = customer_scope_filter(user)
        filtered = Customer.objects.all() if visible is None else Customer.objects.filter(visible)
        expected = set(filtered.values_list("pk", flat=True))
        tested = {
            c.pk
            for c in customers
            if customer_visible(user, serving_team_id=c.serving_team_id, owner_id=c.owner_id)
        }
        assert tested == expected, user.username


# --- PreparedObjects: instances with their select_related objects, compiled once --------------

TICKETS_WITH_PEOPLE = fastsql.PreparedObjects(
    lambda pk: (
        Ticket.objects.select_related("customer", "assignee", "team", "created_by")
        .filter(pk=pk)
        .order_by()
    )
)
TRANSITIONS_OF = fastsql.PreparedObjects(
    lambda pk: TicketTransition.objects.select_related("actor").filter(ticket_id=pk)
)


def test_prepared_objects_are_the_instances_the_orm_loads(customer: Customer, agent: User) -> None:
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000020"))
    expected = (
        Ticket.objects.select_related("customer", "assignee", "team", "created_by")
        .filter(pk=ticket.pk)
        .get()
    )
    loaded = TICKETS_WITH_PEOPLE.first(ticket.pk)
    assert loaded is not None
    assert expected.team is not None
    assert not loaded._state.adding
    for field in Ticket._meta.concrete_fields:  # converted as the ORM converts (SQLite: text)
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
        assert type(getattr(loaded, field.attname)) is type(getattr(expected, field.attname))
    with CaptureQueriesContext(connection) as queries:  # the related rows came with it
        assert loaded.customer.name == customer.name
        assert loaded.assignee.username == agent.username
        assert loaded.team.name == expected.team.name
        assert loaded.created_by.pk == agent.pk
    assert len(queries) == 0
    assert TICKETS_WITH_PEOPLE.first(ticket.pk + 1000) is None


def test_prepared_objects_keep_the_models_order_and_empty_relations(
    customer: Customer, agent: User
) -> None:
    ticket = fastsql.insert(_full_ticket(customer, agent, "GD20261126-000021"))
    now = timezone.now()
    steps = [
        TicketTransition(ticket=ticket, actor=agent, from_status="", to_status="new"),
        TicketTransition(ticket=ticket, actor=None, from_status="new", to_status="open"),
        TicketTransition(ticket=ticket, actor=agent, from_status="open", to_status="closed"),
    ]
    for offset, step in zip((3, 1, 2), steps, strict=True):
        step.created_at = now - timedelta(minutes=offset)
    fastsql.insert_many(steps)
    expected = list(TicketTransition.objects.filter(ticket=ticket).select_related("actor"))
    with CaptureQueriesContext(connection) as queries:
        loaded = TRANSITIONS_OF.all(ticket.pk)
        assert [(s.pk, s.actor.pk if s.actor else None) for s in loaded] == [
            (s.pk, s.actor_id) for s in expected
        ]
    assert len(queries) == 1
    assert [s.to_status for s in loaded] == ["new", "closed", "open"]  # created_at order
    assert TRANSITIONS_OF.all(ticket.pk + 1000) == []


def test_a_prepared_read_of_objects_refuses_what_it_cannot_build() -> None:
    for build in (
        lambda pk: Ticket.objects.filter(pk=pk).only("id"),
        lambda pk: Ticket.objects.filter(pk=pk).prefetch_related("comments"),
        lambda pk: Ticket.objects.filter(pk=pk, parent_id=pk),
    ):
        with pytest.raises(TypeError):
            fastsql.PreparedObjects(build).first(1)


# --- PreparedValues: values() rows by a list of ids ----------------------------------------------

ROWS_BY_IDS = fastsql.PreparedValues(
    lambda ids: (
        Ticket.objects.filter(id__in=ids)
        .values("id", "number", "created_at", "compensation_amount", "customer__name", "team__name")
        .order_by("-id")
    )
)


def test_prepared_values_are_the_rows_values_gives(customer: Customer, agent: User) -> None:
    tickets = [
        fastsql.insert(_full_ticket(customer, agent, f"GD20261126-0000{n}")) for n in (30, 31, 32)
    ]
    ids = [t.pk for t in tickets]

    def expected(wanted: list[int]) -> list[dict[str, Any]]:
        return [
            dict(row)
            for row in Ticket.objects.filter(id__in=wanted)
            .values(
                "id", "number", "created_at", "compensation_amount", "customer__name", "team__name"
            )
            .order_by("-id")
        ]

    for wanted in (ids, ids[:1], [ids[2], ids[0]], [ids[0], ids[0], ids[1]], [ids[0], 10**12]):
        assert ROWS_BY_IDS.rows(wanted) == expected(wanted), wanted
    row = ROWS_BY_IDS.rows(ids[:1])[0]
    assert type(row["created_at"]) is type(tickets[0].created_at)  # converted (SQLite: text)
    assert row["compensation_amount"] == Decimal("1234.56")
    with CaptureQueriesContext(connection) as queries:
        assert ROWS_BY_IDS.rows([]) == []
    assert len(queries) == 0


def test_prepared_values_refuse_a_queryset_that_uses_an_id_twice() -> None:
    twice = fastsql.PreparedValues(
        lambda ids: Ticket.objects.filter(id__in=ids, parent_id__in=ids).values("id")
    )
    with pytest.raises(TypeError, match="exactly once"):
        twice.rows([1, 2])
