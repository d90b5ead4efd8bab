"""The screen pop under a call center's load (issue 4: "screen pop under 1 s from the call event").

A call center's agents sit with the workspace open: each browser asks ``/calls/pop/`` every
500 ms (SCREEN_POP_POLL_MS, htmx polling). The PBX posts signed call events to
``/api/v1/calls/events``. The figure is the time from the moment the PBX starts posting a
``ringing`` event to the moment the ringing agent's browser has the caller's card in its hands
(the poll's answer that carries it), as a person at the desk would time it.

Set-up, through ``kefu shell`` in the bench's environment: AGENTS agents (``bench-pop-NN``,
role agent, members of the service teams, extensions 7001…) with a logged-in session each, and
callers drawn from the mobiles of those teams' customers. Everything set up is deleted again
afterwards (the calls the run made, the sessions, the lines, the users), so that a kept
database stays as seeded.

The run, in one asyncio loop: every agent polls on its own phase; a caller rings a free agent
CALLS_PER_SECOND times a second; when the card arrives, the call is answered and hung up
(so the pop clears and the agent is free again). Optionally, a closed loop of API requests
(the ticket queues, c=8) keeps the two workers busy meanwhile: the screen pop must hold up
while the desk is working, not only on an idle server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import re
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from cti_replay import sign

AGENTS = 40
POLL_SECONDS = 0.5  # SCREEN_POP_POLL_MS's default: the browsers' polling interval
CALLS_PER_SECOND = 2.0
MISSED_AFTER = 5.0  # a card not seen this long after the ring counts as missed
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SEEN = re.compile(rb"seen=(\d+)")

SETUP = """
import json
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Max
from importlib import import_module
from kefu.calls.models import AgentLine, Call, CallbackTask, CallEventLog
from kefu.customers.models import Customer
from kefu.org.models import Membership, Team, User
from kefu.org.roles import ROLE_BY_CODE

teams = list(Team.objects.filter(name__in=["客服一组", "客服二组"]).order_by("id"))
group = Group.objects.get(name=ROLE_BY_CODE["agent"].name)
store = import_module(settings.SESSION_ENGINE).SessionStore
agents = {}
with transaction.atomic():
    for index in range(1, AGENTS + 1):
        username = f"bench-pop-{index:02d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(username=username, display_name=f"压测坐席{index:02d}")
            user.set_unusable_password()
            user.save()
            user.groups.add(group)
            Membership.objects.create(user=user, team=teams[index % len(teams)])
        extension = str(7000 + index)
        line, _ = AgentLine.objects.get_or_create(user=user, defaults={"extension": extension})
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        agents[username] = [session.session_key, line.extension]
mobiles = list(
    Customer.objects.filter(serving_team__in=teams).exclude(mobile="")
    .order_by("id").values_list("mobile", flat=True)[:400]
)
print(json.dumps({
    "agents": agents,
    "mobiles": mobiles,
    "cookie": settings.SESSION_COOKIE_NAME,
    "call_id": Call.objects.aggregate(m=Max("id"))["m"] or 0,
    "log_id": CallEventLog.objects.aggregate(m=Max("id"))["m"] or 0,
    "callback_id": CallbackTask.objects.aggregate(m=Max("id"))["m"] or 0,
}))
"""

TEARDOWN = """
import json
from importlib import import_module
from django.conf import settings
from django.db import transaction
from kefu.calls.models import AgentLine, Call, CallbackTask, CallEventLog
from kefu.org.models import Membership, User

with transaction.atomic():
    users = list(User.objects.filter(username__startswith="bench-pop-"))
    ids = {user.pk for user in users}
    logs = CallEventLog.objects.filter(id__gt=LOG_ID).delete()[0]
    calls = Call.objects.filter(id__gt=CALL_ID).delete()[0]
    callbacks = CallbackTask.objects.filter(id__gt=CALLBACK_ID).delete()[0]
    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = 0
    for session_key in SESSION_KEYS:
        store(session_key=session_key).delete()
        sessions += 1
    AgentLine.objects.filter(user_id__in=ids).delete()
    Membership.objects.filter(user_id__in=ids).delete()
    for user in users:
        user.groups.clear()
        user.delete()
