"""What other apps add to the ticket list (work orders: kefu.dispatch), so that the desk never
imports them: a filter by one query parameter, and facts and badges for each row of a page.

A facet must stay cheap at 1,000,000 tickets (the list's p95 budget is 100 ms):
- ``condition`` is a filter on the ticket (an EXISTS subquery), never a join: the list's own
  query keeps its plan (newest first over the id index, then 25 rows);
- ``row_facts`` reads the facts of a whole page with ONE query over the page's ids (a GROUP BY
  over those ids only), never one per row. The list answers (web and API) call it once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.functional import Promise

RowFacts = dict[int, dict[str, int]]


@dataclass(frozen=True)
class RowBadge:
    label: str
    title: str  # the tooltip: what the badge means, in words
    tone: str = "neutral"  # "danger" (red) or "neutral" (grey)
    anchor: str = ""  # a section of the ticket page the badge links to ("work-orders")


@dataclass(frozen=True)
class ListFacet:
    name: str  # the query parameter, e.g. "workorder"
    label: Promise  # what the filter is about, the select's "any" option
    choices: tuple[tuple[str, Promise], ...]  # (value, label)
    condition: Callable[[str, datetime], Q]  # the tickets matching a value, as of ``now``
    row_facts: Callable[[Sequence[int], datetime], RowFacts]  # ids → {id: {fact: n}}
    row_badges: Callable[[dict[str, int]], list[RowBadge]]  # one row's facts → its badges
    quick: tuple[str, ...] = ()  # values offered as quick links in the list's filter bar
    order: int = 100

    def values(self) -> tuple[str, ...]:
        return tuple(value for value, _label in self.choices)

    def choice_label(self, value: str) -> str:
        return next((str(label) for key, label in self.choices if key == value), value)


_facets: dict[str, ListFacet] = {}


def register_list_facet(facet: ListFacet) -> None:
    _facets[facet.name] = facet


def list_facets() -> list[ListFacet]:
    return sorted(_facets.values(), key=lambda facet: (facet.order, facet.name))


def list_facet(name: str) -> ListFacet | None:
    return _facets.get(name)


def facets_condition(chosen: Sequence[tuple[str, str]], now: datetime) -> Q | None:
    """The tickets matching every (facet, value) chosen; unknown facets or values are the
    caller's to refuse (the API answers 400, the web page ignores them)."""
    condition: Q | None = None
    for name, value in chosen:
        facet = _facets.get(name)
        if facet is None or value not in facet.values():
            continue
        term = facet.condition(value, now)
        condition = term if condition is None else condition & term
    return condition


def page_row_facts(ids: Sequence[int], now: datetime) -> RowFacts:
    """Every facet's facts for a page of tickets: one query per facet, whatever the page size."""
    facts: RowFacts = {ticket_id: {} for ticket_id in ids}
    if not ids:
        return facts
    for facet in list_facets():
        for ticket_id, values in facet.row_facts(ids, now).items():
            facts.setdefault(ticket_id, {}).update(values)
    return facts


def row_badges(facts: dict[str, int]) -> list[RowBadge]:
    badges: list[RowBadge] = []
    for facet in list_facets():
        badges.extend(facet.row_badges(facts))
    return badges


def facet_options() -> list[dict[str, Any]]:
    """The facets for a filter form: name, label, choices."""
    return [
        {"name": facet.name, "label": facet.label, "choices": facet.choices}
        for facet in list_facets()
    ]
