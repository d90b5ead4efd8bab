"""Replay a call to Kefu as a PBX would: signed ringing → answered → hangup events.

    .venv/bin/python bench/cti_replay.py --url http://127.0.0.1:8765 --agent 8001 \
        --caller 13812345678 [--abandon] [--pause 2] [--order hangup,ringing] [--retry]

The secret comes from --secret or KEFU_CTI_SECRET. Timestamps of the events are the current time
minus the durations given (--wait, --talk), so the call lies in the recent past; --at sets the
time the call came in instead (ISO 8601), e.g. to replay an out-of-hours call. --pause waits
that many seconds between posts (a browser walk sees the screen pop before the answer).
--retry posts every event twice, the second signed anew at its own time as a PBX retries (it
must answer duplicate=true; the same signed request twice would be refused as a replay).
--order changes the order the events are posted in (out of order). Only the standard library:
a PBX integrator can copy the signing part. Talks only to loopback addresses unless --any-host
is given.

Exit status 0 when every post answered 200.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", as kefu/calls/signing.py checks it."""
    return (
        "sha256="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )


def post_event(
    url: str, secret: str, event: dict[str, Any], *, after: str = ""
) -> tuple[int, Any, float, str]:
    """Sign and post one event; the answer's status, body, seconds and the timestamp signed.

    ``after``: the timestamp of an earlier attempt of this event. A retry is signed anew at
    its own time (Kefu refuses the same signed request twice as a replay), so it waits for the
    next second if need be."""
    body = json.dumps(event, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    while timestamp == after:
        time.sleep(1.001 - time.time() % 1)
        timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (http(s) only: checked in main)
        url.rstrip("/") + "/api/v1/calls/events",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Kefu-Timestamp": timestamp,
            "X-Kefu-Signature": sign(secret, timestamp, body),
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, text = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    elapsed = time.perf_counter() - started
    try:
        answer: Any = json.loads(text)
    except ValueError:
        answer = text.decode("utf-8", "replace")[:500]
    return status, answer, elapsed, timestamp


def call_events(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    if args.at:
        offered = dt.datetime.fromisoformat(args.at)
        if offered.tzinfo is None:
            offered = offered.replace(tzinfo=SHANGHAI)
    else:
        offered = dt.datetime.now(SHANGHAI) - dt.timedelta(seconds=args.wait + args.talk)
    common = {
        "call_id": args.call_id or f"replay-{uuid.uuid4().hex[:16]}",
        "caller": args.caller,
        "called": args.called,
        "queue": args.queue,
        "agent": args.agent,
    }
    ring_at = offered + dt.timedelta(seconds=min(args.queue_seconds, args.wait))
    answer_at = offered + dt.timedelta(seconds=args.wait)
    events = {
        "ringing": {
            **common,
            "event": "ringing",
            "timestamp": ring_at.isoformat(),
            "queued_at": offered.isoformat(),
        },
        "answered": {**common, "event": "answered", "timestamp": answer_at.isoformat()},
        "hangup": {
            **common,
            "event": "hangup",
            "timestamp": (
                answer_at + dt.timedelta(seconds=0 if args.abandon else args.talk)
            ).isoformat(),
        },
    }
    if args.abandon:
        del events["answered"]
    return events


def _loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(
        ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8765", help="Kefu's base URL")
    parser.add_argument("--secret", default=os.environ.get("KEFU_CTI_SECRET", ""))
    parser.add_argument("--call-id", default="")
    parser.add_argument("--caller", default="13812345678")
    parser.add_argument("--called", default="4008001234")
    parser.add_argument("--queue", default="售后")
    parser.add_argument("--agent", default="", help="extension, 工号 or username of the agent")
    parser.add_argument(
        "--at",
        default="",
        help="when the call came in (ISO 8601); default: now minus wait and talk",
    )
    parser.add_argument(
        "--queue-seconds", type=float, default=5.0, help="time in the queue before ringing"
    )
    parser.add_argument("--wait", type=float, default=12.0, help="queue + ringing seconds")
    parser.add_argument("--talk", type=float, default=95.0, help="talk seconds")
    parser.add_argument(
        "--abandon", action="store_true", help="the caller hangs up before an answer"
    )
    parser.add_argument("--order", default="", help="post order, e.g. hangup,answered,ringing")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between posts")
    parser.add_argument("--retry", action="store_true", help="post each event twice")
    parser.add_argument("--any-host", action="store_true", help="allow a non-loopback URL")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("no secret: pass --secret or set KEFU_CTI_SECRET")
    if urllib.parse.urlsplit(args.url).scheme not in ("http", "https"):
        parser.error(f"{args.url} is not an http(s) URL")
    if not args.any_host and not _loopback(args.url):
        parser.error(f"{args.url} is not a loopback address (pass --any-host to allow it)")
    events = call_events(args)
    order = [name.strip() for name in args.order.split(",") if name.strip()] or list(events)
    unknown = [name for name in order if name not in events]
    if unknown:
        parser.error(f"unknown or skipped events in --order: {', '.join(unknown)}")
    ok = True
    for index, name in enumerate(order):
        if index and args.pause:
            time.sleep(args.pause)
        signed = ""
        for attempt in range(2 if args.retry else 1):
            status, answer, elapsed, signed = post_event(
                args.url, args.secret, events[name], after=signed
            )
            ok = ok and status == 200
            label = name + (" (retry)" if attempt else "")
            shown = json.dumps(answer, ensure_ascii=False)
            print(f"{label:18} {status} {elapsed * 1000:7.1f} ms  {shown}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
