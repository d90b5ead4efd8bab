"""Comments with attachments (type and size limits, storage API, served only within scope),
the agent pages, and webhooks (signed, logged, retried by Huey)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from kefu.customers.models import Customer
from kefu.desk.models import Ticket, TicketAttachment, WebhookDelivery, WebhookSubscription
from kefu.desk.webhooks import webhook_deliver
from kefu.org.models import User


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_reply_with_an_attachment_is_stored_and_served_in_scope_only(
    agent: User, outsider: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    photo = SimpleUploadedFile("漏水.png", b"\x89PNG fake image", content_type="image/png")
    answer = _login(agent).post(
        f"/tickets/{ticket.pk}/comment/", {"body": "现场照片", "public": "0", "files": [photo]}
    )
    assert answer.status_code == 302
    attachment = TicketAttachment.objects.get()
    assert attachment.comment is not None
    assert (attachment.filename, attachment.size, attachment.comment.public) == (
        "漏水.png",
        15,
        False,
    )
    url = f"/tickets/{ticket.pk}/attachments/{attachment.pk}/"
    served = _login(agent).get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"\x89PNG fake image"  # type: ignore[attr-defined]
    assert _login(outsider).get(url).status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).first_responded_at is None  # a note, not a reply


@pytest.mark.django_db
@override_settings(TICKET_ATTACHMENT_MAX_BYTES=10)
def test_attachments_over_the_limit_or_of_other_types_are_refused(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    client = _login(agent)
    for upload, reason in (
        (SimpleUploadedFile("big.pdf", b"x" * 11), "上限"),
        (SimpleUploadedFile("run.exe", b"MZ"), "不支持的文件类型"),
    ):
        answer = client.post(
            f"/tickets/{ticket.pk}/comment/", {"body": "附件", "files": [upload]}, follow=True
        )
        assert reason in answer.content.decode()
    assert not TicketAttachment.objects.exists()
    assert not ticket.comments.exists()  # nothing half-done


@pytest.mark.django_db
def test_agent_pages_list_create_and_work_a_ticket(
    agent: User, outsider: User, customer: Customer
) -> None:
    client = _login(agent)
    form = client.get(f"/tickets/new/?customer={customer.pk}")
    assert form.status_code == 200
    assert customer.name in form.content.decode()
    created = client.post(
        "/tickets/new/",
        {
            "type": "inquiry",
            "channel": "phone",
            "priority": "normal",
            "subject": "来电咨询延保",
            "customer_id": customer.pk,
            "idempotency_key": "form-1",
        },
    )
    assert created.status_code == 302
    ticket = Ticket.objects.get()
    again = client.post(  # a double click sends the same form twice: one ticket
        "/tickets/new/",
        {
            "type": "inquiry",
            "channel": "phone",
            "subject": "来电咨询延保",
            "idempotency_key": "form-1",
        },
    )
    assert again.status_code == 302
    assert Ticket.objects.count() == 1
    listing = client.get("/tickets/?queue=open&q=延保").content.decode()
    assert ticket.number in listing
    detail = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-to="in_progress"' in detail
    moved = client.post(f"/tickets/{ticket.pk}/transition/", {"to": "in_progress"})
    assert moved.status_code == 302
    assert Ticket.objects.get().status == "in_progress"
    refused = client.post(f"/tickets/{ticket.pk}/transition/", {"to": "closed"}, follow=True)
    assert "不能转到" in refused.content.decode()
    bad = client.post("/tickets/new/", {"type": "fax", "channel": "phone", "subject": "x"})
    assert bad.status_code == 422
    assert "无效" in bad.content.decode()
    assert _login(outsider).get(f"/tickets/{ticket.pk}/").status_code == 404
    # the bell counts unread notifications on every page
    from kefu.desk.models import Notification

    Notification.objects.create(user=agent, ticket=ticket, kind="sla_warning", message="即将超时")
    page = client.get("/tickets/").content.decode()
    assert 'data-testid="bell-count">1<' in page
    client.post("/tickets/notifications/")
    assert 'data-testid="bell-count"' not in client.get("/tickets/").content.decode()
    assert ticket.number not in _login(outsider).get("/tickets/?queue=all").content.decode()


@pytest.mark.django_db
def test_the_customer_archive_timeline_shows_tickets(
    agent: User, customer: Customer, open_ticket: Callable[..., Ticket]
) -> None:
    from kefu.customers.archive import timeline_for

    ticket = open_ticket("complaint")
    events = [event for event in timeline_for(customer, agent) if event.kind == "ticket"]
    assert [event.extra["ticket_id"] for event in events] == [ticket.pk]
    assert ticket.number in events[0].title


# --- webhooks ----------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        type(self).received.append((dict(self.headers), self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_a_created_ticket_is_posted_signed_to_subscribers(
    receiver: tuple[str, type[_Receiver]],
    open_ticket: Callable[..., Ticket],
    django_capture_on_commit_callbacks: Any,
) -> None:
    url, handler = receiver
    WebhookSubscription.objects.create(url=url, secret="s3cret", events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    headers, body = handler.received[0]
    expected = hmac.new(
        b"s3cret", headers["X-Kefu-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Kefu-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert (payload["event"], payload["ticket"]["number"]) == ("ticket.created", ticket.number)
    assert payload["ticket"]["resolution_due"].endswith("+08:00")


@pytest.mark.django_db
def test_a_failing_subscriber_is_logged_and_retried_until_given_up(
    receiver: tuple[str, type[_Receiver]], open_ticket: Callable[..., Ticket]
) -> None:
    url, handler = receiver
    handler.status = 503
    subscription = WebhookSubscription.objects.create(
        url=url, secret="k", events=["ticket.updated"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="ticket.updated", payload={"ticket": {"id": 1}}
    )
    with pytest.raises(Exception, match="HTTP 503"):  # Huey retries a task that raises
        webhook_deliver(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 503")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=7)
    assert webhook_deliver(delivery.pk) == "failed"  # the 8th attempt was the last
    handler.status = 200
    assert webhook_deliver(delivery.pk) == "failed"  # a given-up delivery stays given up


def test_the_delivery_task_retries_with_exponential_backoff() -> None:
    from kefu.desk.tasks import webhook_deliver_task

    task = webhook_deliver_task.task_class
    assert (task.default_retries, task.default_retry_delay) == (7, 30)
    assert task.default_retry_backoff == 2


@pytest.mark.django_db
def test_a_breach_is_posted_to_breach_subscribers(
    receiver: tuple[str, type[_Receiver]],
    open_ticket: Callable[..., Ticket],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from kefu.desk.escalation import tickets_sla_check

    url, handler = receiver
    WebhookSubscription.objects.create(url=url, secret="k", events=["ticket.breached"])
    ticket = open_ticket(priority="urgent")
    assert ticket.first_response_due is not None
    with django_capture_on_commit_callbacks(execute=True):
        tickets_sla_check(now=ticket.first_response_due)
    assert [json.loads(body)["event"] for _headers, body in handler.received] == ["ticket.breached"]
    assert WebhookDelivery.objects.get().status == "delivered"


@pytest.mark.django_db
def test_a_patch_a_comment_and_a_transition_each_post_ticket_updated(
    receiver: tuple[str, type[_Receiver]],
    open_ticket: Callable[..., Ticket],
    api_as: Callable[[User], Any],
    agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a subscriber of updates only, and a ticket (its creation is not posted to it)
    url, handler = receiver
    WebhookSubscription.objects.create(url=url, secret="k", events=["ticket.updated"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_ticket()
    assert handler.received == []
    client = api_as(agent)
    path = f"/api/v1/tickets/{ticket.pk}"
    # when the agent raises the priority, replies, and starts work on it
    with django_capture_on_commit_callbacks(execute=True):
        assert client.patch(path, {"priority": "urgent"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        reply = {"body": "您好，已安排师傅今天下午上门。", "public": True}
        assert client.post(f"{path}/comments", reply).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"{path}/transitions", {"to": "in_progress", "note": "处理中"})
        assert answer.status_code == 200, answer.content
    # then each was posted, signed, as ticket.updated with the ticket as it then stood
    payloads = [json.loads(body) for _headers, body in handler.received]
    assert [p["event"] for p in payloads] == ["ticket.updated"] * 3
    assert {p["ticket"]["number"] for p in payloads} == {ticket.number}
    assert payloads[0]["ticket"]["priority"] == "urgent"
    assert payloads[2]["ticket"]["status"] == "in_progress"
    assert all(d.status == "delivered" for d in WebhookDelivery.objects.all())
    assert WebhookDelivery.objects.count() == 3
