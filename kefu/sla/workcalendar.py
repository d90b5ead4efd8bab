"""The working calendar: statutory data from the ``holidays`` package (State Council notices,
with 调休 make-up workdays), hand-entered notices and company adjustments on top, Mon–Fri for a
year nobody covers. Pure Python: the engine builds one WorkCalendar per cache snapshot.

Why ``holidays`` and not ``chinesecalendar``: both encode the notices with make-up workdays and
agree on every day of 2004–2026 but one; chinesecalendar 1.11.0 stops at 2026 (NotImplementedError
after), holidays 0.109 has the notices of 2001–2026. Past its last notice holidays still answers,
by fixed rules (festival dates, weekend holidays moved to Monday) but without any make-up workday,
which is a guess, not the notice; so only the years it has a notice for count as covered here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

# ChinaStaticHolidays: where the package keeps each notice's moved days (one entry per year).
from holidays.countries.china import China, ChinaStaticHolidays

# Cached across languages, so kept in Chinese (the package's names are Chinese too).
MAKEUP_WORKDAY_NAME = "调休上班"


class DaySource:
    COMPANY = "company"  # a company adjustment (CalendarDay without a notice)
    NOTICE = "notice"  # a day of a hand-entered State Council notice
    STATUTORY = "statutory"  # the holidays package
    WEEKDAY = "weekday"  # an ordinary Mon–Fri working day or weekend in a covered year
    FALLBACK = "fallback"  # Mon–Fri in a year nobody covers


@dataclass(frozen=True)
class DayInfo:
    is_workday: bool
    name: str = ""
    source: str = DaySource.WEEKDAY


@lru_cache(maxsize=1)
def package_years() -> frozenset[int]:
    """The years the package has a State Council notice for."""
    notices: Mapping[int, object] = getattr(ChinaStaticHolidays, "special_public_holidays", {})
    if not notices:
        return frozenset()
    return frozenset(range(min(notices), max(notices) + 1))


@lru_cache(maxsize=64)
def statutory_year(year: int) -> Mapping[date, DayInfo]:
    """The days of ``year`` that are not plain Mon–Fri: named holidays (also those on a weekend,
    for display) and make-up working weekend days. Empty for a year without a notice."""
    if year not in package_years():
        return {}
    data = China(years=year, language="zh_CN")  # type: ignore[no-untyped-call]
    days: dict[date, DayInfo] = {
        day: DayInfo(False, str(name), DaySource.STATUTORY)
        for day, name in data.items()
        if day.year == year
    }
    for day in data.weekend_workdays:
        if day.year == year:
            days[day] = DayInfo(True, MAKEUP_WORKDAY_NAME, DaySource.STATUTORY)
    return days


class WorkCalendar:
    """Answers "is this a working day?" from overrides, then the package, then Mon–Fri."""

    def __init__(
        self, overrides: Mapping[date, DayInfo] | None = None, notice_years: Iterable[int] = ()
    ) -> None:
        self.overrides = dict(overrides or {})
        self.notice_years = frozenset(notice_years)
        self._memo: dict[date, bool] = {}

    def covers(self, year: int) -> bool:
        return year in package_years() or year in self.notice_years

    def day(self, day: date) -> DayInfo:
        override = self.overrides.get(day)
        if override is not None:
            return override
        statutory = statutory_year(day.year).get(day)
        if statutory is not None:
            return statutory
        source = DaySource.WEEKDAY if self.covers(day.year) else DaySource.FALLBACK
        return DayInfo(day.weekday() < 5, "", source)

    def is_workday(self, day: date) -> bool:
        # The hot path of every clock: memoised (a snapshot's calendar never changes).
        known = self._memo.get(day)
        if known is None:
            known = self._memo[day] = self.day(day).is_workday
        return known

    def uncovered_years(self, years: Iterable[int]) -> list[int]:
        return sorted({year for year in years if not self.covers(year)})
