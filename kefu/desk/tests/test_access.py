"""Who sees which ticket: the one-ticket test (read by id, kefu.desk.access.ticket_visible) must
agree with the list's filter (ticket_scope_filter) for every kind of user and ticket."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.core.exceptions import NotFound
from kefu.customers.models import Customer
from kefu.desk.access import ticket_get_for_user, ticket_scope_filter, ticket_visible
from kefu.desk.models import Ticket
from kefu.org.models import User

pytestmark = pytest.mark.django_db


def test_the_one_ticket_test_agrees_with_the_list_filter(
    scope_people: dict[str, User], org: dict[str, Any]
) -> None:
    agent, supervisor, manager, nobody = scope_people.values()
    owned = Customer.objects.create(name="丁", owner=nobody)
    in_a = Customer.objects.create(name="甲", serving_team=org["team_a"])
    in_b = Customer.objects.create(name="乙", serving_team=org["team_b"])
    plain = Customer.objects.create(name="丙")
    shapes: list[dict[str, Any]] = [
        {"customer": in_a, "customer_team": org["team_a"]},
        {"customer": in_b, "customer_team": org["team_b"], "team": org["team_a"]},
        {"customer": plain},
        {"customer": None},
        {"customer": owned},
        {"customer": plain, "assignee": nobody},
        {"customer": None, "created_by": nobody},
        {"customer": in_b, "customer_team": org["team_b"]},
        {"customer": None, "team": org["team_b"]},
    ]
    tickets = [
        Ticket.objects.create(
            number=f"GD20261127-{index:06d}",
            type="inquiry",
            channel="phone",
            subject="测试",
            status="new",
            **shape,
        )
        for index, shape in enumerate(shapes, start=1)
    ]
    for user in (agent, supervisor, manager, nobody):
        visible = ticket_scope_filter(user)
        listed = Ticket.objects.all() if visible is None else Ticket.objects.filter(visible)
        expected = set(listed.values_list("pk", flat=True))
        tested = {
            t.pk for t in Ticket.objects.select_related("customer") if ticket_visible(user, t)
        }
        assert tested == expected, user.username
        assert expected  # each user sees something, and ...
        assert expected != {t.pk for t in tickets} or user is manager  # ... only managers all
    hidden = next(t for t in tickets if not ticket_visible(agent, t))
    with pytest.raises(NotFound):  # outside the scope: 404, the id does not leak
        ticket_get_for_user(user=agent, ticket_id=hidden.pk)
    shown = next(t for t in tickets if ticket_visible(agent, t))
    assert ticket_get_for_user(user=agent, ticket_id=shown.pk).pk == shown.pk
