"""The agent's portal card on the ticket page: the submitter (masked), the link (a new one
revokes the old, audited), the notices sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kefu.audit.models import AuditEvent
from kefu.desk.models import Ticket
from kefu.org.models import User
from kefu.portal.models import TicketAccess

pytestmark = pytest.mark.django_db


@pytest.fixture
def web_ticket(submit: Callable[..., Any], org: dict[str, Any]) -> Ticket:
    submit(name="赵六", mobile="13900001111", email="zhaoliu@example.com", company="无名公司")
    return Ticket.objects.get()


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_ticket_page_shows_the_submitter_masked_and_the_notices(
    web_ticket: Ticket, manager: User
) -> None:
    html = _as(manager).get(f"/tickets/{web_ticket.pk}/").content.decode()
    assert 'data-testid="portal-panel"' in html
    assert "赵*" in html
    assert "139****1111" in html
    assert "zh***@example.com" in html
    assert "赵六" not in html
    assert "13900001111" not in html
    assert "zhaoliu@" not in html
    assert "未匹配客户" in html
    assert html.count('data-testid="portal-notice"') == 2  # SMS and mail, registered


def test_new_link_via_htmx_shows_it_once_revokes_the_old_and_is_audited(
    web_ticket: Ticket, manager: User
) -> None:
    old = TicketAccess.objects.get(ticket=web_ticket)
    response = _as(manager).post(
        f"/support/agent/tickets/{web_ticket.pk}/link/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    link = response.context["panel"]["fresh_link"]
    assert link.startswith("https://kefu.example.com/support/t/")
    assert link in response.content.decode()
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert Client().get(link.removeprefix("https://kefu.example.com")).status_code == 200
    event = AuditEvent.objects.get(field="portal_link")
    assert (event.actor, event.object_id, event.changes) == (
        manager,
        str(web_ticket.pk),
        {"revoked": 1},
    )
    # the page afterwards does not show it again (only its hash is kept)
    assert link not in _as(manager).get(f"/tickets/{web_ticket.pk}/").content.decode()


def test_new_link_without_htmx_redirects_with_the_link_in_a_message(
    web_ticket: Ticket, manager: User
) -> None:
    client = _as(manager)
    response = client.post(f"/support/agent/tickets/{web_ticket.pk}/link/")
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "https://kefu.example.com/support/t/" in html


def test_outsider_cannot_see_or_regenerate_the_link(web_ticket: Ticket, outsider: User) -> None:
    # an unmatched web ticket is routed to no team: outside an agent of team B's scope
    client = _as(outsider)
    assert client.post(f"/support/agent/tickets/{web_ticket.pk}/link/").status_code == 404
    assert TicketAccess.objects.filter(ticket=web_ticket, revoked_at__isnull=False).count() == 0
    assert not AuditEvent.objects.filter(field="portal_link").exists()


def test_admin_lists_the_notices_read_only_with_masked_recipients(
    web_ticket: Ticket, superuser: User
) -> None:
    html = _as(superuser).get("/admin/portal/customernotice/").content.decode()
    assert "139****1111" in html
    assert "zh***@example.com" in html
    assert "13900001111" not in html
