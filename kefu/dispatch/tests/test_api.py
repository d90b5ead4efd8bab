"""/api/v1/tickets/{id}/work-orders and /api/v1/work-orders: the documented shapes, the desk's
error format (409 with error.allowed, 403, 400 in Chinese), retries, filters, and scope (an
outsider gets 404; a department sees its own orders without seeing the ticket)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from kefu.desk.models import Ticket
from kefu.dispatch.models import WorkOrder
from kefu.org.models import Department, User


def _path(ticket: Ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/work-orders"


@pytest.mark.django_db
def test_dispatch_and_work_an_order_over_the_api(
    api_as: Callable[..., Any], agent: User, engineer: User, ticket: Ticket, repair: Department
) -> None:
    desk, department = api_as(agent), api_as(engineer)
    # the desk dispatches
    made = desk.post(_path(ticket), {"department_id": repair.pk, "instructions": "上门检查"})
    assert made.status_code == 201, made.content
    order = made.json()
    assert order["number"].startswith("PG")
    assert order["status"] == "dispatched"
    assert order["department"] == {"id": repair.pk, "name": "维修部"}
    assert order["deadline"].endswith("+08:00")
    assert order["allowed_transitions"] == [{"to": "cancelled", "label": "已撤销"}]
    assert [event["to_status"] for event in order["events"]] == ["dispatched"]
    # the ticket lists it
    listed = desk.get(_path(ticket)).json()
    assert [item["number"] for item in listed["items"]] == [order["number"]]
    assert listed["count"] == 1
    # the department accepts and completes
    url = f"/api/v1/work-orders/{order['id']}/transitions"
    accepted = department.post(url, {"to": "accepted"})
    assert accepted.status_code == 200, accepted.content
    assert [a["to"] for a in accepted.json()["allowed_transitions"]] == ["returned", "completed"]
    completed = department.post(url, {"to": "completed", "result": "已更换排水管"})
    assert completed.status_code == 200
    body = completed.json()
    assert body["status"] == "completed"
    assert body["result"] == "已更换排水管"
    assert body["completed_by"]["name"] == "engineer"
    assert [e["to_status"] for e in body["events"]] == ["dispatched", "accepted", "completed"]


@pytest.mark.django_db
def test_transition_errors_follow_the_desk_format(
    api_as: Callable[..., Any], agent: User, engineer: User, dispatch: Callable[..., WorkOrder]
) -> None:
    order = dispatch()
    url = f"/api/v1/work-orders/{order.pk}/transitions"
    # a step that does not exist: 409 with the allowed ones
    skipped = api_as(engineer).post(url, {"to": "completed", "result": "好了"})
    assert skipped.status_code == 409
    error = skipped.json()["error"]
    assert error["code"] == "transition_not_allowed"
    assert error["allowed"] == ["accepted", "returned"]
    assert "不能转到" in error["message"]
    # the wrong role: 403, and what the user may do instead
    forbidden = api_as(agent).post(url, {"to": "accepted"})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["allowed"] == ["cancelled"]
    # a reason missing: 400 naming the field, in Chinese
    no_reason = api_as(engineer).post(url, {"to": "returned"})
    assert no_reason.status_code == 400
    assert no_reason.json()["error"]["fields"] == {"note": ["请填写原因。"]}
    # a body that is not an object, a missing "to"
    assert api_as(engineer).post(url, []).status_code in (400, 422)
    assert api_as(engineer).post(url, {"note": "x"}).status_code in (400, 422)
    order.refresh_from_db()
    assert order.status == "dispatched"
    assert order.events.count() == 1


@pytest.mark.django_db
def test_dispatch_input_errors_and_retries(
    api_as: Callable[..., Any], agent: User, ticket: Ticket, repair: Department
) -> None:
    client = api_as(agent)
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    bad = client.post(
        _path(ticket), {"department_id": repair.pk, "instructions": "x", "deadline": past}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"deadline": ["完成时限必须晚于现在。"]}
    unknown = client.post(_path(ticket), {"department_id": 999_999, "instructions": "x"})
    assert unknown.status_code == 400
    assert "department_id" in unknown.json()["error"]["fields"]
    missing = client.post(_path(ticket), {"department_id": repair.pk})
    assert missing.status_code in (400, 422)
    assert "instructions" in missing.json()["error"]["fields"]
    assert not WorkOrder.objects.exists()
    # a retry with the same key answers the first order with 200
    client.headers["Idempotency-Key"] = "wo-retry-1"
    deadline = (timezone.now() + dt.timedelta(days=1)).isoformat()
    body = {"department_id": repair.pk, "instructions": "上门", "deadline": deadline}
    first = client.post(_path(ticket), body)
    again = client.post(_path(ticket), body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert WorkOrder.objects.count() == 1


@pytest.mark.django_db
def test_a_resolved_ticket_takes_no_dispatch(
    api_as: Callable[..., Any], supervisor: User, ticket: Ticket, repair: Department
) -> None:
    from kefu.desk.services import ticket_transition

    ticket_transition(actor=supervisor, ticket=ticket, to="cancelled", note="重复")
    answer = api_as(supervisor).post(
        _path(ticket), {"department_id": repair.pk, "instructions": "上门"}
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "ticket_closed"


@pytest.mark.django_db
def test_the_list_filters_by_status_department_and_overdue(
    api_as: Callable[..., Any],
    manager: User,
    engineer: User,
    org: dict[str, Any],
    dispatch: Callable[..., WorkOrder],
) -> None:
    late = dispatch()
    WorkOrder.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    to_sales = dispatch(department_id=org["sales"].pk)
    accepted = dispatch()
    from kefu.dispatch.services import workorder_transition

    workorder_transition(actor=engineer, work_order=accepted, to="accepted")
    client = api_as(manager)

    def numbers(**params: Any) -> list[str]:
        answer = client.get("/api/v1/work-orders", **params)
        assert answer.status_code == 200, answer.content
        return sorted(item["number"] for item in answer.json()["items"])

    assert numbers() == sorted([late.number, to_sales.number, accepted.number])
    assert numbers(overdue="true") == [late.number]
    assert numbers(overdue="false") == sorted([to_sales.number, accepted.number])
    assert numbers(department_id=org["sales"].pk) == [to_sales.number]
    assert numbers(status="accepted") == [accepted.number]
    assert numbers(status="dispatched,accepted", department_id=org["repair"].pk) == sorted(
        [late.number, accepted.number]
    )
    assert numbers(status="completed") == []
    overdue_item = client.get("/api/v1/work-orders", overdue="true").json()["items"][0]
    assert overdue_item["overdue"] is True
    bad = client.get("/api/v1/work-orders", status="done")
    assert bad.status_code == 400
    assert "done" in bad.json()["error"]["fields"]["status"][0]


@pytest.mark.django_db
def test_scope_outsiders_get_404_and_departments_see_their_own(
    api_as: Callable[..., Any],
    outsider: User,
    engineer: User,
    salesman: User,
    ticket: Ticket,
    dispatch: Callable[..., WorkOrder],
) -> None:
    order = dispatch()
    # an agent of another team sees neither the ticket's orders nor the order
    stranger = api_as(outsider)
    assert stranger.get(_path(ticket)).status_code == 404
    assert stranger.get(f"/api/v1/work-orders/{order.pk}").status_code == 404
    moved = stranger.post(f"/api/v1/work-orders/{order.pk}/transitions", {"to": "cancelled"})
    assert moved.status_code == 404
    assert stranger.get("/api/v1/work-orders").json()["items"] == []
    # the engineer sees the order (not the ticket), the salesman nothing
    assert api_as(engineer).get(f"/api/v1/work-orders/{order.pk}").status_code == 200
    assert [i["id"] for i in api_as(engineer).get("/api/v1/work-orders").json()["items"]] == [
        order.pk
    ]
    assert api_as(salesman).get(f"/api/v1/work-orders/{order.pk}").status_code == 404
    assert api_as(None).get("/api/v1/work-orders").status_code == 401


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_more_orders(
    api_as: Callable[..., Any],
    supervisor: User,
    engineer: User,
    dispatch: Callable[..., WorkOrder],
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kefu.dispatch.services import workorder_transition

    client = api_as(supervisor)

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get("/api/v1/work-orders", page_size=100)
        assert answer.status_code == 200
        return len(queries)

    for _ in range(2):
        workorder_transition(actor=engineer, work_order=dispatch(), to="accepted")
    cost()  # warm the permission and scope caches
    few = cost()
    for _ in range(6):
        workorder_transition(actor=engineer, work_order=dispatch(), to="accepted")
    assert cost() == few
    assert few <= 6
