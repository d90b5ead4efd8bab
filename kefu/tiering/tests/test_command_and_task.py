from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from kefu.tiering.models import TierChange
from kefu.tiering.tasks import tiers_recompute_task
from kefu.tiering.tests.helpers import customer, order, tier_of

pytestmark = pytest.mark.django_db


def test_recompute_tiers_now_prints_counts_and_seconds() -> None:
    person = customer("命令行客户")
    order(person, 10_000, 1_000)
    out = io.StringIO()

    call_command("recompute_tiers", "--now", stdout=out)

    assert "Evaluated 1 customers: 1 upgraded" in out.getvalue()
    assert out.getvalue().rstrip().endswith("s.")
    assert TierChange.objects.get(customer=person).kind == "recompute"


def test_nightly_task_recomputes_with_hysteresis() -> None:
    person = customer("夜间客户")
    order(person, 10_000, 1_000)

    result = tiers_recompute_task.call_local()

    assert result["kind"] == "nightly"
    assert tier_of(person) == "diamond"
