"""Helpers for building API answers."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kefu.org.models import User


def local_time(value: Any) -> Any:
    """An aware datetime in Asia/Shanghai (ISO 8601 with +08:00 in the JSON), or None."""
    return timezone.localtime(value) if value else None


def ref(obj: Any) -> dict[str, Any] | None:
    """{"id", "name"} of a related object (a person's display name), or None."""
    if obj is None:
        return None
    if isinstance(obj, User):
        return {"id": obj.pk, "name": obj.display_name or obj.username}
    return {"id": obj.pk, "name": str(getattr(obj, "name", obj))}
