"""HMAC-SHA256 signatures of call events (the PBX and Kefu share KEFU_CTI_SECRET).

The PBX sends two headers with each POST:

* ``X-Kefu-Timestamp``: Unix time in seconds when it signed the request;
* ``X-Kefu-Signature``: ``sha256=`` + hex HMAC-SHA256 over ``<timestamp>.<raw body>``.

A timestamp more than 5 minutes away from our clock is refused, so a captured request cannot be
replayed later; the signature binds the timestamp to the body. Within those 5 minutes a request
whose signature was already accepted is refused too (``replayed``): the signatures of accepted
events are remembered for twice the window in the "calls" cache, shared by every process. A PBX
retry is therefore signed anew, with the time of the retry; it is answered idempotently, by
(call id, event). A signature is remembered only once its event is stored, so an identical
resend after a failure (a 500, a lost connection before the answer) is still taken.
bench/cti_replay.py signs the same way (with the standard library only, so a PBX integrator can
copy it).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from kefu.calls.screenpop import pop_cache

TIMESTAMP_HEADER = "X-Kefu-Timestamp"
SIGNATURE_HEADER = "X-Kefu-Signature"
MAX_SKEW_SECONDS = 300
SEEN_SECONDS = 2 * MAX_SKEW_SECONDS  # older signatures fail the timestamp check anyway


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    *, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> bool:
    """True when the signature is right and the timestamp fresh (both checked, in constant
    time for the signature)."""
    if not secret or not timestamp or not signature:
        return False
    try:
        signed_at = int(timestamp.strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - signed_at) > MAX_SKEW_SECONDS:
        return False
    expected = sign(secret, timestamp.strip(), body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def _seen_key(signature: str) -> str:
    return "kefu:calls:signature:" + hashlib.sha256(signature.strip().encode()).hexdigest()


def replayed(signature: str) -> bool:
    """True when an event with this very signature was already accepted (see the module)."""
    return pop_cache().get(_seen_key(signature)) is not None


def remember(signature: str) -> None:
    """Note an accepted event's signature: the same signed request again is a replay."""
    pop_cache().set(_seen_key(signature), 1, timeout=SEEN_SECONDS)
