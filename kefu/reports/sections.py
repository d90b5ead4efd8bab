"""The pluggable sections of the monthly report (客服月报).

A section is any object with ``key``, ``title``, ``order`` and ``build(ctx) -> SectionResult``;
register one instance with ``register_section`` (from an AppConfig.ready(), or from a module of
``kefu.reports.builtin``, which the reports app imports at start-up). Sections build in ``order``
(customer movements 10, complaints 20, service 30, profitability 40, action lists 50; later
issues 60+), each sees what the earlier ones left in ``ctx.shared``.

Cell and figure values are JSON-safe, by kind:
- "text": str; "int": int; "date": "YYYY-MM-DD";
- "money": str with two decimals, "1234.56" (yuan; exact, never a float);
- "percent": float on the 0–100 scale, as KpiValue does (50.0 means 50.0 %);
- "decimal": float.
None is an empty cell ("—" on the page). The XLSX export turns each kind into a real number
with its number format; the page and the PDF format them for people.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.functional import Promise

if TYPE_CHECKING:
    from kefu.reports.models import ReportSettings

KINDS = ("text", "int", "money", "percent", "decimal", "date")
CHART_KINDS = ("bar", "line", "pie")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str  # "text" | "int" | "money" | "percent" | "decimal" | "date"


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # "bar" | "line" | "pie"
    categories: list[str]
    series: list[dict[str, Any]]  # [{"name": str, "data": [numbers]}]


@dataclass
class Figure:
    label: str
    value: Any
    kind: str  # as Column.kind


@dataclass
class SectionResult:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["title"] = str(self.title)
        return data


@dataclass
class ReportContext:
    month: date  # first day of the report month
    start: datetime  # aware, first instant of the month (Asia/Shanghai)
    end: datetime  # aware, first instant of the next month
    settings: ReportSettings
    shared: dict[str, Any] = field(default_factory=dict)


class Section(Protocol):
    """key, title and order are read-only members, so a plain class attribute satisfies them
    (``title = gettext_lazy("客户动态")`` type-checks as a Promise)."""

    @property
    def key(self) -> str: ...

    @property
    def title(self) -> Promise: ...

    @property
    def order(self) -> int: ...

    def build(self, ctx: ReportContext) -> SectionResult: ...


_REGISTRY: dict[str, Section] = {}


def register_section(section: Section) -> None:
    """Add a section (or replace the one with the same key: tests swap in fakes this way)."""
    _REGISTRY[section.key] = section


def unregister_section(key: str) -> None:
    _REGISTRY.pop(key, None)


def sections() -> list[Section]:
    """Every registered section, by order (then key, so equal orders are stable)."""
    return sorted(_REGISTRY.values(), key=lambda section: (section.order, section.key))
