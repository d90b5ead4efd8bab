from __future__ import annotations

from collections.abc import Iterator

import pytest

from kefu.routing import hooks


@pytest.fixture(autouse=True)
def _no_hooks_left_over() -> Iterator[None]:
    """Tests register fake lookups and counters; each test starts and ends without them."""
    lookups, counters = list(hooks._bound_team_lookups), list(hooks._load_counters)
    hooks._bound_team_lookups.clear()
    hooks._load_counters.clear()
    yield
    hooks._bound_team_lookups[:] = lookups
    hooks._load_counters[:] = counters
