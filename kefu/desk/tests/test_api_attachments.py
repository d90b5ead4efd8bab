"""Attachments over the API: POST /api/v1/tickets/{id}/attachments (multipart) with the web
UI's limits, nothing written when a file is refused or the write fails, the download for
bearer-token clients, scope (404) and permission (403)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.storage import Storage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.api.tokens import token_issue
from kefu.audit.models import AuditEvent
from kefu.desk import signals
from kefu.desk.models import Ticket, TicketAttachment, TicketComment
from kefu.desk.services import comment_add
from kefu.org.models import User


@pytest.fixture(autouse=True)
def storage(settings: Any) -> Storage:
    """A fresh, empty in-memory storage for each test (setting_changed resets default_storage),
    so that "no file left behind" can be checked by listing it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    return default_storage


def _files(storage: Storage, path: str = "") -> list[str]:
    directories, files = storage.listdir(path)
    found = [f"{path}/{name}".lstrip("/") for name in files]
    for directory in directories:
        found += _files(storage, f"{path}/{directory}".lstrip("/"))
    return found


def _client(user: User | None) -> Client:
    headers = {"Authorization": f"Bearer {token_issue(user=user)}"} if user else {}
    return Client(headers=headers)


def _url(ticket: Ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/attachments"


def _raw_multipart(filename: str, content: bytes, body: str = "现场照片") -> tuple[bytes, str]:
    """A multipart body written by hand: Django's test client keeps only the base name of a
    file, and these tests need the name exactly as a hostile client would send it."""
    boundary = "kefu-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\n{body}\r\n'.encode(),
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + content
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.django_db
def test_two_files_make_one_comment_listed_by_the_detail_and_downloadable(
    agent: User, open_ticket: Callable[..., Ticket], storage: Storage
) -> None:
    # given
    ticket = open_ticket()
    client = _client(agent)
    photo = SimpleUploadedFile("漏水.png", b"\x89PNG fake image", content_type="image/png")
    invoice = SimpleUploadedFile("发票.pdf", b"%PDF-1.4 invoice", content_type="application/pdf")
    # when
    answer = client.post(
        _url(ticket), {"body": "现场照片和发票", "public": "true", "files": [photo, invoice]}
    )
    # then
    assert answer.status_code == 201, answer.content
    comment = answer.json()["comments"][-1]
    assert (comment["body"], comment["public"]) == ("现场照片和发票", True)
    assert [(a["filename"], a["content_type"], a["size"]) for a in comment["attachments"]] == [
        ("漏水.png", "image/png", 15),
        ("发票.pdf", "application/pdf", 16),
    ]
    assert answer.json()["first_responded_at"] is not None  # a public reply, as in the web UI
    detail = client.get(f"/api/v1/tickets/{ticket.pk}").json()
    listed = detail["comments"][-1]["attachments"]
    assert listed == comment["attachments"]
    for item, content in zip(listed, (b"\x89PNG fake image", b"%PDF-1.4 invoice"), strict=True):
        assert item["url"] == f"/api/v1/tickets/{ticket.pk}/attachments/{item['id']}"
        served = client.get(item["url"])
        assert served.status_code == 200
        assert b"".join(served.streaming_content) == content  # type: ignore[attr-defined]
        assert served["Content-Disposition"].startswith("attachment;")
        assert served["X-Content-Type-Options"] == "nosniff"
    # the same storage path as the web UI's, never the client's name
    stored = sorted(_files(storage))
    assert len(stored) == 2
    assert all(name.startswith("tickets/") and "漏水" not in name for name in stored)
    event = AuditEvent.objects.filter(field="reply").latest("id")
    assert event.changes["attachments"] == ["漏水.png", "发票.pdf"]


@pytest.mark.django_db
def test_public_defaults_to_an_internal_note(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    upload = SimpleUploadedFile("清单.txt", b"1. filter", content_type="text/plain")
    answer = _client(agent).post(_url(ticket), {"body": "配件清单", "files": [upload]})
    assert answer.status_code == 201, answer.content
    assert answer.json()["comments"][-1]["public"] is False
    assert answer.json()["first_responded_at"] is None
    assert AuditEvent.objects.filter(field="note").exists()


@pytest.mark.django_db
def test_a_file_over_the_limit_refuses_the_whole_upload(
    agent: User, open_ticket: Callable[..., Ticket], storage: Storage, settings: Any
) -> None:
    # given: a 1 MB limit; the first file fits, the second is one byte over
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1024 * 1024
    ticket = open_ticket()
    small = SimpleUploadedFile("ok.pdf", b"x" * 10)
    big = SimpleUploadedFile("图纸.pdf", b"x" * (1024 * 1024 + 1))
    # when
    answer = _client(agent).post(_url(ticket), {"body": "图纸", "files": [small, big]})
    # then
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["files"] == ["文件“图纸.pdf”超过 1 MB 的上限。"]
    assert not TicketComment.objects.exists()
    assert not TicketAttachment.objects.exists()
    assert _files(storage) == []


@pytest.mark.django_db
def test_a_refused_type_names_the_file_and_writes_nothing(
    agent: User, open_ticket: Callable[..., Ticket], storage: Storage
) -> None:
    ticket = open_ticket()
    answer = _client(agent).post(
        _url(ticket),
        {
            "body": "程序",
            "files": [SimpleUploadedFile("a.png", b"png"), SimpleUploadedFile("setup.exe", b"MZ")],
        },
    )
    assert answer.status_code == 400
    [message] = answer.json()["error"]["fields"]["files"]
    assert message.startswith("不支持的文件类型“setup.exe”，允许：")
    assert not TicketComment.objects.exists()
    assert _files(storage) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent_name", "stored_name"),
    [("../../etc/passwd.pdf", "passwd.pdf"), ("..\\..\\windows\\报告.pdf", "报告.pdf")],
)
def test_a_path_in_the_file_name_is_dropped(
    agent: User,
    open_ticket: Callable[..., Ticket],
    storage: Storage,
    sent_name: str,
    stored_name: str,
) -> None:
    ticket = open_ticket()
    content, content_type = _raw_multipart(sent_name, b"%PDF-1.4")
    answer = _client(agent).post(_url(ticket), content, content_type=content_type)
    assert answer.status_code == 201, answer.content
    assert answer.json()["comments"][-1]["attachments"][0]["filename"] == stored_name
    [path] = _files(storage)
    assert path.startswith("tickets/")
    assert ".." not in path
    assert "etc" not in path


@pytest.mark.django_db
def test_a_traversal_name_without_an_allowed_type_is_refused(
    agent: User, open_ticket: Callable[..., Ticket], storage: Storage
) -> None:
    ticket = open_ticket()
    content, content_type = _raw_multipart("../../etc/passwd", b"root:x:0:0")
    answer = _client(agent).post(_url(ticket), content, content_type=content_type)
    assert answer.status_code == 400
    [message] = answer.json()["error"]["fields"]["files"]
    assert message.startswith("不支持的文件类型“passwd”")
    assert not TicketComment.objects.exists()
    assert _files(storage) == []


@pytest.mark.django_db
@pytest.mark.parametrize("sent_name", ["", ".."])
def test_a_file_without_a_usable_name_is_no_file(
    agent: User, open_ticket: Callable[..., Ticket], storage: Storage, sent_name: str
) -> None:
    # Django's multipart parser drops a file part whose name is empty (or only dots): the
    # upload then has no file, which the schema requires.
    ticket = open_ticket()
    content, content_type = _raw_multipart(sent_name, b"data")
    answer = _client(agent).post(_url(ticket), content, content_type=content_type)
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == {"files": ["此项为必填项。"]}
    assert not TicketComment.objects.exists()
    assert _files(storage) == []


@pytest.mark.django_db
def test_a_malformed_multipart_body_is_400(
    agent: User, open_ticket: Callable[..., Ticket], settings: Any
) -> None:
    ticket = open_ticket()
    client = _client(agent)
    no_boundary = client.post(_url(ticket), b"--x\r\n", content_type="multipart/form-data")
    assert no_boundary.status_code == 400
    assert no_boundary.json()["error"]["code"] == "malformed"
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    uploads = [SimpleUploadedFile(f"{n}.pdf", b"%PDF") for n in range(3)]
    too_many = client.post(_url(ticket), {"body": "x", "files": uploads})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["message"] == "一次最多上传 2 个文件。"
    assert not TicketComment.objects.exists()


@pytest.mark.django_db
def test_the_body_is_required_as_for_any_comment(
    agent: User, open_ticket: Callable[..., Ticket], storage: Storage
) -> None:
    ticket = open_ticket()
    answer = _client(agent).post(
        _url(ticket), {"files": [SimpleUploadedFile("a.pdf", b"%PDF")], "public": "maybe"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == {
        "body": ["此项为必填项。"],
        "public": ["必须是 true 或 false。"],
    }
    assert _files(storage) == []


@pytest.mark.django_db
def test_anonymous_callers_are_refused(
    open_ticket: Callable[..., Ticket], storage: Storage
) -> None:
    ticket = open_ticket()
    upload = SimpleUploadedFile("a.pdf", b"%PDF")
    answer = _client(None).post(_url(ticket), {"body": "x", "files": [upload]})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert not TicketComment.objects.exists()
    assert _files(storage) == []


@pytest.mark.django_db
def test_a_ticket_outside_the_scope_is_404_for_upload_and_download(
    agent: User, outsider: User, open_ticket: Callable[..., Ticket], storage: Storage
) -> None:
    ticket = open_ticket()
    upload = SimpleUploadedFile("a.pdf", b"%PDF")
    refused = _client(outsider).post(_url(ticket), {"body": "x", "files": [upload]})
    assert refused.status_code == 404
    assert not TicketComment.objects.exists()
    stored = _client(agent).post(
        _url(ticket), {"body": "x", "files": [SimpleUploadedFile("b.pdf", b"%PDF")]}
    )
    url = stored.json()["comments"][-1]["attachments"][0]["url"]
    assert _client(outsider).get(url).status_code == 404
    assert _client(None).get(url).status_code == 401
    assert _client(agent).get(f"{url}9").status_code == 404  # another ticket's id or none


@pytest.mark.django_db
def test_a_reader_who_may_not_work_tickets_gets_403(
    make_user: Callable[..., User], open_ticket: Callable[..., Ticket], storage: Storage
) -> None:
    engineer = make_user("engineer", "engineer", teams=("team_a",))
    ticket = open_ticket()
    upload = SimpleUploadedFile("a.pdf", b"%PDF")
    answer = _client(engineer).post(_url(ticket), {"body": "x", "files": [upload]})
    assert answer.status_code == 403
    assert not TicketComment.objects.exists()
    assert _files(storage) == []


@pytest.fixture
def failing_after_the_files(storage: Storage) -> Iterator[list[str]]:
    """A comment_added receiver that notes the stored files' names, then fails: the write
    rolls back after its files are in storage."""
    seen: list[str] = []

    def fail(sender: Any, comment: TicketComment, **kwargs: Any) -> None:
        seen.extend(comment.attachments.values_list("file", flat=True))
        raise RuntimeError("a receiver failed")

    signals.comment_added.connect(fail, dispatch_uid="test-fail-after-files")
    yield seen
    signals.comment_added.disconnect(dispatch_uid="test-fail-after-files")


@pytest.mark.django_db(transaction=True)
def test_a_write_that_fails_after_storing_removes_its_files(
    agent: User,
    open_ticket: Callable[..., Ticket],
    storage: Storage,
    failing_after_the_files: list[str],
) -> None:
    # given
    ticket = open_ticket()
    uploads = [SimpleUploadedFile("a.pdf", b"%PDF a"), SimpleUploadedFile("b.png", b"png b")]
    # when
    with pytest.raises(RuntimeError):
        comment_add(actor=agent, ticket=ticket, body="两个文件", public=False, files=uploads)
    # then: the files were in storage before the failure, and are gone after it
    assert len(failing_after_the_files) == 2
    assert not any(storage.exists(name) for name in failing_after_the_files)
    assert _files(storage) == []
    assert not TicketComment.objects.exists()
    assert not TicketAttachment.objects.exists()


@pytest.mark.django_db
def test_the_json_comment_endpoint_is_unchanged(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    answer = Client().post(
        f"/api/v1/tickets/{ticket.pk}/comments",
        {"body": "您好", "public": True},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_issue(user=agent)}"},
    )
    assert answer.status_code == 201
    assert answer.json()["comments"][-1]["attachments"] == []
