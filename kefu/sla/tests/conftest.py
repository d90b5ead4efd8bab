from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module

import pytest
from django.apps import apps

from kefu.sla.engine import sla_cache_clear
from kefu.sla.models import SlaPolicy
from kefu.tiering.models import TierRuleSet


@pytest.fixture(autouse=True)
def _fresh_sla_snapshot() -> Iterator[None]:
    """Each test reads the calendar and policies of its own database state."""
    sla_cache_clear()
    yield
    sla_cache_clear()


@pytest.fixture(autouse=True)
def _sla_defaults(request: pytest.FixtureRequest) -> None:
    """The rows of the data migrations (default policies, hours, deadlines; the default tier
    rule set): a live-server test earlier in this process flushes them away."""
    if "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")
    if not SlaPolicy.objects.exists():
        import_module("kefu.sla.migrations.0002_fill_defaults").fill(apps, None)
    if not TierRuleSet.objects.filter(is_active=True).exists():
        import_module("kefu.tiering.migrations.0002_fill_default_rule_set").create_default(
            apps, None
        )
    sla_cache_clear()
