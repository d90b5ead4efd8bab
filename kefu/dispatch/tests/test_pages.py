"""The pages: the ticket page's panel with the dispatch form, the desk's monitor (counts per
department, overdue rows red, due-soon orange), a department's inbox with its buttons, one
order's page; the forms POST and redirect; outsiders get 404."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kefu.desk.models import Ticket
from kefu.dispatch.models import WorkOrder
from kefu.org.models import Department, User


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row(html: str, number: str) -> str:
    found = re.search(rf'<tr[^>]*data-work-order="{re.escape(number)}"[^>]*>', html)
    assert found, number
    return found.group(0)


@pytest.mark.django_db
def test_the_ticket_page_lists_orders_and_dispatches_from_its_form(
    agent: User, ticket: Ticket, repair: Department
) -> None:
    client = _client(agent)
    page = client.get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="work-orders-panel"' in html
    assert 'data-testid="dispatch-form"' in html
    assert "还没有派工单。" in html
    key_match = re.search(r'name="idempotency_key" value="(\w+)"', html)
    assert key_match
    form = {
        "department_id": str(repair.pk),
        "deadline": "",
        "instructions": "请上门检查空调漏水",
        "idempotency_key": key_match.group(1),
    }
    posted = client.post(f"/workorders/ticket/{ticket.pk}/dispatch/", form)
    assert posted.status_code == 302
    assert posted["Location"] == f"/tickets/{ticket.pk}/#work-orders"
    client.post(f"/workorders/ticket/{ticket.pk}/dispatch/", form)  # a double submit
    order = WorkOrder.objects.get()
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert order.number in html
    assert "请上门检查空调漏水" in html
    assert 'data-action="cancelled"' in html
    # a bad deadline: an error message, nothing written
    bad = client.post(
        f"/workorders/ticket/{ticket.pk}/dispatch/",
        {**form, "idempotency_key": "other", "deadline": "明天"},
        follow=True,
    )
    assert "请填写有效的时间" in bad.content.decode()
    assert WorkOrder.objects.count() == 1


@pytest.mark.django_db
def test_the_monitor_counts_per_department_and_colours_rows(
    supervisor: User, org: dict[str, Any], dispatch: Callable[..., WorkOrder]
) -> None:
    late = dispatch()
    WorkOrder.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(hours=2))
    soon = dispatch(deadline=timezone.now() + dt.timedelta(hours=1))
    fine = dispatch(department_id=org["sales"].pk, deadline=timezone.now() + dt.timedelta(days=2))
    client = _client(supervisor)
    page = client.get("/workorders/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-state="overdue"' in _row(html, late.number)
    assert "bg-red-lt" in _row(html, late.number)
    assert 'data-state="due-soon"' in _row(html, soon.number)
    assert "bg-orange-lt" in _row(html, soon.number)
    assert 'data-state="ok"' in _row(html, fine.number)
    counts = page.context["counts"]
    repair_row = next(row for row in counts if row["name"] == "维修部")
    sales_row = next(row for row in counts if row["name"] == "销售部")
    assert (repair_row["open"], repair_row["overdue"], repair_row["due_soon"]) == (2, 1, 1)
    assert (sales_row["open"], sales_row["overdue"]) == (1, 0)
    # filters
    only_late = client.get("/workorders/", {"overdue": "1"}).content.decode()
    assert late.number in only_late
    assert fine.number not in only_late
    only_sales = client.get("/workorders/", {"department": org["sales"].pk}).content.decode()
    assert fine.number in only_sales
    assert late.number not in only_sales


@pytest.mark.django_db
def test_the_department_inbox_accepts_returns_and_completes(
    engineer: User, dispatch: Callable[..., WorkOrder]
) -> None:
    first, second = dispatch(), dispatch(instructions="寄送滤芯")
    client = _client(engineer)
    # the nav entry leads the engineer (no desk rights) to the inbox
    assert client.get("/workorders/")["Location"] == "/workorders/inbox/"
    inbox = client.get("/workorders/inbox/")
    assert inbox.status_code == 200
    html = inbox.content.decode()
    assert first.number in html
    assert second.number in html
    assert 'data-action="accepted"' in html
    assert 'data-action="returned"' in html
    assert "上海海尔空调有限公司" in html
    transition = f"/workorders/{first.pk}/transition/"
    accepted = client.post(transition, {"to": "accepted", "next": "/workorders/inbox/"})
    assert accepted["Location"] == "/workorders/inbox/"
    done = client.post(transition, {"to": "completed", "result": "已上门修好"}, follow=True)
    assert "派工单" in done.content.decode()
    client.post(f"/workorders/{second.pk}/transition/", {"to": "returned", "note": "缺少地址"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.result) == ("completed", "已上门修好")
    assert (second.status, second.reason) == ("returned", "缺少地址")
    # a refused step says why and changes nothing
    again = client.post(transition, {"to": "returned", "note": "x"}, follow=True)
    assert "不能转到" in again.content.decode()
    # an unsafe next is ignored
    away = client.post(
        f"/workorders/{second.pk}/transition/", {"to": "accepted", "next": "https://evil.test/"}
    )
    assert away["Location"] == f"/workorders/{second.pk}/"
    tabs = client.get("/workorders/inbox/", {"tab": "completed"}).content.decode()
    assert first.number in tabs
    assert second.number not in tabs


@pytest.mark.django_db
def test_the_order_page_shows_history_and_masks_the_mobile(
    engineer: User, dispatch: Callable[..., WorkOrder]
) -> None:
    order = dispatch()
    page = _client(engineer).get(f"/workorders/{order.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert order.number in html
    assert "138****5678" in html
    assert "13812345678" not in html
    assert 'data-testid="work-order-events"' in html
    # the engineer does not see the ticket: its number is not a link
    assert f'href="/tickets/{order.ticket_id}/"' not in html


@pytest.mark.django_db
def test_outsiders_get_404_and_no_rights_403(
    outsider: User,
    auditor: User,
    ticket: Ticket,
    repair: Department,
    dispatch: Callable[..., WorkOrder],
) -> None:
    order = dispatch()
    stranger = _client(outsider)
    assert stranger.get(f"/workorders/{order.pk}/").status_code == 404
    assert (
        stranger.post(f"/workorders/{order.pk}/transition/", {"to": "cancelled"}).status_code == 404
    )
    dispatched = stranger.post(
        f"/workorders/ticket/{ticket.pk}/dispatch/",
        {"department_id": repair.pk, "instructions": "x"},
    )
    assert dispatched.status_code == 404
    assert order.number not in stranger.get("/workorders/").content.decode()
    assert WorkOrder.objects.count() == 1
    # staff who do not work tickets go to their department's inbox
    assert _client(auditor).get("/workorders/")["Location"] == "/workorders/inbox/"
    assert Client().get("/workorders/").status_code == 302  # to the login page


@pytest.mark.django_db
def test_a_resolved_ticket_shows_its_orders_but_takes_no_more_work(
    agent: User, engineer: User, ticket: Ticket, dispatch: Callable[..., WorkOrder]
) -> None:
    from kefu.desk.services import ticket_transition
    from kefu.dispatch.services import workorder_transition

    order = dispatch()
    workorder_transition(actor=engineer, work_order=order, to="returned", note="不归我们")
    ticket_transition(actor=agent, ticket=ticket, to="in_progress")
    ticket_transition(actor=agent, ticket=ticket, to="resolved", note="电话指导解决")
    html = _client(agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert order.number in html
    assert "不归我们" in html
    assert 'data-testid="dispatch-form"' not in html
    assert "不能派工" in html
    assert 'data-action="dispatched"' not in html
    assert 'data-action="cancelled"' in html
