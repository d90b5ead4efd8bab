"""Business-hour intervals: parsing, validation and their plain form (minutes since midnight).

Stored on BusinessHours.intervals as ``[["09:00", "12:00"], ["13:00", "18:00"]]``; "24:00" may end
the last interval. The engine works on ``((540, 720), (780, 1080))``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise

from django.utils.translation import gettext as _

from kefu.core.exceptions import ApplicationError

DEFAULT_INTERVALS: tuple[tuple[str, str], ...] = (("09:00", "12:00"), ("13:00", "18:00"))
DAY_MINUTES = 24 * 60
_TIME = re.compile(r"^\s*(\d{1,2})[:：](\d{2})\s*$")
_RANGE_SPLIT = re.compile(r"\s*[-–—~～至]\s*")

Minutes = tuple[tuple[int, int], ...]


def _minutes(text: str) -> int | None:
    match = _TIME.match(text)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def intervals_clean(raw: Iterable[Sequence[str]]) -> list[list[str]]:
    """Check a list of [start, end] pairs and return it sorted and normalised ("9:00" → "09:00").

    Raises ApplicationError (field ``intervals``) for a malformed time, start ≥ end, an overlap
    or an empty list: nothing is half-saved because the caller saves only what this returns.
    """
    errors: list[str] = []
    parsed: list[tuple[int, int]] = []
    for pair in raw:
        if len(pair) != 2:
            errors.append(_("每个时段须写成“开始-结束”，例如 09:00-12:00。"))
            continue
        start, end = _minutes(str(pair[0])), _minutes(str(pair[1]))
        if start is None or end is None:
            errors.append(
                _("时间“%(value)s”无效，请写成 HH:MM（00:00 至 24:00）。")
                % {"value": f"{pair[0]}-{pair[1]}"}
            )
            continue
        if start >= end:
            errors.append(
                _("时段 %(start)s-%(end)s 的开始时间必须早于结束时间。")
                % {"start": _hhmm(start), "end": _hhmm(end)}
            )
            continue
        parsed.append((start, end))
    if not errors and not parsed:
        errors.append(_("请至少填写一个营业时段。"))
    parsed.sort()
    for (s1, e1), (s2, e2) in pairwise(parsed):
        if s2 < e1:
            errors.append(
                _("时段 %(a)s 与 %(b)s 重叠。")
                % {"a": f"{_hhmm(s1)}-{_hhmm(e1)}", "b": f"{_hhmm(s2)}-{_hhmm(e2)}"}
            )
    if errors:
        raise ApplicationError(errors[0], fields={"intervals": errors})
    return [[_hhmm(start), _hhmm(end)] for start, end in parsed]


def intervals_parse_text(text: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-18:00" (commas, semicolons, spaces or new lines between) → pairs."""
    pairs: list[list[str]] = []
    for chunk in re.split(r"[,，;；\n]+", text.strip()):
        chunk = chunk.strip()
        if not chunk:
            continue
        pairs.append(
            _RANGE_SPLIT.split(chunk, maxsplit=1) if _RANGE_SPLIT.search(chunk) else [chunk]
        )
    return intervals_clean(pairs)


def intervals_text(intervals: Iterable[Sequence[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals)


def intervals_minutes(intervals: Iterable[Sequence[str]]) -> Minutes:
    """Stored (already validated) pairs → minutes; invalid rows fall back to the default hours
    rather than stopping every clock (the admin form never saves such rows)."""
    try:
        cleaned = intervals_clean(intervals)
    except ApplicationError:
        cleaned = [list(pair) for pair in DEFAULT_INTERVALS]
    return tuple((_minutes(start) or 0, _minutes(end) or 0) for start, end in cleaned)
