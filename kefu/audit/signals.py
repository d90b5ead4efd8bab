from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record


@receiver(user_logged_in, dispatch_uid="kefu.audit.login")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with transaction.atomic():
        audit_record(actor=user, action=AuditEvent.Action.LOGIN, target=user)


@receiver(user_logged_out, dispatch_uid="kefu.audit.logout")
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        with transaction.atomic():
            audit_record(actor=user, action=AuditEvent.Action.LOGOUT, target=user)


@receiver(user_login_failed, dispatch_uid="kefu.audit.login_failed")
def on_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    with transaction.atomic():
        audit_record(
            actor=None,
            action=AuditEvent.Action.LOGIN_FAILED,
            object_type="org.user",
            object_repr=str(credentials.get("username", ""))[:200],
        )
