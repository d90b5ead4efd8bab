"""Webhooks: subscribers receive signed JSON when a ticket is created, updated or breaches its
SLA. Each event becomes one WebhookDelivery per subscriber after the ticket's transaction
commits, sent by a Huey task that Huey retries with exponential backoff (retries,
retry_delay, retry_backoff); every attempt is logged on the delivery.

Signature: ``X-Kefu-Signature: sha256=<hex>``, the HMAC-SHA256 with the subscription's secret
of ``<X-Kefu-Timestamp>.<body>``; receivers check it and refuse old timestamps (replays).
``X-Kefu-Delivery`` is the delivery's id: the same id arrives again only on a retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from django.db import transaction
from django.utils import timezone

from kefu.core import versioned
from kefu.desk.models import Ticket, WebhookDelivery, WebhookSubscription

MAX_ATTEMPTS = 8  # with retry_delay 30 s and backoff ×2: about two hours in all
TIMEOUT = 10


def _active() -> list[tuple[int, list[str]]]:
    """(id, events) of the active subscriptions, cached (kefu.core.versioned): ticket creates
    must not pay a query for a table that is usually empty. Saving a subscription bumps the
    "webhooks" token."""
    found = versioned.cached(
        "webhooks",
        "active",
        lambda: [
            (sub.pk, list(sub.events or []))
            for sub in WebhookSubscription.objects.filter(active=True)
        ],
    )
    return list(found)


def webhooks_changed(**kwargs: Any) -> None:
    versioned.bump("webhooks")


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return timezone.localtime(value).isoformat() if value else None

    return {
        "id": ticket.pk,
        "number": ticket.number,
        "type": ticket.type,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "status": ticket.status,
        "subject": ticket.subject,
        "customer_id": ticket.customer_id,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
        "first_response_due": iso(ticket.first_response_due),
        "resolution_due": iso(ticket.resolution_due),
        "breached": ticket.sla_breached,
        "updated_at": iso(ticket.updated_at),
    }


def webhook_emit(event: str, ticket: Ticket) -> None:
    """Queue ``event`` for every subscriber of it, once the current transaction commits (a
    rolled-back change sends nothing)."""
    subscribers = [pk for pk, events in _active() if event in events]
    if not subscribers:
        return
    payload = {"event": event, "ticket": ticket_payload(ticket)}

    def queue() -> None:
        from kefu.desk.tasks import webhook_deliver_task

        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(subscription_id=pk, event=event, payload=payload)
                for pk in subscribers
            ]
        )
        for delivery in deliveries:
            webhook_deliver_task(delivery.pk)

    transaction.on_commit(queue)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class DeliveryFailed(Exception):
    pass


def webhook_deliver(delivery_id: int) -> str:
    """One attempt: POST the payload; raise DeliveryFailed (Huey retries) unless the
    subscriber answered 2xx or the attempts are used up."""
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return str(delivery.status)
    subscription = delivery.subscription
    body = json.dumps(
        {"delivery": delivery.pk, **delivery.payload}, ensure_ascii=False, sort_keys=True
    ).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (an http(s) URL checked when subscribing)
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Kefu-Webhook/1",
            "X-Kefu-Event": delivery.event,
            "X-Kefu-Delivery": str(delivery.pk),
            "X-Kefu-Timestamp": timestamp,
            "X-Kefu-Signature": signature(subscription.secret, timestamp, body),
        },
    )
    status_code: int | None = None
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            status_code = int(response.status)
    except urllib.error.HTTPError as exc:
        status_code = int(exc.code)
        error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:300]
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "last_error",
            "status",
            "delivered_at",
        ]
    )
    if delivery.status == WebhookDelivery.Status.PENDING:
        raise DeliveryFailed(error or f"HTTP {status_code}")
    return str(delivery.status)
