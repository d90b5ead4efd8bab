"""Extension points others fill: routing depends on neither tickets nor key accounts.

* ``register_bound_team_lookup(func)``: ``func(customer_id) -> team_id | None``. The key-account
  issue registers one; a bound team wins over every routing rule.
* ``register_load_counter(func)``: ``func(user_ids) -> {user_id: open items}``. The desk
  registers one (open tickets), field service may add another (open work orders); the counts of
  all counters are added up. Least-loaded assignment and the supervisors' board read them.

Register in ``AppConfig.ready``; registering the same function twice keeps one copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

BoundTeamLookup = Callable[[int], int | None]
LoadCounter = Callable[[list[int]], Mapping[int, int]]

_bound_team_lookups: list[BoundTeamLookup] = []
_load_counters: list[LoadCounter] = []


def register_bound_team_lookup(func: BoundTeamLookup) -> BoundTeamLookup:
    if func not in _bound_team_lookups:
        _bound_team_lookups.append(func)
    return func


def unregister_bound_team_lookup(func: BoundTeamLookup) -> None:
    if func in _bound_team_lookups:
        _bound_team_lookups.remove(func)


def register_load_counter(func: LoadCounter) -> LoadCounter:
    if func not in _load_counters:
        _load_counters.append(func)
    return func


def unregister_load_counter(func: LoadCounter) -> None:
    if func in _load_counters:
        _load_counters.remove(func)


def bound_team_for(customer_id: int | None) -> int | None:
    """The first team a registered lookup binds the customer to, or None."""
    if customer_id is None:
        return None
    for lookup in _bound_team_lookups:
        team_id = lookup(customer_id)
        if team_id is not None:
            return team_id
    return None


def loads_for(user_ids: Iterable[int]) -> dict[int, int]:
    """Open items per user, summed over every registered counter (0 when none is registered)."""
    ids = list(user_ids)
    loads = dict.fromkeys(ids, 0)
    if not ids:
        return loads
    for counter in _load_counters:
        for user_id, count in counter(ids).items():
            if user_id in loads:
                loads[user_id] += int(count)
    return loads
