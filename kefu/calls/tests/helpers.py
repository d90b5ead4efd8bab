from __future__ import annotations

import json
import time
from typing import Any

from django.test import Client, TestCase

from kefu.calls.signing import sign

SECRET = "test-cti-secret"  # kefu/settings_test.py
URL = "/api/v1/calls/events"


def event(
    kind: str, call_id: str = "C-1", at: str = "2025-09-30T16:30:00+08:00", **extra: Any
) -> dict[str, Any]:
    """A call event as a PBX sends it; a Tuesday afternoon (business hours) by default."""
    return {
        "event": kind,
        "call_id": call_id,
        "timestamp": at,
        "caller": "13812345678",
        "called": "4008001234",
        "queue": "售后",
        **extra,
    }


def post_event(
    client: Client,
    payload: Any,
    *,
    secret: str = SECRET,
    timestamp: str | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body = json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time())) if timestamp is None else timestamp
    sent = {"X-Kefu-Timestamp": stamp, "X-Kefu-Signature": signature or sign(secret, stamp, body)}
    if headers is not None:
        sent = headers
    # run the on-commit work (the screen pop) as production would after the commit
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, body, content_type="application/json", headers=sent)
