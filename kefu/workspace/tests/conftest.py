"""Fixtures of the workspace tests: the desk's customer and ticket helpers, a logged-in client,
and tickets moved into work."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from kefu.desk.models import Ticket
from kefu.desk.services import ticket_transition
from kefu.desk.tests.conftest import customer, gm, open_ticket  # noqa: F401 (fixtures)
from kefu.org.models import User


@pytest.fixture
def login() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def working(agent: User) -> Callable[[Ticket], Ticket]:
    """A new inquiry taken into work (NEW → IN_PROGRESS) by the agent."""

    def move(ticket: Ticket) -> Ticket:
        return ticket_transition(actor=agent, ticket=ticket, to=Ticket.Status.IN_PROGRESS)

    return move
