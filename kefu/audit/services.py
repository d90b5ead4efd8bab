from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from kefu.audit.models import AuditEvent
from kefu.core import fastsql
from kefu.core.context import current_request_meta

if TYPE_CHECKING:
    from kefu.org.models import User


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return str(value)


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    field: str = "",
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    """Append one audit event. Call it inside the transaction of the change it records,
    so the change and its record commit or roll back together. Inside a
    ``fastsql.together()`` block the INSERT may wait for the block's end (the event's pk then
    stays None)."""
    meta = current_request_meta()
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
        object_repr = object_repr or str(target)[:200]
    authenticated = actor is not None and actor.is_authenticated
    # Every write records one: the INSERT is compiled once (kefu.core.fastsql). It is what
    # AuditEvent.save() would write for a new event; no save receivers listen to the model.
    event = AuditEvent(
        actor=actor if authenticated else None,
        actor_name=(actor.get_username() if authenticated and actor else "")[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        field=field,
        changes=_jsonable(changes or {}),
        ip=meta.ip,
        user_agent=meta.user_agent,
        channel=meta.channel,
        note=note[:300],
    )
    # Nobody reads the new event back: inside a fastsql.together() block (a ticket create) it
    # goes to the server with the block's other rows, and keeps no id.
    return fastsql.insert(event, deferrable=True)


def audit_record_many(
    *, actor: User, action: str, targets: list[models.Model], field: str = "", note: str = ""
) -> None:
    """One event per target, in one INSERT (e.g. a list of customers whose numbers were shown)."""
    if not targets:
        return
    meta = current_request_meta()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                actor_name=actor.get_username()[:150],
                action=action,
                object_type=target._meta.label_lower,
                object_id=str(target.pk),
                object_repr=str(target)[:200],
                field=field,
                ip=meta.ip,
                user_agent=meta.user_agent,
                channel=meta.channel,
                note=note[:300],
            )
            for target in targets
        ]
    )


def model_diff(instance: models.Model, data: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for each field in data whose value differs from the instance's."""
    diff: dict[str, list[Any]] = {}
    for name, new in data.items():
        old = getattr(instance, name)
        if old != new:
            diff[name] = [_jsonable(old), _jsonable(new)]
    return diff
