"""Fixtures of the desk tests: a customer of team A, the finance, quality and general manager
personas, and a helper that opens a ticket through the service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.desk.services import TicketInput, ticket_create
from kefu.org.models import User


@pytest.fixture
def customer(org: dict[str, Any]) -> Customer:
    return Customer.objects.create(
        name="上海海尔空调有限公司", serving_team=org["team_a"], mobile="+8613812345678"
    )


@pytest.fixture
def finance(make_user: Callable[..., User]) -> User:
    return make_user("finance", "finance")


@pytest.fixture
def quality(make_user: Callable[..., User]) -> User:
    return make_user("quality", "quality")


@pytest.fixture
def gm(make_user: Callable[..., User]) -> User:
    return make_user("gm", "gm")


@pytest.fixture
def open_ticket(agent: User, customer: Customer) -> Callable[..., Ticket]:
    def make(ticket_type: str = "inquiry", *, actor: User | None = None, **fields: Any) -> Ticket:
        data = TicketInput(
            type=ticket_type,
            channel=fields.pop("channel", "phone"),
            subject=fields.pop("subject", "空调漏水需要上门"),
            customer_id=fields.pop("customer_id", customer.pk),
            **fields,
        )
        ticket, created = ticket_create(actor=actor or agent, data=data, now=fields.get("now"))
        assert created
        return ticket

    return make
