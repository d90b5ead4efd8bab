"""Fixtures of the work order tests: a customer of team A, an open ticket, and the people of the
departments that receive work (an engineer of 维修部 by team, a salesman of 销售部 by
department)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.desk.services import TicketInput, ticket_create
from kefu.dispatch.models import WorkOrder
from kefu.dispatch.services import workorder_dispatch
from kefu.org.models import Department, User


@pytest.fixture
def customer(org: dict[str, Any]) -> Customer:
    return Customer.objects.create(
        name="上海海尔空调有限公司", serving_team=org["team_a"], mobile="+8613812345678"
    )


@pytest.fixture
def engineer(make_user: Callable[..., User]) -> User:
    return make_user("engineer", "engineer", teams=("team_repair",), department="repair")


@pytest.fixture
def salesman(make_user: Callable[..., User]) -> User:
    return make_user("salesman", "sales", department="sales")


@pytest.fixture
def repair(org: dict[str, Any]) -> Department:
    department: Department = org["repair"]
    return department


@pytest.fixture
def ticket(agent: User, customer: Customer) -> Ticket:
    made, created = ticket_create(
        actor=agent,
        data=TicketInput(
            type="repair",
            channel="phone",
            subject="空调漏水需要上门",
            customer_id=customer.pk,
            assignee_id=agent.pk,
        ),
    )
    assert created
    return made


@pytest.fixture
def dispatch(agent: User, ticket: Ticket, repair: Department) -> Callable[..., WorkOrder]:
    def make(**options: Any) -> WorkOrder:
        order, created = workorder_dispatch(
            actor=options.pop("actor", agent),
            ticket=options.pop("ticket", ticket),
            department_id=options.pop("department_id", repair.pk),
            instructions=options.pop("instructions", "请派师傅上门检查空调漏水"),
            **options,
        )
        assert created
        return order

    return make
