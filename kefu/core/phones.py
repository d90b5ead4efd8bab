"""Chinese phone numbers: parse, validate, store as E.164, mask for display (domain.md §6)."""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext as _

from kefu.core.exceptions import ApplicationError

_MOBILE_NATIONAL = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-.()（）]")
# After separators are removed: digits (full-width ones too), optionally after one "+". Letters
# are refused here: phonenumbers would read "1381234ABCD" as a keypad vanity number.
_DIALLABLE = re.compile(r"^\+?\d+$")


class InvalidPhone(ApplicationError):
    code = "invalid_phone"


def normalize_mobile(raw: str) -> str:
    """A CN mobile number in E.164 (+8613812345678), or InvalidPhone with a reason in Chinese.

    Accepts 13812345678, 138 1234 5678, 138-1234-5678, +86 138…, 0086 138…
    """
    text = _SEPARATORS.sub("", raw or "")
    if not text:
        raise InvalidPhone(_("请填写手机号码。"))
    if not _DIALLABLE.match(text):
        raise InvalidPhone(_("“%(value)s”不是有效的手机号码。") % {"value": raw[:40]})
    if text.startswith("0086"):
        text = "+86" + text[4:]
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_("“%(value)s”不是有效的手机号码。") % {"value": raw[:40]}) from None
    national = str(parsed.national_number)
    if parsed.country_code != 86 or not _MOBILE_NATIONAL.match(national):
        raise InvalidPhone(
            _("“%(value)s”不是有效的中国大陆手机号码（11 位，以 13–19 开头）。")
            % {"value": raw[:40]}
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_mobile(e164: str) -> str:
    """+8613812345678 → 13812345678 (how people in China write and read it)."""
    return e164[3:] if e164.startswith("+86") else e164


def mask_mobile(e164: str) -> str:
    """+8613812345678 → 138****5678; empty stays empty.

    Anything that is not an 11-digit national number keeps at most its first and last two
    characters, and only when at least half of it stays hidden; shorter values are all stars.
    """
    if not e164:
        return ""
    national = national_mobile(e164)
    if len(national) == 11:
        return f"{national[:3]}****{national[7:]}"
    if len(national) < 8:
        return "*" * len(national)
    return national[:2] + "*" * (len(national) - 4) + national[-2:]


def mask_name(name: str) -> str:
    """张三丰 → 张**; used where a person's name must be shown without the person.

    A one-character name is all stars: its first character would be the whole name.
    """
    name = name.strip()
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", text)
