"""Sending SMS, with a backend chosen by KEFU_SMS_BACKEND, as Django does for mail:

- ``console`` (development default): the message is logged;
- ``file``: one file per message in KEFU_SMS_FILE_PATH (default ``var/sms``);
- ``locmem``: kept in ``kefu.portal.sms.outbox`` (tests), like ``django.core.mail.outbox``;
- a dotted path to a class with ``send(to, text)``: the SMS gateway of the company's provider.

A backend raises on failure; the caller records the error and retries.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164
    text: str


outbox: list[SmsMessage] = []


class SmsBackend(Protocol):
    def send(self, to: str, text: str) -> None: ...


class ConsoleBackend:
    def send(self, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", to, text)


class FileBackend:
    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory or settings.SMS_FILE_PATH)

    def send(self, to: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}.txt"
        path.write_text(f"To: {to}\n\n{text}\n", encoding="utf-8")


class LocMemBackend:
    def send(self, to: str, text: str) -> None:
        outbox.append(SmsMessage(to=to, text=text))


BACKENDS: dict[str, type[SmsBackend]] = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "locmem": LocMemBackend,
}


def sms_backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    backend_class = BACKENDS.get(name) or import_string(name)
    return backend_class()


def sms_send(*, to: str, text: str) -> None:
    sms_backend().send(to, text)
