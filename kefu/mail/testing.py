"""Real mail servers for tests, and the helper the end-to-end browser test uses.

``dovecot_server()`` starts Debian's dovecot (package dovecot-imapd) on 127.0.0.1 on a free
port with one plaintext user and a maildir in a temporary directory; ``smtp_server()`` starts
aiosmtpd (a dev dependency) recording what it receives. Both are context managers, so a pytest
fixture (kefu/mail/tests/conftest.py) or any other harness can use them::

    with dovecot_server() as imap, mail_settings(imap):
        deliver_and_fetch(imap, make_mail(subject="Re: 空调 [GD20261125-000001]", ...))

``deliver_and_fetch`` appends one message to the test mailbox (IMAP APPEND, as a mail server
would deliver it) and runs one fetch, as the minute's task would.
"""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from django.utils import timezone

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MISSING_DOVECOT = (
    "dovecot is not installed: sudo apt-get install -y dovecot-imapd "
    "(or scripts/system-deps.sh test as root)"
)


class ServerMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    directory: Path = field(default_factory=Path)

    def new_mailbox(self) -> ImapServer:
        """An empty folder of its own on the same server: one per test, with one server per
        session."""
        from imap_tools import MailBoxUnencrypted

        folder = f"kefu-test-{next(_folders)}"
        with MailBoxUnencrypted(self.host, self.port).login(self.user, self.password) as box:
            box.folder.create(folder)
        return ImapServer(self.host, self.port, self.user, self.password, folder, self.directory)


_folders = itertools.count(1)


_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 1
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0600
  }}
}}
"""


@contextmanager
def dovecot_server(
    *,
    user: str = "kefu",
    password: str = "kefu-test",  # noqa: S107 (a throw-away server)
) -> Iterator[ImapServer]:
    """A throw-away dovecot: listening on a free port, stopped and removed on leaving.

    As root, mail is stored as "nobody" (dovecot refuses uid 0 for mail) in a directory that
    user can reach; as anyone else, as that user, with dovecot's own helpers running as them.
    """
    if not Path(DOVECOT).exists():
        raise ServerMissing(MISSING_DOVECOT)
    base = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    base.chmod(0o755)
    me = pwd.getpwuid(os.getuid())
    if os.getuid() == 0:
        mail_user = pwd.getpwnam("nobody")
        login_user, internal_user = "dovenull", "dovecot"
        internal_group = "dovecot"
    else:
        mail_user = me
        login_user = internal_user = me.pw_name
        internal_group = grp.getgrgid(os.getgid()).gr_name
    for sub in ("run", "state", "mail", "home"):
        (base / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(base / sub, mail_user.pw_uid, mail_user.pw_gid)
    (base / "passwd").write_text(f"{user}:{{PLAIN}}{password}::::::\n", encoding="utf-8")
    port = free_port()
    conf = base / "dovecot.conf"
    conf.write_text(
        _CONF.format(
            base=base,
            port=port,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
            login_user=login_user,
            internal_user=internal_user,
            internal_group=internal_group,
        ),
        encoding="utf-8",
    )
    process = subprocess.Popen(  # noqa: S603 (our own binary and config)
        [DOVECOT, "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        try:
            wait_for_port(port)
        except TimeoutError:
            process.kill()
            _out, err = process.communicate(timeout=5)
            log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
            raise ServerMissing(
                f"dovecot did not start: {err.decode()[-500:]} {log[-500:]}"
            ) from None
        yield ImapServer("127.0.0.1", port, user, password, directory=base)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def mail_settings(imap: ImapServer) -> Iterator[None]:
    """Point kefu.mail's fetching at the server for the duration (outside pytest's
    ``settings`` fixture too)."""
    from django.test import override_settings

    with override_settings(
        MAIL_IMAP_HOST=imap.host,
        MAIL_IMAP_PORT=imap.port,
        MAIL_IMAP_USER=imap.user,
        MAIL_IMAP_PASSWORD=imap.password,
        MAIL_IMAP_SSL=False,
        MAIL_IMAP_FOLDER=imap.folder,
    ):
        yield


def make_mail(
    *,
    subject: str = "空调不制冷",
    body: str = "您好，我家的空调不制冷了，请安排师傅上门。",
    sender: str = "张三 <zhangsan@example.com>",
    to: str = "kefu@example.com",
    in_reply_to: str = "",
    references: str = "",
    message_id: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> bytes:
    """A well-formed message, as bytes (UTF-8 text; attachments as (name, type, data))."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if subject:
        message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    message.set_content(body)
    for name, content_type, data in attachments or []:
        maintype, _sep, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def imap_append(imap: ImapServer, raw: bytes) -> None:
    """Deliver one message into the test mailbox (IMAP APPEND)."""
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(imap.host, imap.port).login(imap.user, imap.password) as box:
        box.append(raw, imap.folder)


def deliver_and_fetch(imap: ImapServer, raw: bytes) -> dict[str, int]:
    """Deliver one message and run one fetch against ``imap``: what the end-to-end test calls
    to make "the customer's email reply" arrive."""
    from kefu.mail.fetch import mail_fetch

    imap_append(imap, raw)
    with mail_settings(imap):
        return mail_fetch()


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[bytes] = field(default_factory=list)
    refuse: bool = False  # answer every message with 451 (a transient failure)


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on a free port; every message accepted is appended to ``messages`` as bytes.
    Set ``refuse`` to make the server answer 451 (the tests' "SMTP down")."""
    from aiosmtpd.controller import Controller

    server = SmtpServer("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
            if server.refuse:
                return "451 4.3.0 try again later"
            server.messages.append(bytes(envelope.original_content or envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
