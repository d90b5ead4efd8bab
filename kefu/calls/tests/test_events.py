"""POST /api/v1/calls/events: signed, idempotent, order-independent; the call it builds."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from kefu.calls.models import AgentLine, Call, CallbackTask, CallEventLog
from kefu.calls.signing import sign
from kefu.calls.tests.helpers import SECRET, URL, event, post_event
from kefu.customers.models import Contact, Customer
from kefu.customers.tests.factories import CustomerFactory
from kefu.org.models import User

pytestmark = pytest.mark.django_db


def _nothing_stored() -> None:
    assert Call.objects.count() == 0
    assert CallEventLog.objects.count() == 0
    assert CallbackTask.objects.count() == 0


# --- signature ----------------------------------------------------------------------------


def test_a_signed_event_is_accepted_and_stored() -> None:
    response = post_event(Client(), event("ringing"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] is True
    assert body["duplicate"] is False
    assert body["call"]["status"] == "ringing"
    assert body["call"]["caller"] == "138****5678"  # masked in answers
    call = Call.objects.get()
    assert call.caller == "+8613812345678"  # stored normalised (E.164)
    assert CallEventLog.objects.get().call == call


@pytest.mark.parametrize(
    "case",
    ["missing", "no_timestamp", "wrong_secret", "tampered_body", "stale", "future", "garbage"],
)
def test_an_unsigned_wrong_or_stale_event_is_a_401_and_stores_nothing(case: str) -> None:
    payload = event("ringing")
    body = json.dumps(payload, ensure_ascii=False).encode()
    now = str(int(time.time()))
    old = str(int(time.time()) - 301)
    headers = {
        "missing": {"X-Kefu-Timestamp": now},
        "no_timestamp": {"X-Kefu-Signature": sign(SECRET, now, body)},
        "wrong_secret": {"X-Kefu-Timestamp": now, "X-Kefu-Signature": sign("other", now, body)},
        "tampered_body": {
            "X-Kefu-Timestamp": now,
            "X-Kefu-Signature": sign(SECRET, now, body.replace(b"C-1", b"C-2")),
        },
        "stale": {"X-Kefu-Timestamp": old, "X-Kefu-Signature": sign(SECRET, old, body)},
        "future": {
            "X-Kefu-Timestamp": str(int(time.time()) + 400),
            "X-Kefu-Signature": sign(SECRET, str(int(time.time()) + 400), body),
        },
        "garbage": {"X-Kefu-Timestamp": "yesterday", "X-Kefu-Signature": "sha256=00"},
    }[case]
    response = Client().post(URL, body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    _nothing_stored()


def test_the_same_signed_request_again_is_a_replay_401_and_stores_nothing() -> None:
    # given an accepted event
    client = Client()
    stamp = str(int(time.time()))
    assert post_event(client, event("ringing"), timestamp=stamp).status_code == 200
    # when the very same signed request comes again (captured and replayed in the window)
    replay = post_event(client, event("ringing"), timestamp=stamp)
    # then it is refused, says why, and nothing changes
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "replayed"
    assert "重放" in replay.json()["error"]["message"]
    assert (Call.objects.count(), CallEventLog.objects.count()) == (1, 1)
    # and a replay of a new event's request is refused before anything is stored
    hangup_stamp = str(int(time.time()))
    assert post_event(client, event("hangup"), timestamp=hangup_stamp).status_code == 200
    assert post_event(client, event("hangup"), timestamp=hangup_stamp).status_code == 401
    assert CallEventLog.objects.count() == 2


def test_a_request_that_failed_on_our_side_may_be_sent_again_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the first attempt fails inside the server (nothing stored, a 500)
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    stamp = str(int(time.time()))
    client = Client(raise_request_exception=False)
    with monkeypatch.context() as patch:
        patch.setattr("kefu.calls.api.call_event_ingest", broken)
        assert post_event(client, event("ringing"), timestamp=stamp).status_code == 500
    _nothing_stored()
    # when the PBX resends the same bytes, then it is taken: only accepted signatures count
    again = post_event(client, event("ringing"), timestamp=stamp)
    assert again.status_code == 200
    assert again.json()["duplicate"] is False
    assert Call.objects.count() == 1


def test_a_bearer_token_does_not_replace_the_signature(
    agent: User, api_as: Callable[[User | None], Any]
) -> None:
    response = api_as(agent).post(URL, event("ringing"))
    assert response.status_code == 401
    _nothing_stored()


def test_without_a_configured_secret_every_event_is_refused(settings: Any) -> None:
    settings.CTI_SECRET = ""
    response = post_event(Client(), event("ringing"), secret="")
    assert response.status_code == 401
    _nothing_stored()


def test_a_signed_but_invalid_event_is_a_422_in_the_one_error_shape() -> None:
    response = post_event(Client(), {**event("ringing"), "event": "transferred"})
    assert response.status_code == 422
    assert "event" in response.json()["error"]["fields"]
    _nothing_stored()


# --- idempotency and order ----------------------------------------------------------------


def test_a_retried_event_answers_the_same_and_stores_nothing_new() -> None:
    # a PBX retry is signed anew, with the time of the retry
    client = Client()
    first = post_event(client, event("ringing"), timestamp=str(int(time.time()) - 2)).json()
    again = post_event(client, event("ringing"))
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["event_id"] == first["event_id"]
    assert again.json()["call"]["id"] == first["call"]["id"]
    assert Call.objects.count() == 1
    assert CallEventLog.objects.count() == 1


def test_a_retry_with_other_content_changes_nothing() -> None:
    client = Client()
    post_event(client, event("hangup", at="2025-09-30T16:31:00+08:00"))
    post_event(client, event("hangup", at="2025-09-30T16:45:00+08:00"))
    call = Call.objects.get()
    assert call.ended_at is not None
    assert call.ended_at.isoformat() == "2025-09-30T08:31:00+00:00"


def test_the_database_refuses_a_second_row_for_the_same_call_event() -> None:
    post_event(Client(), event("ringing"))
    log = CallEventLog.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        CallEventLog.objects.create(
            call=log.call, call_ref=log.call_ref, event=log.event, occurred_at=log.occurred_at
        )


ORDERS = [
    ("ringing", "answered", "hangup"),
    ("hangup", "answered", "ringing"),
    ("answered", "hangup", "ringing"),
    ("hangup", "ringing", "answered"),
]


@pytest.mark.parametrize("order", ORDERS)
def test_events_in_any_order_give_the_same_call(order: tuple[str, ...], agent: User) -> None:
    # given a call queued at 16:30:00, ringing at :08, answered at :12, hung up at 16:32:07
    AgentLine.objects.create(user=agent, extension="8001")
    events = {
        "ringing": event(
            "ringing", at="2025-09-30T16:30:08+08:00", queued_at="2025-09-30T16:30:00+08:00"
        ),
        "answered": event("answered", at="2025-09-30T16:30:12+08:00", agent="8001"),
        "hangup": event("hangup", at="2025-09-30T16:32:07.500+08:00"),
    }
    client = Client()
    # when they arrive in this order
    for name in order:
        assert post_event(client, events[name]).status_code == 200
    # then the call is the same whatever the order
    call = Call.objects.get()
    assert call.status == Call.Status.ENDED
    assert call.outcome == Call.Outcome.ANSWERED
    assert call.agent == agent
    assert call.wait_seconds == Decimal("12.000")  # queue 8 s + ringing 4 s
    assert call.talk_seconds == Decimal("115.500")
    assert call.out_of_hours is False
    assert call.callback is None
    assert not CallbackTask.objects.filter(status=CallbackTask.Status.OPEN).exists()


def test_an_answer_after_the_hangup_withdraws_the_callback_it_had_opened() -> None:
    client = Client()
    post_event(client, event("hangup", at="2025-09-30T16:31:00+08:00"))
    task = CallbackTask.objects.get()
    assert task.status == CallbackTask.Status.OPEN
    post_event(client, event("answered", at="2025-09-30T16:30:20+08:00"))
    task.refresh_from_db()
    assert task.status == CallbackTask.Status.CANCELLED
    assert Call.objects.get().outcome == Call.Outcome.ANSWERED


# --- outcome, callbacks, matching ---------------------------------------------------------


def test_an_abandoned_call_in_hours_opens_a_callback_due_two_hours_later(agent: User) -> None:
    AgentLine.objects.create(user=agent, extension="8001")
    client = Client()
    post_event(client, event("ringing", at="2025-09-30T10:00:00+08:00", agent="8001"))
    post_event(client, event("hangup", at="2025-09-30T10:00:45+08:00"))
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.ABANDONED
    assert call.wait_seconds == Decimal("45.000")
    assert call.talk_seconds is None
    task = CallbackTask.objects.get()
    assert call.callback == task
    assert task.reason == CallbackTask.Reason.ABANDONED
    assert task.number == "+8613812345678"
    assert task.assignee == agent  # the agent it rang on
    assert task.due_at.isoformat() == "2025-09-30T04:00:45+00:00"  # 12:00:45 Shanghai


def test_a_call_out_of_hours_opens_a_voicemail_callback_due_after_the_next_opening() -> None:
    # Friday 20:15: the next opening is Saturday 10-11 09:00 (a 调休 make-up workday), due 11:00
    client = Client()
    post_event(client, event("ringing", call_id="N-1", at="2025-10-10T20:15:00+08:00"))
    post_event(client, event("hangup", call_id="N-1", at="2025-10-10T20:15:30+08:00"))
    call = Call.objects.get()
    assert call.out_of_hours is True
    task = CallbackTask.objects.get()
    assert task.reason == CallbackTask.Reason.OUT_OF_HOURS
    assert task.due_at.isoformat() == "2025-10-11T03:00:00+00:00"  # Sat 11:00 Shanghai


def test_a_second_missed_call_from_the_number_joins_the_open_callback() -> None:
    client = Client()
    for call_id, minute in (("M-1", "10"), ("M-2", "20")):
        post_event(client, event("ringing", call_id=call_id, at=f"2025-09-30T11:{minute}:00+08:00"))
        post_event(client, event("hangup", call_id=call_id, at=f"2025-09-30T11:{minute}:30+08:00"))
    task = CallbackTask.objects.get()
    assert set(task.calls.values_list("call_id", flat=True)) == {"M-1", "M-2"}


def test_an_anonymous_caller_gets_no_callback() -> None:
    client = Client()
    post_event(client, event("hangup", caller="anonymous"))
    assert Call.objects.get().outcome == Call.Outcome.ABANDONED
    assert not CallbackTask.objects.exists()


def test_the_caller_matches_the_customer_by_its_own_mobile() -> None:
    customer = CustomerFactory.create(mobile="+8613812345678")
    post_event(Client(), event("ringing", caller="138 1234 5678"))
    assert Call.objects.get().customer == customer


def test_the_caller_matches_a_customer_through_a_contact_mobile() -> None:
    customer = CustomerFactory.create(mobile="+8613900000001")
    contact = Contact.objects.create(customer=customer, name="李工", mobile="+8613812345678")
    post_event(Client(), event("ringing", caller="+86 138-1234-5678"))
    call = Call.objects.get()
    assert call.customer == customer
    assert call.contact == contact


def test_an_unknown_number_matches_no_customer_and_an_erased_one_matches_nothing() -> None:
    erased = CustomerFactory.create(mobile="+8613812345678")
    Customer.objects.filter(pk=erased.pk).update(erased_at="2025-01-01T00:00:00+08:00")
    post_event(Client(), event("ringing"))
    assert Call.objects.get().customer is None


def test_the_agent_is_found_by_extension_username_or_employee_number(
    make_user: Callable[..., User],
) -> None:
    by_line = make_user("zhang", "agent")
    AgentLine.objects.create(user=by_line, extension="8001")
    make_user("wang", "agent")
    by_no = make_user("li", "agent")
    User.objects.filter(pk=by_no.pk).update(employee_no="KF-007")
    client = Client()
    for call_id, ref in (("A-1", "8001"), ("A-2", "wang"), ("A-3", "KF-007"), ("A-4", "9999")):
        post_event(client, event("ringing", call_id=call_id, agent=ref))
    agents = dict(Call.objects.values_list("call_id", "agent__username"))
    assert agents == {"A-1": "zhang", "A-2": "wang", "A-3": "li", "A-4": None}
    assert Call.objects.get(call_id="A-4").agent_ref == "9999"


def test_an_outbound_call_matches_the_called_customer() -> None:
    customer = CustomerFactory.create(mobile="+8613812345678")
    post_event(
        Client(),
        event("ringing", direction="outbound", caller="8001", called="13812345678"),
    )
    call = Call.objects.get()
    assert call.direction == Call.Direction.OUTBOUND
    assert call.customer == customer


def test_a_naive_timestamp_is_shanghai_time() -> None:
    post_event(Client(), event("ringing", at="2025-09-30T16:30:00"))
    assert Call.objects.get().offered_at.isoformat() == "2025-09-30T08:30:00+00:00"
