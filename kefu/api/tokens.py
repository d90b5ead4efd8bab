from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kefu.api.models import ApiToken
from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.org.models import User

# A bearer token older than this since its last recorded use gets last_used_at refreshed; more
# often would turn every read into a write.
_TOUCH_EVERY = timedelta(minutes=10)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def token_issue(*, user: User) -> str:
    raw = "kf_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=_digest(raw),
        prefix=raw[:8],
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS),
    )
    audit_record(actor=user, action=AuditEvent.Action.TOKEN, target=user, note="api token")
    return raw


def token_user(raw: str) -> User | None:
    """The active user holding this unexpired token, or None."""
    if not raw or len(raw) > 200:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_digest(raw), expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def tokens_purge_expired() -> int:
    """Delete tokens that expired more than a day ago; the grace day keeps recent 401s explainable.
    Idempotent: running it twice deletes nothing the second time."""
    cutoff = timezone.now() - timedelta(days=1)
    deleted, _by_model = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
