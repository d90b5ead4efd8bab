"""Reading a raw message into what the desk needs, without ever giving up on it.

Mail from Chinese senders is often labelled ``gb2312`` while it holds GBK characters (Outlook
and Foxmail did that for years), and some clients send no charset at all: every Chinese label
is read as GB18030 (a superset of both), and text without a usable label is tried as UTF-8,
then GB18030, then Latin-1 (which never fails). A malformed MIME structure (a missing boundary,
broken headers) leaves whatever text can be found: the customer's words are kept.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

# Labels that mean "some GB encoding": GB18030 decodes all of them.
_GB_LABELS = {"gb2312", "gbk", "x-gbk", "cp936", "ms936", "gb_2312-80", "euc-cn", "x-euc-cn"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
MAX_KEY = 255


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    sent_at: datetime | None = None
    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers, the nearest first (In-Reply-To, then References from
        the newest back)."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


def message_key(raw: bytes, message_id: str) -> str:
    """The unique key of a message: its Message-ID, or a hash of its bytes without one."""
    if message_id and len(message_id) <= MAX_KEY:
        return message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def decode_bytes(data: bytes, charset: str | None) -> str:
    label = (charset or "").strip().strip('"').lower()
    if label in _GB_LABELS:
        label = "gb18030"
    tried: list[str] = [label] if label else []
    tried += [c for c in ("utf-8", "gb18030") if c not in tried]
    for codec in tried:
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def clean(value: str, limit: int) -> str:
    """No control characters (PostgreSQL refuses NUL), no surrogates, at most ``limit``."""
    value = _CONTROL.sub("", value).encode("utf-8", "replace").decode("utf-8")
    return value.strip()[:limit]


def _header_text(raw_value: str) -> str:
    """An RFC 2047 header decoded with the GB rule above (the stdlib would read a GBK subject
    labelled gb2312 with replacement characters)."""
    try:
        parts = decode_header(raw_value)
    except Exception:  # a malformed encoded word: keep the raw text
        return raw_value
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    return re.sub(r"\s*\n\s*", " ", "".join(out))


def _raw_header(msg: Message, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _ids(value: str) -> list[str]:
    return [mid for mid in _MESSAGE_ID.findall(value or "") if len(mid) <= MAX_KEY]


class _TextExtractor(HTMLParser):
    _BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "table", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; this is for the truly broken
        return re.sub(r"<[^>]*>", " ", html)
    text = "".join(parser.parts)
    text = re.sub(r"[ \t\r\f\v\u00a0]+", " ", text)
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", "\n".join(line.strip() for line in text.split("\n")))


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def _filename(part: Message) -> str:
    raw = part.get_param("filename", header="content-disposition") or part.get_param("name")
    if isinstance(raw, tuple):  # RFC 2231: (charset, language, value)
        charset, _lang, value = raw
        try:
            return decode_bytes(value.encode("latin-1", "replace"), charset)
        except Exception:
            return str(value)
    return _header_text(str(raw)) if raw else ""


def parse_message(raw: bytes) -> ParsedMail:
    """Everything the desk needs from one raw message; never raises on bad input."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    parsed = ParsedMail(defects=[type(d).__name__ for d in msg.defects][:10])
    ids = _ids(_raw_header(msg, "Message-ID"))
    parsed.message_id = ids[0] if ids else ""
    parsed.in_reply_to = _ids(_raw_header(msg, "In-Reply-To"))
    parsed.references = _ids(_raw_header(msg, "References"))
    parsed.subject = clean(_header_text(_raw_header(msg, "Subject")), 500)
    try:
        addresses = getaddresses([_raw_header(msg, "Reply-To") or _raw_header(msg, "From")])
    except Exception:
        addresses = []
    for name, address in addresses:
        if "@" in address:
            parsed.from_address = clean(address, 254).lower()
            parsed.from_name = clean(_header_text(name), 200)
            break
    try:
        parsed.sent_at = parsedate_to_datetime(_raw_header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        parsed.sent_at = None
    plain: list[str] = []
    html: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if disposition == "attachment" or (filename and not content_type.startswith("text/")):
            parsed.attachments.append(
                Attachment(
                    filename=clean(filename, 200) or "attachment",
                    content_type=content_type,
                    data=_payload(part),
                )
            )
            continue
        if content_type == "text/html":
            html.append(decode_bytes(_payload(part), part.get_content_charset()))
        elif content_type.startswith("text/") or not msg.is_multipart():
            plain.append(decode_bytes(_payload(part), part.get_content_charset()))
    if any(p.strip() for p in plain):
        text = "\n\n".join(p.strip() for p in plain if p.strip())
    else:
        text = "\n\n".join(html_to_text(h) for h in html)
    parsed.text = clean(text.replace("\r\n", "\n"), 20000)
    return parsed
