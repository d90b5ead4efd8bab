"""The staff mail page and the ticket page's mail panel: masked addresses, permissions."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.desk.models import Ticket
from kefu.mail.models import InboundMail
from kefu.mail.parsing import html_to_text, parse_message
from kefu.mail.services import inbound_process, mask_email
from kefu.mail.testing import make_mail
from kefu.org.models import User


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_ticket_page_shows_the_mail_panel_with_the_sender_masked(
    manager: User, org: dict[str, object]
) -> None:
    inbound_process(raw=make_mail(sender="王五 <wangwu@kehu.cn>"))
    ticket = Ticket.objects.get()
    page = _client(manager).get(f"/tickets/{ticket.pk}/")
    html = page.content.decode()
    assert 'data-testid="mail-panel"' in html
    assert "w***@kehu.cn" in html
    assert "wangwu@kehu.cn" not in html


@pytest.mark.django_db
def test_the_mail_log_is_for_staff_with_the_permission_and_masks_addresses(
    manager: User, agent: User, make_user: object
) -> None:
    inbound_process(raw=make_mail(sender="wangwu@kehu.cn", subject="报修"))
    page = _client(manager).get("/mail/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "w***@kehu.cn" in html
    assert "wangwu@kehu.cn" not in html
    assert Ticket.objects.get().number in html
    assert _client(agent).get("/mail/").status_code == 403
    admin = make_user("sysadmin", "admin")  # type: ignore[operator]
    assert _client(admin).get("/mail/?status=failed").status_code == 200


def test_masking_keeps_the_domain() -> None:
    assert mask_email("zhang.san@example.com") == "z***@example.com"
    assert mask_email("") == ""


def test_an_html_only_mail_is_read_as_text() -> None:
    html = "<html><head><style>p{}</style></head><body><p>您好</p><p>空调&nbsp;漏水</p></body>"
    raw = (
        b"From: a@b.cn\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + html.encode()
    )
    assert parse_message(raw).text == "您好\n\n空调 漏水"
    assert html_to_text("<div>a<br>b</div>").split() == ["a", "b"]


def test_an_unknown_charset_and_garbage_still_give_text() -> None:
    raw = (
        b"From: a@b.cn\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n"
        + "中文".encode("gb18030")
        + b"\x00\x01"
    )
    parsed = parse_message(raw)
    assert parsed.text == "中文"
    assert parsed.subject == ""


@pytest.mark.django_db
def test_a_message_handed_in_twice_is_one_row(org: dict[str, object]) -> None:
    raw = make_mail(message_id="<direct@example.com>")
    first = inbound_process(raw=raw)
    second = inbound_process(raw=raw)
    assert first.pk == second.pk
    assert InboundMail.objects.count() == 1
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_a_message_the_parser_chokes_on_still_becomes_a_ticket(
    org: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kefu.mail import services

    def choke(raw: bytes) -> None:
        raise ValueError("parser bug")

    monkeypatch.setattr(services, "parse_message", choke)
    row = inbound_process(raw=b"Subject: x\r\n\r\n\xe5\xae\xa2\xe6\x88\xb7")
    assert row.status == "processed"
    assert row.message_key.startswith("sha256:")
    assert "客户" in Ticket.objects.get().body
