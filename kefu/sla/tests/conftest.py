from __future__ import annotations

from collections.abc import Iterator

import pytest

from kefu.sla.engine import sla_cache_clear


@pytest.fixture(autouse=True)
def _fresh_sla_snapshot() -> Iterator[None]:
    """Each test reads the calendar and policies of its own database state."""
    sla_cache_clear()
    yield
    sla_cache_clear()
