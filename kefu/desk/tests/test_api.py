"""The tickets API (issue 4 item 10): shapes and field names, filters and search, idempotent
creates (also under concurrency), bad inputs answered in Chinese, scope (404 outside it)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from kefu.customers.models import Customer
from kefu.desk.models import Ticket
from kefu.desk.services import TicketInput, ticket_create
from kefu.desk.tests.concurrency import in_thread, run_threads, shared_database, unwrap
from kefu.org.models import User

ISO_SHANGHAI = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$")


def _body(customer: Customer, **extra: Any) -> dict[str, Any]:
    return {
        "type": "complaint",
        "channel": "phone",
        "customer_id": customer.pk,
        "subject": "空调安装后漏水",
        "body": "客户来电：安装第二天开始漏水。",
        "priority": "high",
        **extra,
    }


@pytest.mark.django_db
def test_create_answers_the_documented_shape(
    api_as: Callable[..., Any], agent: User, customer: Customer
) -> None:
    answer = api_as(agent).post("/api/v1/tickets", _body(customer))
    assert answer.status_code == 201, answer.content
    ticket = answer.json()
    assert re.fullmatch(r"GD\d{8}-\d{6}", ticket["number"])
    assert ticket["status"] == "registered"
    assert ticket["type"] == "complaint"
    assert ticket["priority"] == "high"
    for name in ("first_response_due", "resolution_due", "created_at"):
        assert ISO_SHANGHAI.match(ticket[name]), ticket[name]
    assert ticket["customer"] == {"id": customer.pk, "name": customer.name}
    assert ticket["team"]["id"] == customer.serving_team_id


@pytest.mark.django_db
def test_create_costs_a_handful_of_queries(
    api_as: Callable[..., Any], agent: User, customer: Customer
) -> None:
    client = api_as(agent)
    client.post("/api/v1/tickets", _body(customer))  # warm the permission and scope caches
    with CaptureQueriesContext(connection) as queries:
        answer = client.post("/api/v1/tickets", _body(customer))
    assert answer.status_code == 201
    # token, customer with its team, counter, ticket, grams, transition, audit, status link
    # (+ savepoints); the answer names the team without a query of its own
    writes_and_reads = [q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(writes_and_reads) <= 8, [q["sql"][:80] for q in writes_and_reads]
    assert not any('FROM "org_team"' in q["sql"] for q in writes_and_reads)
    assert answer.json()["team"] == {"id": customer.serving_team_id, "name": "客服一组"}


@pytest.mark.django_db
def test_the_same_idempotency_key_returns_the_first_ticket(
    api_as: Callable[..., Any], agent: User, supervisor: User, customer: Customer
) -> None:
    client = api_as(agent)
    client.headers["Idempotency-Key"] = "call-20261125-0001"
    first = client.post("/api/v1/tickets", _body(customer))
    again = client.post("/api/v1/tickets", _body(customer, subject="重发的请求"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    # the key is the user's: another user's same key is another ticket
    other = api_as(supervisor)
    other.headers["Idempotency-Key"] = "call-20261125-0001"
    assert other.post("/api/v1/tickets", _body(customer)).status_code == 201
    assert Ticket.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_make_one_ticket(
    agent: User, customer: Customer, tmp_path: Path
) -> None:
    data = TicketInput(type="inquiry", channel="web", subject="网页咨询", customer_id=customer.pk)
    with shared_database(tmp_path):
        results = unwrap(
            run_threads(
                8,
                lambda _i: ticket_create(actor=agent, data=data, idempotency_key="web-form-42"),
            )
        )
        stored = in_thread(lambda: list(Ticket.objects.values_list("id", "number")))
    assert len({ticket.pk for ticket, _created in results}) == 1
    assert sorted(created for _ticket, created in results) == [False] * 7 + [True]
    assert len(stored) == 1
    assert stored[0][1].endswith("-000001")  # the losers gave their numbers back


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [("type", "question"), ("channel", "fax"), ("priority", "P1")],
)
def test_unknown_choices_are_a_400_in_chinese(
    api_as: Callable[..., Any], agent: User, customer: Customer, field: str, value: str
) -> None:
    answer = api_as(agent).post("/api/v1/tickets", _body(customer, **{field: value}))
    assert answer.status_code == 400
    message = answer.json()["error"]["fields"][field][0]
    assert value in message
    assert "无效" in message
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_customer_out_of_scope_is_not_found(
    api_as: Callable[..., Any], outsider: User, customer: Customer
) -> None:
    answer = api_as(outsider).post("/api/v1/tickets", _body(customer))
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "客户不存在。"


@pytest.mark.django_db
def test_missing_fields_and_foreign_references_are_refused(
    api_as: Callable[..., Any], agent: User, customer: Customer, org: dict[str, Any]
) -> None:
    client = api_as(agent)
    missing = client.post("/api/v1/tickets", {"type": "inquiry", "channel": "web"})
    assert missing.status_code == 422
    assert "subject" in missing.json()["error"]["fields"]
    other = Customer.objects.create(name="别家客户", serving_team=org["team_a"])
    contact = other.contacts.create(name="王五", mobile="+8613900000000")
    foreign = client.post("/api/v1/tickets", _body(customer, contact_id=contact.pk))
    assert foreign.status_code == 400
    assert foreign.json()["error"]["fields"]["contact_id"] == ["联系人不存在或不属于该客户。"]


@pytest.mark.django_db
def test_an_unknown_sender_may_have_no_customer(api_as: Callable[..., Any], agent: User) -> None:
    answer = api_as(agent).post(
        "/api/v1/tickets",
        {"type": "inquiry", "channel": "email", "subject": "询价：商用净水器"},
    )
    assert answer.status_code == 201
    assert answer.json()["customer_id"] is None


@pytest.mark.django_db
def test_outsiders_get_404_on_detail_and_writes(
    api_as: Callable[..., Any], agent: User, outsider: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    client = api_as(outsider)
    assert client.get(f"/api/v1/tickets/{ticket.pk}").status_code == 404
    assert client.patch(f"/api/v1/tickets/{ticket.pk}", {"priority": "high"}).status_code == 404
    assert client.post(f"/api/v1/tickets/{ticket.pk}/comments", {"body": "x"}).status_code == 404
    assert (
        client.post(f"/api/v1/tickets/{ticket.pk}/transitions", {"to": "open"}).status_code == 404
    )
    assert client.get("/api/v1/tickets").json() == {"items": [], "count": 0}


@pytest.mark.django_db
def test_detail_patch_comment_and_transition(
    api_as: Callable[..., Any], agent: User, supervisor: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    client = api_as(agent)
    detail = client.get(f"/api/v1/tickets/{ticket.pk}").json()
    assert [step["to"] for step in detail["allowed_transitions"]] == ["open", "in_progress"]
    patched = client.patch(
        f"/api/v1/tickets/{ticket.pk}", {"priority": "urgent", "assignee_id": supervisor.pk}
    )
    assert patched.status_code == 200
    assert patched.json()["priority"] == "urgent"
    assert patched.json()["assignee"]["id"] == supervisor.pk
    replied = client.post(
        f"/api/v1/tickets/{ticket.pk}/comments", {"body": "您好，已安排师傅", "public": True}
    )
    assert replied.status_code == 201
    assert replied.json()["comments"][0]["public"] is True
    assert replied.json()["first_responded_at"] is not None
    moved = client.post(f"/api/v1/tickets/{ticket.pk}/transitions", {"to": "in_progress"})
    assert moved.status_code == 200
    assert moved.json()["status"] == "in_progress"
    assert [t["to_status"] for t in moved.json()["transitions"]] == ["new", "in_progress"]


@pytest.mark.django_db
def test_transition_refusals_list_the_allowed_statuses(
    api_as: Callable[..., Any], agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    client = api_as(agent)
    conflict = client.post(f"/api/v1/tickets/{ticket.pk}/transitions", {"to": "resolved"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["allowed"] == ["open", "in_progress"]
    assert "不能转到" in conflict.json()["error"]["message"]
    Ticket.objects.filter(pk=ticket.pk).update(status="in_progress")
    forbidden = client.post(
        f"/api/v1/tickets/{ticket.pk}/transitions", {"to": "cancelled", "note": "重复"}
    )
    assert forbidden.status_code == 403
    assert "客服主管" in forbidden.json()["error"]["message"]
    unknown = client.post(f"/api/v1/tickets/{ticket.pk}/transitions", {"to": "flying"})
    assert unknown.status_code == 409


@pytest.mark.django_db
def test_list_filters_and_search(
    api_as: Callable[..., Any],
    agent: User,
    supervisor: User,
    customer: Customer,
    open_ticket: Callable[..., Ticket],
) -> None:
    leak = open_ticket("repair", subject="空调漏水")
    inquiry = open_ticket("inquiry", subject="咨询保修期", assignee_id=agent.pk)
    complaint = open_ticket("complaint", subject="安装师傅态度差")
    Ticket.objects.filter(pk=complaint.pk).update(sla_breached=True)
    client = api_as(agent)

    def ids(**params: Any) -> list[int]:
        answer = client.get("/api/v1/tickets", **params)
        assert answer.status_code == 200, answer.content
        return [item["id"] for item in answer.json()["items"]]

    assert ids() == [complaint.pk, inquiry.pk, leak.pk]
    assert ids(type="repair") == [leak.pk]
    assert ids(status="registered") == [complaint.pk]
    assert ids(assignee=agent.pk) == [inquiry.pk]
    assert ids(team=customer.serving_team_id, customer_id=customer.pk) == [
        complaint.pk,
        inquiry.pk,
        leak.pk,
    ]
    assert ids(breached="true") == [complaint.pk]
    assert ids(queue="mine") == [inquiry.pk]
    assert ids(queue="unassigned") == [complaint.pk, leak.pk]
    assert ids(q="漏水") == [leak.pk]  # a 2-character Chinese fragment
    assert ids(q="保修期") == [inquiry.pk]
    assert ids(q=inquiry.number) == [inquiry.pk]  # the number
    assert ids(q="13812345678") == [complaint.pk, inquiry.pk, leak.pk]  # the customer's mobile
    assert ids(q="冰箱") == []
    page = client.get("/api/v1/tickets", page_size=2).json()
    assert (len(page["items"]), page["count"]) == (2, 3)
    assert ids(before_id=inquiry.pk) == [leak.pk]
    assert client.get("/api/v1/tickets", queue="nope").status_code == 400


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_few_or_many_tickets(
    api_as: Callable[..., Any], agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    client = api_as(agent)
    open_ticket(assignee_id=agent.pk)
    client.get("/api/v1/tickets")  # warm the permission and scope caches
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/tickets", page_size=5)
    for _ in range(8):
        open_ticket(assignee_id=agent.pk)
    with CaptureQueriesContext(connection) as many:
        answer = client.get("/api/v1/tickets", page_size=5)
    assert len(answer.json()["items"]) == 5
    assert answer.json()["count"] == 9
    # the first page reads its capped count with its ids: no more queries, none per row
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_list_page_costs_the_same_few_queries_whatever_its_length(
    api_as: Callable[..., Any],
    agent: User,
    customer: Customer,
    open_ticket: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    for number in range(12):
        open_ticket(subject=f"空调故障第{number}次", assignee_id=agent.pk)
    client = api_as(agent)
    # token, the page's ids (and with them its capped count), its rows with
    # customer/assignee/team, the page's work order counts (one GROUP BY over its ids,
    # kefu.desk.listing)
    with django_assert_max_num_queries(5):
        answer = client.get("/api/v1/tickets?page_size=10")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 12
    first = body["items"][0]
    assert first["customer"] == {"id": customer.pk, "name": customer.name}
    assert first["assignee"]["id"] == agent.pk
    assert first["team"]["name"]
    assert first["resolution_due"]


@pytest.mark.django_db
@pytest.mark.parametrize(("tickets", "count"), [(3, 3), (4, 4), (5, 5), (9, 5)])
def test_the_count_stops_one_past_the_cap_on_every_page(
    api_as: Callable[..., Any],
    agent: User,
    open_ticket: Callable[..., Ticket],
    monkeypatch: pytest.MonkeyPatch,
    tickets: int,
    count: int,
) -> None:
    # given a list count capped at 4 (1,000 in production: beyond it the list says "1000+")
    monkeypatch.setattr("kefu.desk.selectors.COUNT_CAP", 4)
    made = [open_ticket(assignee_id=agent.pk).pk for _ in range(tickets)]
    client = api_as(agent)
    # when the first page (its count read with its ids) and a later page (a count query) load
    first = client.get("/api/v1/tickets", page_size=2).json()
    second = client.get("/api/v1/tickets", page_size=2, page=2).json()
    # then both pages give the same count: the number of tickets, or the cap plus one
    assert first["count"] == second["count"] == count
    assert [item["id"] for item in first["items"] + second["items"]] == sorted(made)[::-1][:4]


@pytest.mark.django_db
@pytest.mark.parametrize("rare_limit", [0, 1, 2_000])
def test_a_word_search_finds_the_same_tickets_whether_its_words_are_rare_or_common(
    api_as: Callable[..., Any],
    agent: User,
    open_ticket: Callable[..., Ticket],
    monkeypatch: pytest.MonkeyPatch,
    rare_limit: int,
) -> None:
    # 漏水 is on two tickets, 空调 on three: with a limit of 1 neither is rare (the newest
    # tickets are walked), with 0 none, with 2,000 the rarest is looked up by its ids
    from kefu.desk import selectors

    monkeypatch.setattr(selectors, "RARE_GRAM_LIMIT", rare_limit)
    first = open_ticket("repair", subject="空调漏水")
    open_ticket("repair", subject="空调不制冷")
    third = open_ticket("repair", subject="楼上漏水到我家空调上")
    open_ticket("inquiry", subject="冰箱漏电")
    client = api_as(agent)
    answer = client.get("/api/v1/tickets", q="空调漏水").json()
    assert [item["id"] for item in answer["items"]] == [first.pk]
    answer = client.get("/api/v1/tickets", q="漏水").json()
    assert [item["id"] for item in answer["items"]] == [third.pk, first.pk]
    assert answer["count"] == 2


@pytest.mark.django_db
def test_the_type_and_status_labels_follow_the_callers_language(
    api_as: Callable[..., Any], agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    open_ticket("inquiry")
    client = api_as(agent)
    chinese = client.get("/api/v1/tickets").json()["items"][0]
    assert (chinese["type_display"], chinese["status_display"]) == ("咨询", "新建")
    client.headers["Accept-Language"] = "en"
    english = client.get("/api/v1/tickets").json()["items"][0]
    assert (english["type_display"], english["status_display"]) == ("Inquiry", "New")


@pytest.mark.django_db
def test_the_answers_built_without_validation_dump_as_the_validated_ones(
    api_as: Callable[..., Any], agent: User, customer: Customer
) -> None:
    """list, detail and create hand Ninja a schema instance made without validation
    (kefu.api.output.trusted): it must dump exactly as validating the same dict does."""
    from kefu.api.api import api
    from kefu.api.output import trusted, trusted_json
    from kefu.desk.api import ticket_detail_out, ticket_out
    from kefu.desk.schemas import TicketDetailOut, TicketListOut, TicketOut

    client = api_as(agent)
    created = client.post("/api/v1/tickets", _body(customer)).json()
    comment = client.post(
        f"/api/v1/tickets/{created['id']}/comments", {"body": "已联系客户", "public": True}
    )
    assert comment.status_code == 201, comment.content
    ticket = Ticket.objects.get(pk=created["id"])
    detail = ticket_detail_out(ticket, agent)
    assert detail["comments"]
    assert detail["transitions"]
    one = ticket_out(ticket, {"workorders_open": 2, "workorders_overdue": 1})
    listed = {"items": [one, ticket_out(ticket)], "count": 2}
    for schema, data in ((TicketDetailOut, detail), (TicketListOut, listed), (TicketOut, one)):
        validated = schema.model_validate(data).model_dump()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # pydantic warns when it dumps a value of a wrong type
            assert trusted(schema, data).model_dump() == validated
        # and the JSON written directly is, byte for byte, the one Ninja writes for it
        ninja = api.create_response(RequestFactory().get("/"), validated, status=200)
        direct = trusted_json(schema, data)
        assert direct.content == ninja.content
        assert direct["Content-Type"] == ninja["Content-Type"]
    # and the API answers with it
    answer = client.get(f"/api/v1/tickets/{ticket.pk}").json()
    assert answer["comments"][0]["body"] == "已联系客户"
    assert answer["customer"] == {"id": customer.pk, "name": customer.name}
