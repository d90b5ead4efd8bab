"""The public form at /support/: matched and unknown submitters, the honeypot, the rate limit
and bad input (each refused with nothing stored)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.audit.models import AuditEvent
from kefu.customers.models import Customer
from kefu.customers.privacy import subject_erase
from kefu.desk.models import Ticket, TicketAttachment
from kefu.org.models import User
from kefu.portal.models import CustomerNotice, TicketAccess, TicketRequester
from kefu.portal.services import ROBOT_USERNAME

pytestmark = pytest.mark.django_db


def _nothing_stored() -> None:
    assert Ticket.objects.count() == 0
    assert TicketRequester.objects.count() == 0
    assert TicketAccess.objects.count() == 0
    assert TicketAttachment.objects.count() == 0


def test_form_page_is_public_chinese_and_has_a_css_hidden_honeypot(
    browser: Client, org: dict[str, Any]
) -> None:
    response = browser.get("/support/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "在线提交服务请求" in html
    assert 'name="website" type="text"' in html  # not type=hidden
    assert 'class="kefu-hp"' in html
    for label in ("咨询", "投诉", "报修", "建议", "理赔"):
        assert f">{label}</option>" in html
    assert ">下单</option>" not in html
    assert ">仲裁</option>" not in html


def test_form_speaks_english_after_the_language_switch(
    browser: Client, org: dict[str, Any]
) -> None:
    browser.post("/i18n/setlang/", {"language": "en", "next": "/support/"})
    html = browser.get("/support/").content.decode()
    assert 'lang="en"' in html


def test_known_mobile_files_a_web_ticket_for_the_customer(
    submit: Callable[..., Any], customer: Customer
) -> None:
    # given a customer whose mobile is 13812345678
    # when someone posts the form with that number, written with spaces
    response = submit(mobile="138 1234 5678")
    # then a web repair ticket for that customer, created by the portal robot
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.customer == customer
    assert ticket.contact is not None
    assert ticket.contact.name == "王五"
    assert (ticket.channel, ticket.type, ticket.subject) == ("web", "repair", "空调漏水")
    assert ticket.created_by is not None
    assert ticket.created_by.username == ROBOT_USERNAME
    requester = TicketRequester.objects.get(ticket=ticket)
    assert (requester.name, requester.mobile, requester.matched) == ("李四", "+8613812345678", True)
    assert requester.ip == "203.0.113.7"
    # and the thank-you page gives the number and a working status link
    html = response.content.decode()
    assert ticket.number in html
    link = response.context["link"]
    assert "/support/t/" in link
    assert Client().get(link.split("testserver", 1)[1]).status_code == 200


def test_known_email_matches_a_contact(submit: Callable[..., Any], customer: Customer) -> None:
    submit(mobile="", email="WangWu@haier.example.com")
    assert Ticket.objects.get().customer == customer


def test_unknown_submitter_gets_a_ticket_without_customer_keeping_their_contact(
    submit: Callable[..., Any], customer: Customer
) -> None:
    submit(mobile="13900001111", email="new@example.com", company="无名公司", type="complaint")
    ticket = Ticket.objects.get()
    assert ticket.customer is None
    assert ticket.type == "complaint"
    requester = TicketRequester.objects.get(ticket=ticket)
    assert requester.matched is False
    assert (requester.mobile, requester.email, requester.company) == (
        "+8613900001111",
        "new@example.com",
        "无名公司",
    )
    assert requester.mobile_masked == "139****1111"
    assert requester.email_masked == "n***@example.com"


def test_robot_has_no_password_and_no_desk_work_permission(
    submit: Callable[..., Any], org: dict[str, Any]
) -> None:
    submit()
    robot = User.objects.get(username=ROBOT_USERNAME)
    assert not robot.has_usable_password()
    assert robot.has_perm("desk.add_ticket")
    assert not robot.has_perm("desk.change_ticket")
    assert not robot.has_perm("desk.work_ticket")  # never routed tickets as an agent


def test_attachments_go_on_a_public_customer_comment(
    submit: Callable[..., Any], org: dict[str, Any]
) -> None:
    photo = SimpleUploadedFile("漏水.jpg", b"\xff\xd8\xff" + b"0" * 100, content_type="image/jpeg")
    submit(files=[photo])
    attachment = TicketAttachment.objects.get()
    assert attachment.filename == "漏水.jpg"
    assert attachment.size == 103
    assert attachment.comment is not None
    assert attachment.comment.public
    assert attachment.comment.from_customer
    assert attachment.comment.via == "web"


def test_a_double_submit_gives_one_ticket(submit: Callable[..., Any], org: dict[str, Any]) -> None:
    first = submit(idempotency_key="k-1")
    second = submit(idempotency_key="k-1")
    assert Ticket.objects.count() == 1
    assert second.context["ticket"].pk == first.context["ticket"].pk
    assert second.context["link"] == ""  # the link went out with the first answer and by SMS
    assert TicketAccess.objects.filter(revoked_at__isnull=True).count() == 1


def test_filled_honeypot_looks_accepted_but_stores_nothing_and_logs(
    submit: Callable[..., Any], org: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    response = submit(website="http://spam.example.com")
    assert response.status_code == 200
    assert "感谢您的反馈" in response.content.decode()
    _nothing_stored()
    assert "honeypot" in caplog.text


def test_over_the_rate_limit_is_429_in_chinese_and_stores_nothing(
    submit: Callable[..., Any], org: dict[str, Any], settings: Any
) -> None:
    settings.PORTAL_RATE = "2/h"
    assert submit(subject="一").status_code == 200
    assert submit(subject="二").status_code == 200
    response = submit(subject="三")
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode()
    assert list(Ticket.objects.values_list("subject", flat=True).order_by("id")) == ["一", "二"]
    # another address is not held back
    assert submit(ip="198.51.100.9", subject="四").status_code == 200


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"mobile": "", "email": ""}, "mobile", "至少填写手机号码或邮箱"),
        ({"mobile": "12345"}, "mobile", "不是有效的"),
        ({"mobile": "", "email": "not-an-email"}, "email", "不是有效的邮箱地址"),
        ({"name": "  "}, "name", "此项为必填项"),
        ({"type": "arbitration"}, "type", "请选择问题类型"),
        ({"subject": "x" * 201}, "subject", "最多 200 个字符"),
    ],
)
def test_bad_input_is_422_with_the_field_named_and_stores_nothing(
    submit: Callable[..., Any],
    org: dict[str, Any],
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = submit(**fields)
    assert response.status_code == 422
    assert message in " ".join(response.context["errors"][field])
    _nothing_stored()


def test_oversize_or_refused_file_is_422_and_stores_nothing(
    submit: Callable[..., Any], org: dict[str, Any], settings: Any
) -> None:
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", b"%" * 2048, content_type="application/pdf")
    response = submit(files=[big])
    assert response.status_code == 422
    assert "超过" in response.context["errors"]["files"][0]
    exe = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    response = submit(files=[exe])
    assert "不支持的文件类型" in response.context["errors"]["files"][0]
    _nothing_stored()
    assert not AuditEvent.objects.filter(object_type="desk.ticket").exists()


def test_erasing_the_customer_erases_what_the_portal_kept_of_them(
    submit: Callable[..., Any], customer: Customer, manager: User
) -> None:
    submit(mobile="13812345678", email="lisi@example.com", company="海尔")
    assert CustomerNotice.objects.exclude(recipient="").count() == 2
    subject_erase(actor=manager, customer=customer, reason="客户申请删除")
    requester = TicketRequester.objects.get()
    assert (requester.name, requester.mobile, requester.email, requester.company) == (
        "",
        "",
        "",
        "",
    )
    assert requester.ip is None
    assert not CustomerNotice.objects.exclude(recipient="").exists()
