"""Fixtures of the mail tests: a real dovecot (one per session, a fresh mailbox per test) and a
real SMTP server (aiosmtpd), a customer with a contact's email address."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from kefu.customers.models import Contact, Customer
from kefu.mail.testing import (
    ImapServer,
    ServerMissing,
    SmtpServer,
    dovecot_server,
    smtp_server,
)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[ImapServer]:
    with ExitStack() as stack:
        try:
            server = stack.enter_context(dovecot_server())
        except ServerMissing as exc:
            pytest.skip(str(exc))
        yield server


@pytest.fixture
def imap(dovecot: ImapServer, settings: Any) -> ImapServer:
    box = dovecot.new_mailbox()
    settings.MAIL_IMAP_HOST = box.host
    settings.MAIL_IMAP_PORT = box.port
    settings.MAIL_IMAP_USER = box.user
    settings.MAIL_IMAP_PASSWORD = box.password
    settings.MAIL_IMAP_SSL = False
    settings.MAIL_IMAP_FOLDER = box.folder
    return box


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    with smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        settings.MAIL_FROM = "客服中心 <kefu@example.com>"
        yield server


@pytest.fixture
def customer(org: dict[str, Any]) -> Customer:
    return Customer.objects.create(
        name="上海海尔空调有限公司", serving_team=org["team_a"], mobile="+8613812345678"
    )


@pytest.fixture
def contact(customer: Customer) -> Contact:
    return Contact.objects.create(
        customer=customer, name="张三", email="zhangsan@example.com", is_primary=True
    )
