"""Chinese identifiers on the archive: the unified social credit code (统一社会信用代码,
GB 32100-2015) and the resident ID number (居民身份证号码, GB 11643-1999), with their check
characters, and the ID number's display mask (domain.md §6: first 6 + last 4).

Small and self-contained on purpose: python-stdnum (``stdnum.cn.uscc``, ``stdnum.cn.ric``) does
the same checks but is not installed here, and two weighted sums do not justify a dependency.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

# GB 32100-2015 §4: 31 characters, the 10 digits and the capitals without I, O, Z, S, V.
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"
_RIC_SHAPE = re.compile(r"^\d{17}[\dX]$")


def uscc_check_char(first17: str) -> str:
    total = sum(
        _USCC_CHARSET.index(char) * weight
        for char, weight in zip(first17, _USCC_WEIGHTS, strict=True)
    )
    return _USCC_CHARSET[(31 - total % 31) % 31]


def normalize_uscc(raw: str) -> str:
    """The code in capitals without spaces, or ValueError with the reason in Chinese."""
    code = re.sub(r"[\s\-]", "", raw or "").upper()
    if len(code) != 18:
        raise ValueError(_("统一社会信用代码应为 18 位（当前 %(len)d 位）。") % {"len": len(code)})
    if not _USCC_SHAPE.match(code):
        raise ValueError(_("统一社会信用代码含有不允许的字符（不使用 I、O、Z、S、V）。"))
    if uscc_check_char(code[:17]) != code[17]:
        raise ValueError(_("统一社会信用代码校验位不正确，请核对。"))
    return code


def ric_check_char(first17: str) -> str:
    total = sum(int(char) * weight for char, weight in zip(first17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


def normalize_id_number(raw: str) -> str:
    """An 18-character resident ID number (final x upper-cased), or ValueError."""
    number = re.sub(r"\s", "", raw or "").upper()
    if not _RIC_SHAPE.match(number):
        raise ValueError(_("身份证号应为 18 位：17 位数字加 1 位数字或 X。"))
    if ric_check_char(number[:17]) != number[17]:
        raise ValueError(_("身份证号校验位不正确，请核对。"))
    return number


def mask_id_number(number: str) -> str:
    """110101199003071234 → 110101********1234; short values are all stars."""
    if not number:
        return ""
    if len(number) < 12:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
