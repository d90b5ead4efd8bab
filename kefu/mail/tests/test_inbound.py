"""Inbound mail against a real dovecot: new mail → ticket, replies threaded by References and
by the subject's ticket number, bad input that still becomes a ticket, and idempotency."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from kefu.customers.models import Contact
from kefu.desk.models import Ticket, TicketAttachment
from kefu.desk.services import ticket_transition
from kefu.mail import services
from kefu.mail.fetch import mail_fetch
from kefu.mail.models import InboundMail, MailboxState
from kefu.mail.services import ROBOT_USERNAME
from kefu.mail.testing import ImapServer, deliver_and_fetch, imap_append, make_mail
from kefu.org.models import User

pytestmark = pytest.mark.django_db


def test_a_new_mail_becomes_an_inquiry_for_the_senders_customer(
    imap: ImapServer, contact: Contact
) -> None:
    counts = deliver_and_fetch(imap, make_mail(subject="空调不制冷", body="请尽快安排上门。"))
    assert counts["processed"] == 1
    ticket = Ticket.objects.get()
    assert (ticket.type, ticket.channel, ticket.subject) == ("inquiry", "email", "空调不制冷")
    assert ticket.body.startswith("请尽快安排上门。")
    assert (ticket.customer_id, ticket.contact_id) == (contact.customer_id, contact.pk)
    assert ticket.first_response_due is not None
    mail = InboundMail.objects.get()
    assert (mail.status, mail.outcome, mail.ticket_id) == ("processed", "new_ticket", ticket.pk)
    assert mail.from_address == "zhangsan@example.com"
    # the robot that opened it may add tickets and nothing an agent may do besides
    robot = User.objects.get(username=ROBOT_USERNAME)
    assert ticket.created_by_id == robot.pk
    assert not robot.has_usable_password()
    assert robot.has_perm("desk.add_ticket")
    assert not robot.has_perm("desk.change_ticket")
    # nothing new: nothing happens
    assert mail_fetch()["fetched"] == 0
    assert Ticket.objects.count() == 1


def test_an_unknown_sender_opens_a_ticket_without_a_customer_and_keeps_the_address(
    imap: ImapServer, contact: Contact
) -> None:
    deliver_and_fetch(imap, make_mail(sender="陌生人 <stranger@other.cn>"))
    ticket = Ticket.objects.get()
    assert ticket.customer_id is None
    assert InboundMail.objects.get().from_address == "stranger@other.cn"


def test_a_reply_naming_our_message_in_references_lands_on_the_same_ticket(
    imap: ImapServer, contact: Contact
) -> None:
    first = make_mail(message_id="<first-1@example.com>")
    deliver_and_fetch(imap, first)
    ticket = Ticket.objects.get()
    reply = make_mail(
        subject="Re: 空调不制冷",
        body="补充：型号 KFR-35GW。\n\n-----原始邮件-----\n您好，我家的空调不制冷了",
        references="<other@x.cn> <first-1@example.com>",
    )
    deliver_and_fetch(imap, reply)
    assert Ticket.objects.count() == 1
    comment = ticket.comments.get()
    assert (comment.from_customer, comment.via, comment.public) == (True, "email", True)
    assert comment.body == "补充：型号 KFR-35GW。"  # the quoted mail is cut off
    assert InboundMail.objects.filter(outcome="reply", ticket=ticket).count() == 1


def test_a_reply_by_the_subject_tag_lands_on_the_ticket_only_from_a_known_address(
    imap: ImapServer, contact: Contact
) -> None:
    deliver_and_fetch(imap, make_mail())
    ticket = Ticket.objects.get()
    tagged = f"回复：空调不制冷 [{ticket.number}]"
    deliver_and_fetch(imap, make_mail(subject=tagged, body="师傅什么时候来？"))
    assert ticket.comments.get().body == "师傅什么时候来？"
    # a stranger who guesses the number opens a ticket of their own
    deliver_and_fetch(imap, make_mail(subject=tagged, sender="x@evil.example"))
    assert Ticket.objects.count() == 2
    assert ticket.comments.count() == 1


def test_a_reply_to_a_closed_ticket_opens_a_new_linked_one(
    imap: ImapServer, contact: Contact, manager: User
) -> None:
    deliver_and_fetch(imap, make_mail(message_id="<closed-1@example.com>"))
    ticket = Ticket.objects.get()
    ticket_transition(actor=manager, ticket=ticket, to="cancelled", note="重复")
    deliver_and_fetch(imap, make_mail(in_reply_to="<closed-1@example.com>", body="又坏了"))
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert (new.parent_id, new.customer_id) == (ticket.pk, ticket.customer_id)


def test_a_30_mb_attachment_and_a_refused_type_are_not_stored_and_the_ticket_says_so(
    imap: ImapServer, contact: Contact
) -> None:
    small = make_mail(
        attachments=[
            ("照片.png", "image/png", b"\x89PNG small"),
            ("安装.exe", "application/octet-stream", b"MZ"),
        ]
    )
    # The 30 MB part is spliced in by hand: the stdlib's generator takes seconds to write it.
    boundary = small.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    video = base64.encodebytes(b"\0" * (30 * 1024 * 1024))
    part = (
        b"--" + boundary + b"\r\nContent-Type: video/mp4\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="=?utf-8?b?'
        + base64.b64encode("录像.mp4".encode())
        + b'?="\r\n\r\n'
        + video
        + b"\r\n"
    )
    closing = b"--" + boundary + b"--"
    raw = small.replace(closing, part + closing)
    assert deliver_and_fetch(imap, raw)["processed"] == 1
    ticket = Ticket.objects.get()
    assert "录像.mp4" in ticket.body
    assert "超过 10 MB" in ticket.body
    assert "安装.exe" in ticket.body
    assert "类型不允许" in ticket.body
    assert [a.filename for a in TicketAttachment.objects.filter(ticket=ticket)] == ["照片.png"]


def test_malformed_mime_and_no_subject_still_become_a_ticket(
    imap: ImapServer, contact: Contact
) -> None:
    raw = (
        b"From: zhangsan@example.com\r\n"
        b"Message-ID: <broken-1@example.com>\r\n"
        b'Content-Type: multipart/mixed; boundary="never-used"\r\n'
        b"Subject: =?utf-8?B?broken==?=\r\n"
        b"\r\n"
        b"\xe5\xae\xa2\xe6\x88\xb7\xe7\x9a\x84\xe8\xaf\x9d\r\n"  # 客户的话, no boundary at all
    )
    deliver_and_fetch(imap, raw)
    deliver_and_fetch(imap, make_mail(subject="", body="没有主题"))
    assert Ticket.objects.count() == 2
    broken = InboundMail.objects.get(message_id="broken-1@example.com").ticket
    assert broken is not None
    assert "客户的话" in broken.body
    assert Ticket.objects.filter(subject="（无主题邮件）", body__startswith="没有主题").exists()


def _gbk_mail() -> bytes:
    # 镕 and 堃 are in GBK but not in GB2312; the mail says gb2312 anyway, as Foxmail does.
    subject = base64.b64encode("朱镕基堃的空调".encode("gbk")).decode()
    body = "您好，朱镕基堃的空调坏了。".encode("gbk")
    return (
        b"From: =?gb2312?B?"
        + base64.b64encode("张三".encode("gbk"))
        + b"?= <zhangsan@example.com>\r\n"
        b"Subject: =?gb2312?B?" + subject.encode() + b"?=\r\n"
        b"Message-ID: <gbk-1@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=gb2312\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    )


def test_a_gbk_mail_labelled_gb2312_is_decoded_right(imap: ImapServer, contact: Contact) -> None:
    deliver_and_fetch(imap, _gbk_mail())
    ticket = Ticket.objects.get()
    assert ticket.subject == "朱镕基堃的空调"
    assert ticket.body == "您好，朱镕基堃的空调坏了。"
    assert InboundMail.objects.get().from_name == "张三"


def test_the_same_message_fetched_twice_is_processed_once(
    imap: ImapServer, contact: Contact
) -> None:
    raw = make_mail(message_id="<twice@example.com>")
    imap_append(imap, raw)
    imap_append(imap, raw)  # delivered twice (two UIDs)
    counts = mail_fetch()
    assert counts["fetched"] == 2
    MailboxState.objects.update(last_uid=0)  # and fetched again from the start
    mail_fetch()
    assert Ticket.objects.count() == 1
    assert InboundMail.objects.count() == 1


def test_a_message_without_message_id_is_keyed_by_its_bytes(
    imap: ImapServer, contact: Contact
) -> None:
    raw = b"From: zhangsan@example.com\r\nSubject: hi\r\n\r\nno id\r\n"
    imap_append(imap, raw)
    imap_append(imap, raw)
    mail_fetch()
    assert InboundMail.objects.get().message_key.startswith("sha256:")
    assert Ticket.objects.count() == 1


def test_a_failing_message_is_recorded_does_not_stop_the_batch_and_is_retried(
    imap: ImapServer, contact: Contact, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.MAIL_MAX_ATTEMPTS = 2
    real: Callable[..., Any] = services._deliver

    def flaky(row: InboundMail, parsed: Any) -> None:
        if "坏" in parsed.subject:
            raise RuntimeError("数据库暂时不可用")
        real(row, parsed)

    monkeypatch.setattr(services, "_deliver", flaky)
    imap_append(imap, make_mail(subject="坏邮件", message_id="<bad@example.com>"))
    imap_append(imap, make_mail(subject="好邮件"))
    counts = mail_fetch()
    assert (counts["processed"], counts["failed"]) == (1, 1)
    bad = InboundMail.objects.get(message_id="bad@example.com")
    assert (bad.status, bad.attempts) == ("failed", 1)
    assert "数据库暂时不可用" in bad.error
    assert Ticket.objects.count() == 1  # the failed one left nothing behind
    # retried on the next fetch (no new mail needed)
    monkeypatch.setattr(services, "_deliver", real)
    assert mail_fetch()["retried"] == 1
    bad.refresh_from_db()
    assert (bad.status, bad.attempts) == ("processed", 2)
    assert Ticket.objects.count() == 2


def test_a_message_that_keeps_failing_is_given_up_after_the_attempts(
    imap: ImapServer, contact: Contact, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.MAIL_MAX_ATTEMPTS = 2

    def broken(row: InboundMail, parsed: Any) -> None:
        raise RuntimeError("总是失败")

    monkeypatch.setattr(services, "_deliver", broken)
    imap_append(imap, make_mail())
    for _run in range(4):
        mail_fetch()
    assert InboundMail.objects.get().attempts == 2


def test_an_unreachable_server_is_recorded_and_the_command_reports_it(
    imap: ImapServer, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.MAIL_IMAP_PASSWORD = "wrong"
    call_command("mail_fetch")
    assert "error=1" in capsys.readouterr().out
    assert MailboxState.objects.get().last_error
    settings.MAIL_IMAP_HOST = ""
    call_command("mail_fetch")
    assert "fetching is off" in capsys.readouterr().out


def test_a_web_form_submitter_s_mail_reply_threads_onto_their_ticket(imap: ImapServer) -> None:
    from kefu.portal.services import PortalRequest, portal_submit

    receipt = portal_submit(
        data=PortalRequest(
            type="repair",
            name="王先生",
            email="wang@newcomer.cn",
            subject="热水器不出热水",
            description="昨天开始的。",
        )
    )
    ticket = receipt.ticket
    assert ticket.customer_id is None
    subject = f"回复：热水器不出热水 [{ticket.number}]"
    deliver_and_fetch(imap, make_mail(subject=subject, sender="wang@newcomer.cn", body="还是不行"))
    assert Ticket.objects.count() == 1
    assert ticket.comments.filter(from_customer=True, body="还是不行").exists()
