"""Cleaning free text that arrives from forms, APIs and imports."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_chars(value: str) -> bool:
    """NUL and other C0 controls (tab and newlines allowed): PostgreSQL refuses NUL outright."""
    return bool(_CONTROL.search(value))


def clean_text(value: str, *, max_length: int, required: bool = False) -> str:
    """Stripped text, or ValueError with the reason in the user's language."""
    value = value.strip()
    if has_control_chars(value):
        raise ValueError(_("不能包含控制字符。"))
    if required and not value:
        raise ValueError(_("此项为必填项。"))
    if len(value) > max_length:
        raise ValueError(
            _("最多 %(max)d 个字符（当前 %(len)d 个）。") % {"max": max_length, "len": len(value)}
        )
    return value
