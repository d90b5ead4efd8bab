"""The customer's status page at /support/t/<token>/: public replies only, replies through
the link, wrong and revoked tokens, closed tickets, rate limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.customers.models import Customer
from kefu.desk.models import Ticket, TicketComment
from kefu.desk.services import TicketInput, comment_add, ticket_create, ticket_transition
from kefu.org.models import User
from kefu.portal.models import TicketAccess
from kefu.portal.services import TOKEN_ATTRIBUTE, access_regenerate, token_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone_ticket(
    agent: User, customer: Customer, django_capture_on_commit_callbacks: Any
) -> tuple[Ticket, str]:
    """A ticket an agent opened from a call: it has a status link too (issued on commit)."""
    agent.display_name = "张三丰"
    agent.save(update_fields=["display_name"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket, _created = ticket_create(
            actor=agent,
            data=TicketInput(
                type="inquiry", channel="phone", subject="发票抬头怎么改", customer_id=customer.pk
            ),
        )
    return ticket, getattr(ticket, TOKEN_ATTRIBUTE)


def test_every_ticket_gets_one_link_stored_only_as_a_hash(
    phone_ticket: tuple[Ticket, str],
) -> None:
    ticket, token = phone_ticket
    access = TicketAccess.objects.get(ticket=ticket)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert access.token_hash == token_hash(token) != token
    assert access.revoked_at is None


def test_page_shows_public_replies_never_internal_notes_nor_full_staff_names(
    browser: Client, phone_ticket: tuple[Ticket, str], agent: User
) -> None:
    ticket, token = phone_ticket
    comment_add(actor=agent, ticket=ticket, body="您好，已为您登记，稍后回电。", public=True)
    comment_add(actor=agent, ticket=ticket, body="客户脾气急，注意措辞", public=False)
    response = browser.get(f"/support/t/{token}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert ticket.number in html
    assert "发票抬头怎么改" in html
    assert "您好，已为您登记，稍后回电。" in html
    assert "客户脾气急" not in html
    assert "客服 张**" in html
    assert "张三丰" not in html
    assert response.context["status_label"] == "已收到"
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_reply_through_the_link_resumes_a_ticket_waiting_on_the_customer(
    browser: Client, phone_ticket: tuple[Ticket, str], agent: User
) -> None:
    # given a ticket waiting on the customer
    ticket, token = phone_ticket
    ticket = ticket_transition(actor=agent, ticket=ticket, to="in_progress")
    ticket = ticket_transition(actor=agent, ticket=ticket, to="pending_customer", note="要发票号")
    page = browser.get(f"/support/t/{token}/")
    assert page.context["status_label"] == "等待您的回复"
    # when the customer replies with the invoice photo
    photo = SimpleUploadedFile("发票.png", b"\x89PNG" + b"0" * 10, content_type="image/png")
    response = browser.post(f"/support/t/{token}/", {"body": "发票号 12345678", "files": [photo]})
    # then the reply is on the ticket and the ticket is back in progress
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    reply = TicketComment.objects.get(ticket=ticket, from_customer=True)
    assert (reply.body, reply.via, reply.public) == ("发票号 12345678", "web", True)
    assert reply.attachments.get().filename == "发票.png"
    html = browser.get(response["Location"]).content.decode()
    assert "已收到您的回复" in html
    assert "发票号 12345678" in html


def test_customer_downloads_attachments_of_public_replies_only(
    browser: Client, phone_ticket: tuple[Ticket, str], agent: User
) -> None:
    ticket, token = phone_ticket
    public = SimpleUploadedFile("说明.pdf", b"%PDF-1", content_type="application/pdf")
    secret = SimpleUploadedFile("内部.pdf", b"%PDF-2", content_type="application/pdf")
    comment_add(actor=agent, ticket=ticket, body="见附件", public=True, files=[public])
    comment_add(actor=agent, ticket=ticket, body="内部", public=False, files=[secret])
    shown, hidden = ticket.attachments.order_by("id")
    response = browser.get(f"/support/t/{token}/files/{shown.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1"  # type: ignore[attr-defined]
    assert browser.get(f"/support/t/{token}/files/{hidden.pk}/").status_code == 404


def test_empty_reply_or_bad_file_is_refused_and_nothing_stored(
    browser: Client, phone_ticket: tuple[Ticket, str]
) -> None:
    ticket, token = phone_ticket
    response = browser.post(f"/support/t/{token}/", {"body": "  "})
    assert response.status_code == 422
    assert "此项为必填项" in response.context["errors"]["body"][0]
    exe = SimpleUploadedFile("a.exe", b"MZ", content_type="application/octet-stream")
    response = browser.post(f"/support/t/{token}/", {"body": "看附件", "files": [exe]})
    assert response.status_code == 422
    assert not TicketComment.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize("token", ["x" * 43, "short", "%2E%2E", "a" * 200])
def test_wrong_token_is_a_plain_404(
    browser: Client, phone_ticket: tuple[Ticket, str], token: str
) -> None:
    response = browser.get(f"/support/t/{token}/")
    assert response.status_code == 404
    assert phone_ticket[0].number not in response.content.decode()
    assert browser.post(f"/support/t/{token}/", {"body": "hi"}).status_code == 404
    assert not TicketComment.objects.exists()


def test_a_new_link_revokes_the_old_one(
    browser: Client, phone_ticket: tuple[Ticket, str], agent: User
) -> None:
    ticket, old = phone_ticket
    new = access_regenerate(actor=agent, ticket=ticket)
    assert browser.get(f"/support/t/{old}/").status_code == 404
    assert browser.get(f"/support/t/{new}/").status_code == 200
    assert TicketAccess.objects.filter(ticket=ticket, revoked_at__isnull=True).count() == 1


def test_closed_ticket_is_read_only(
    browser: Client, phone_ticket: tuple[Ticket, str], agent: User
) -> None:
    ticket, token = phone_ticket
    ticket = ticket_transition(actor=agent, ticket=ticket, to="in_progress")
    ticket = ticket_transition(actor=agent, ticket=ticket, to="resolved", note="已告知")
    ticket_transition(actor=agent, ticket=ticket, to="closed")
    page = browser.get(f"/support/t/{token}/")
    assert page.context["closed"]
    assert page.context["status_label"] == "已结束"
    assert 'data-testid="reply-form"' not in page.content.decode()
    assert 'data-testid="closed-note"' in page.content.decode()
    response = browser.post(f"/support/t/{token}/", {"body": "还没好"})
    assert response.status_code == 409
    assert not TicketComment.objects.filter(from_customer=True).exists()


def test_replies_are_rate_limited_per_address(
    browser: Client, phone_ticket: tuple[Ticket, str], settings: Any
) -> None:
    settings.PORTAL_RATE = "1/h"
    _ticket, token = phone_ticket
    assert browser.post(f"/support/t/{token}/", {"body": "一"}).status_code == 302
    response = browser.post(f"/support/t/{token}/", {"body": "二"})
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode()
    assert TicketComment.objects.filter(from_customer=True).count() == 1


def test_status_link_is_public_but_other_pages_stay_behind_login(
    phone_ticket: tuple[Ticket, str], make_user: Callable[..., User]
) -> None:
    ticket, _token = phone_ticket
    anonymous = Client()
    assert anonymous.get(f"/tickets/{ticket.pk}/").status_code == 302
    assert anonymous.post(f"/support/agent/tickets/{ticket.pk}/link/").status_code == 302