removed = {"calls": calls, "callbacks": callbacks, "logs": logs, "sessions": sessions}
print(json.dumps({**removed, "users": len(users)}))
"""


def setup_code(agents: int = AGENTS) -> str:
    return SETUP.replace("AGENTS", str(int(agents)))


def teardown_code(setup: dict[str, Any]) -> str:
    keys = [str(session_key) for session_key, _extension in setup["agents"].values()]
    return (
        TEARDOWN.replace("CALL_ID", str(int(setup["call_id"])))
        .replace("LOG_ID", str(int(setup["log_id"])))
        .replace("CALLBACK_ID", str(int(setup["callback_id"])))
        .replace("SESSION_KEYS", json.dumps(keys))
    )


@dataclass
class PopSample:
    latencies: list[float] = field(default_factory=list)  # seconds, ring post → card in hand
    rings: int = 0
    missed: int = 0
    polls: int = 0
    poll_latencies: list[float] = field(default_factory=list)
    event_latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    background_requests: int = 0


def _event(kind: str, call_id: str, caller: str, extension: str, when: dt.datetime) -> bytes:
    body = {
        "event": kind,
        "call_id": call_id,
        "caller": caller,
        "called": "4008001234",
        "queue": "售后",
        "agent": extension,
        "timestamp": when.isoformat(),
    }
    return json.dumps(body, ensure_ascii=False).encode()


async def run(
    *,
    base_url: str,
    secret: str,
    setup: dict[str, Any],
    seconds: float,
    rng: random.Random,
    background: Callable[[float], Awaitable[int]] | None = None,
) -> PopSample:
    """Poll as AGENTS browsers for ``seconds`` while a caller rings free agents; with
    ``background``, that coroutine (given the seconds) runs alongside and returns how many
    requests it sent."""
    sample = PopSample()
    agents: dict[str, list[str]] = setup["agents"]
    cookie_name: str = setup["cookie"]
    mobiles: list[str] = setup["mobiles"]
    rung: dict[str, tuple[float, str, str]] = {}  # username → (ring post start, call id, number)
    free = set(agents)
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=AGENTS + 8, max_keepalive_connections=AGENTS + 8)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def post(kind: str, call_id: str, caller: str, extension: str) -> None:
            body = _event(kind, call_id, caller, extension, dt.datetime.now(SHANGHAI))
            stamp = str(int(time.time()))
            began = time.perf_counter()
            response = await client.post(
                "/api/v1/calls/events",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Kefu-Timestamp": stamp,
                    "X-Kefu-Signature": sign(secret, stamp, body),
                },
            )
            sample.event_latencies.append(time.perf_counter() - began)
            if response.status_code != 200 and len(sample.errors) < 5:
                sample.errors.append(f"{kind} → {response.status_code}: {response.text[:200]}")

        async def finish(username: str, call_id: str, caller: str) -> None:
            extension = agents[username][1]
            await post("answered", call_id, caller, extension)
            await post("hangup", call_id, caller, extension)
            free.add(username)

        async def browser(username: str) -> None:
            session_key = agents[username][0]
            seen = ""
            next_at = time.perf_counter() + rng.uniform(0, POLL_SECONDS)
            while True:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                if time.perf_counter() > stop_at + MISSED_AFTER:
                    return
                next_at += POLL_SECONDS
                began = time.perf_counter()
                response = await client.get(
                    "/calls/pop/",
                    params={"seen": seen},
                    headers={"Cookie": f"{cookie_name}={session_key}", "HX-Request": "true"},
                )
                arrived = time.perf_counter()
                sample.polls += 1
                sample.poll_latencies.append(arrived - began)
                if response.status_code == 200:
                    found = SEEN.search(response.content)
                    seen = found.group(1).decode() if found else seen
                    ring = rung.pop(username, None)
                    if ring is not None:
                        sample.latencies.append(arrived - ring[0])
                        asyncio.get_running_loop().create_task(finish(username, ring[1], ring[2]))
                elif response.status_code != 204 and len(sample.errors) < 5:
                    sample.errors.append(f"poll → {response.status_code}")
                ring = rung.get(username)
                if ring is not None and arrived - ring[0] > MISSED_AFTER:
                    rung.pop(username)
                    sample.missed += 1
                    asyncio.get_running_loop().create_task(finish(username, ring[1], ring[2]))

        async def caller() -> None:
            interval = 1 / CALLS_PER_SECOND
            next_at = time.perf_counter() + 1.0  # the browsers have polled once
            while next_at < stop_at:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += rng.expovariate(1 / interval)
                if not free:
                    continue
                username = rng.choice(sorted(free))
                free.discard(username)
                call_id = f"bench-pop-{uuid.uuid4().hex[:16]}"
                number = rng.choice(mobiles) if mobiles else "13800000000"
                rung[username] = (time.perf_counter(), call_id, number)
                sample.rings += 1
                await post("ringing", call_id, number, agents[username][1])

        tasks = [browser(username) for username in agents]
        tasks.append(caller())
        if background is not None:

            async def busy() -> None:
                sample.background_requests = await background(seconds)

            tasks.append(busy())
        await asyncio.gather(*tasks)
        # let the last calls finish (answered, hung up) before the teardown
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=10)
    sample.missed += len(rung)
    return sample


def summary(sample: PopSample) -> dict[str, Any]:
    def ms(values: list[float], pct: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        rank = (len(ordered) - 1) * pct / 100
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        return round((ordered[low] + (ordered[high] - ordered[low]) * (rank - low)) * 1000, 1)

    return {
        "agents": AGENTS,
        "poll_ms": POLL_SECONDS * 1000,
        "rings": sample.rings,
        "cards": len(sample.latencies),
        "missed": sample.missed,
        "pop_p50_ms": ms(sample.latencies, 50),
        "pop_p95_ms": ms(sample.latencies, 95),
        "pop_max_ms": ms(sample.latencies, 100),
        "pop_mean_ms": round(statistics.fmean(sample.latencies) * 1000, 1)
        if sample.latencies
        else float("nan"),
        "polls": sample.polls,
        "poll_p95_ms": ms(sample.poll_latencies, 95),
        "event_p95_ms": ms(sample.event_latencies, 95),
        "background_requests": sample.background_requests,
        "errors": sample.errors,
    }
