"""The hang-up event may carry hold and after-call work (AHT = talk + hold + ACW)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from kefu.calls.models import Call
from kefu.calls.tests.helpers import event, post_event

pytestmark = pytest.mark.django_db

T0 = "2025-09-30T16:30:00+08:00"
T1 = "2025-09-30T16:30:12+08:00"
T2 = "2025-09-30T16:35:12+08:00"


def test_hold_and_acw_come_with_the_hangup_and_a_retry_changes_nothing() -> None:
    client = Client()
    post_event(client, event("ringing", at=T0))
    post_event(client, event("answered", at=T1, agent="8001"))
    hangup = event("hangup", at=T2, hold_seconds=35.5, acw_seconds="60")
    response = post_event(client, hangup)
    assert response.status_code == 200, response.content
    assert response.json()["call"]["hold_seconds"] == 35.5
    call = Call.objects.get()
    assert (call.talk_seconds, call.hold_seconds, call.acw_seconds) == (
        Decimal("300.000"),
        Decimal("35.500"),
        Decimal("60.000"),
    )
    # a retried hang-up with other figures is a duplicate: the first figures stay
    retry = post_event(client, event("hangup", at=T2, hold_seconds=99, acw_seconds=99))
    assert retry.json()["duplicate"] is True
    call.refresh_from_db()
    assert (call.hold_seconds, call.acw_seconds) == (Decimal("35.500"), Decimal("60.000"))


def test_an_abandoned_call_has_no_hold_or_acw_and_negative_figures_are_refused() -> None:
    client = Client()
    assert post_event(client, event("hangup", at=T0, hold_seconds=-1)).status_code == 422
    assert not Call.objects.exists()
    post_event(client, event("ringing", at=T0))
    post_event(client, event("hangup", at=T1, acw_seconds=30))
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.ABANDONED
    assert (call.hold_seconds, call.acw_seconds) == (None, None)


def test_a_hangup_without_the_figures_leaves_them_empty() -> None:
    client = Client()
    post_event(client, event("answered", at=T1, agent="8001"))
    post_event(client, event("hangup", at=T2))
    call = Call.objects.get()
    assert (call.hold_seconds, call.acw_seconds) == (None, None)
