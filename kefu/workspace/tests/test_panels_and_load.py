"""The customer side panel on the ticket page and the supervisors' live load."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kefu.desk.models import Ticket
from kefu.orders.models import Order
from kefu.org.models import User
from kefu.routing.hooks import register_bound_team_lookup, unregister_bound_team_lookup
from kefu.routing.models import AgentPresence
from kefu.workspace.selectors import team_load

pytestmark = pytest.mark.django_db


def test_the_side_panel_shows_the_customer_masked_with_tickets_and_orders(
    agent: User,
    org: dict[str, Any],
    open_ticket: Callable[..., Ticket],
    login: Callable[[User], Client],
) -> None:
    older = open_ticket(subject="上次的咨询")
    ticket = open_ticket()
    Order.objects.create(
        order_no="SO-2025-001",
        customer=ticket.customer,
        date=date(2025, 3, 10),
        amount=Decimal("6999.00"),
        content_hash="x",
    )

    team_b: int = org["team_b"].pk

    def bound(customer_id: int) -> int | None:
        return team_b

    register_bound_team_lookup(bound)
    try:
        page = login(agent).get(f"/tickets/{ticket.pk}/").content.decode()
    finally:
        unregister_bound_team_lookup(bound)
    panel = page[page.index('data-testid="customer-panel"') :]
    assert page.index('data-testid="customer-panel"') < page.index("首次响应时限")  # first
    assert "138****5678" in panel
    assert "13812345678" not in page
    assert older.number in panel
    assert "SO-2025-001" in panel
    assert 'data-testid="key-account"' in panel
    assert "客服二组" in panel
    assert 'data-testid="customer-open-count">2<' in panel
    assert "查看完整号码" not in panel  # agents may not reveal


def test_a_supervisor_gets_the_reveal_link(
    supervisor: User, open_ticket: Callable[..., Ticket], login: Callable[[User], Client]
) -> None:
    ticket = open_ticket()
    page = login(supervisor).get(f"/tickets/{ticket.pk}/").content.decode()
    assert "查看完整号码" in page
    assert f"/customers/{ticket.customer_id}/#contacts-card" in page


def test_the_load_counts_each_agents_open_at_risk_breached_and_resolved_today(
    agent: User,
    org: dict[str, Any],
    supervisor: User,
    open_ticket: Callable[..., Ticket],
    working: Callable[[Ticket], Ticket],
    django_assert_max_num_queries: Any,
) -> None:
    from kefu.desk.services import ticket_transition

    AgentPresence.objects.create(user=agent, status=AgentPresence.Status.ONLINE)
    calm = open_ticket(assignee_id=agent.pk)
    risky = open_ticket(assignee_id=agent.pk)
    late = open_ticket(assignee_id=agent.pk)
    done = working(open_ticket(assignee_id=agent.pk))
    ticket_transition(actor=agent, ticket=done, to="resolved", note="已解答")
    open_ticket(team_id=org["team_b"].pk)  # another team's
    open_ticket()  # nobody's yet
    Ticket.objects.filter(pk=risky.pk).update(resolution_warned=True)
    Ticket.objects.filter(pk=late.pk).update(sla_breached=True)
    Ticket.objects.filter(pk=calm.pk).update(created_at=timezone.now() - timedelta(hours=5))

    # five queries plus the supervisor's permissions (two, cached after)
    with django_assert_max_num_queries(7):
        teams = team_load(user=supervisor)
    (team,) = teams
    row = next(a for a in team.agents if a.user_id == agent.pk)
    assert (row.status, row.open, row.at_risk, row.breached, row.resolved_today) == (
        "online",
        4,  # the resolved one is still open until closed
        1,
        1,
        1,
    )
    assert row.oldest_open_at is not None
    assert timezone.now() - row.oldest_open_at > timedelta(hours=4)
    assert team.unassigned == 1
    assert (team.open, team.online) == (4, 1)


def test_the_load_page_is_for_supervisors_and_refreshes_itself(
    agent: User,
    supervisor: User,
    gm: User,
    login: Callable[[User], Client],
) -> None:
    assert login(agent).get("/workspace/load/").status_code == 403
    page = login(supervisor).get("/workspace/load/").content.decode()
    assert 'hx-trigger="every 10s"' in page
    assert "客服一组" in page
    assert 'data-testid="team-totals"' in page
    partial = login(supervisor).get("/workspace/load/", headers={"HX-Request": "true"})
    assert partial.content.decode().startswith('<div id="workspace-load"')
    assert login(gm).get("/workspace/load/").status_code == 200
    assert 'data-nav="workspace_load"' in page
    assert 'data-nav="workspace_load"' not in login(agent).get("/tickets/").content.decode()
