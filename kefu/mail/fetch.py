"""Fetching from the IMAP mailbox (imap-tools), once per call: the periodic task and
``kefu mail_fetch`` both call ``mail_fetch``.

New messages are those whose UID is above the last one fetched (MailboxState), read with
BODY.PEEK: Kefu never changes the mailbox (no \\Seen, no moves), so staff may read it in
their own client without hiding mail from Kefu, and a message is found again by its UID when
it must be retried. A changed UIDVALIDITY starts over from UID 1; the InboundMail keys make
that pass harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from imap_tools import MailBox, MailBoxUnencrypted, MailMessage

from kefu.mail.models import InboundMail, MailboxState
from kefu.mail.services import Source, inbound_process

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)


class RawMessage(MailMessage):
    """imap-tools' message keeping the raw bytes, unparsed: kefu.mail.parsing reads them."""

    def __init__(self, fetch_data: list[Any]) -> None:
        raw, uid_data, flag_data = self._get_message_data_parts(fetch_data)
        self.raw: bytes = raw
        self._raw_uid_data = uid_data
        self._raw_flag_data = flag_data


def fetch_enabled() -> bool:
    return bool(settings.MAIL_IMAP_HOST)


def account_name() -> str:
    return (
        f"{settings.MAIL_IMAP_USER}@{settings.MAIL_IMAP_HOST}:{settings.MAIL_IMAP_PORT}"
        f"/{settings.MAIL_IMAP_FOLDER}"
    )[:255]


@contextmanager
def imap_mailbox() -> Iterator[MailBox | MailBoxUnencrypted]:
    """A logged-in mailbox with the folder selected; logs out on leaving."""
    box_class = MailBox if settings.MAIL_IMAP_SSL else MailBoxUnencrypted
    box = box_class(settings.MAIL_IMAP_HOST, int(settings.MAIL_IMAP_PORT), timeout=60)
    box.email_message_class = RawMessage
    with box.login(
        settings.MAIL_IMAP_USER, settings.MAIL_IMAP_PASSWORD, initial_folder=None
    ) as logged_in:
        logged_in.folder.set(settings.MAIL_IMAP_FOLDER)
        yield logged_in


def _claim(account: str) -> MailboxState | None:
    """Only one fetch per mailbox at a time (the minute's task and a manual run): a lease taken
    with a conditional UPDATE; a crashed fetch's lease runs out after LEASE."""
    MailboxState.objects.get_or_create(account=account)
    now = timezone.now()
    taken = MailboxState.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=now), account=account
    ).update(locked_until=now + LEASE, updated_at=now)
    return MailboxState.objects.get(account=account) if taken else None


def mail_fetch() -> dict[str, int]:
    """One fetch: new messages (at most MAIL_FETCH_BATCH), then the failed ones still worth a
    retry. Returns counts; does nothing when fetching is off (no KEFU_MAIL_IMAP_HOST)."""
    counts = {"fetched": 0, "processed": 0, "failed": 0, "retried": 0}
    if not fetch_enabled():
        return counts
    account = account_name()
    state = _claim(account)
    if state is None:
        counts["busy"] = 1
        return counts
    error = ""
    try:
        with imap_mailbox() as box:
            status = box.folder.status(settings.MAIL_IMAP_FOLDER, ["UIDVALIDITY"])
            validity = int(status.get("UIDVALIDITY", 0))
            if validity != state.uid_validity:
                state.uid_validity, state.last_uid = validity, 0
            uids = sorted(int(u) for u in box.uids(f"UID {state.last_uid + 1}:*"))
            # "N:*" always names the last message, even below N: keep only the new ones.
            new = [u for u in uids if u > state.last_uid][: int(settings.MAIL_FETCH_BATCH)]
            retry = list(
                InboundMail.objects.filter(
                    account=account,
                    uid_validity=validity,
                    status=InboundMail.Status.FAILED,
                    attempts__lt=int(settings.MAIL_MAX_ATTEMPTS),
                    uid__isnull=False,
                )
                .exclude(uid__in=new)
                .values_list("uid", flat=True)[:20]
            )
            for uid in new + retry:
                for message in box.fetch(uid_list=[str(uid)], mark_seen=False):
                    assert isinstance(message, RawMessage)
                    row = inbound_process(
                        raw=message.raw,
                        source=Source(account=account, uid_validity=validity, uid=uid),
                    )
                    counts["fetched"] += 1
                    counts["retried"] += uid in retry
                    if row.status == InboundMail.Status.PROCESSED:
                        counts["processed"] += 1
                    else:
                        counts["failed"] += 1
                if uid in new:
                    state.last_uid = uid
                    MailboxState.objects.filter(pk=state.pk).update(
                        uid_validity=validity, last_uid=uid
                    )
            MailboxState.objects.filter(pk=state.pk).update(
                uid_validity=validity, last_uid=state.last_uid
            )
    except Exception as exc:  # the server is down, the password wrong: shown on the page
        logger.warning("mail fetch from %s failed: %s", account, exc)
        error = f"{type(exc).__name__}: {exc}"[:500]
        counts["error"] = 1
    MailboxState.objects.filter(pk=state.pk).update(
        locked_until=None, last_run_at=timezone.now(), last_error=error, updated_at=timezone.now()
    )
    return counts
