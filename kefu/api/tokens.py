from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
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


Converter = Callable[[Any, Any, Any], Any]


@functools.cache
def _token_user_query(vendor: str) -> tuple[str, list[str], list[tuple[Any, list[Converter]]]]:
    """The one SELECT of every API request, written once per database rather than compiled
    by the ORM on each request: the token's id and last use, then its user's columns; with
    the converters the ORM would apply to each column (SQLite hands back text for datetimes
    and 0/1 for booleans), so the user built from it is the one the ORM would load."""
    quote = connection.ops.quote_name
    user_fields = list(User._meta.concrete_fields)
    selected = [
        ApiToken._meta.get_field("id").get_col("t"),
        ApiToken._meta.get_field("last_used_at").get_col("t"),
        *(field.get_col("u") for field in user_fields),
    ]
    columns = ", ".join(f"{col.alias}.{quote(col.target.column)}" for col in selected)
    sql = (
        f"SELECT {columns} "  # noqa: S608 (our table and column names)
        f"FROM {quote(ApiToken._meta.db_table)} t "
        f"JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id "
        "WHERE t.key_hash = %s AND t.expires_at > %s AND u.is_active"
    )
    converters = [
        (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        for col in selected
    ]
    return sql, [field.attname for field in user_fields], converters


def token_user(raw: str) -> User | None:
    """The active user holding this unexpired token, or None."""
    if not raw or len(raw) > 200:
        return None
    now = timezone.now()
    sql, user_fields, converters = _token_user_query(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [_digest(raw), now])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (col, functions) in zip(row, converters, strict=True):
        for function in functions:
            value = function(value, col, connection)
        values.append(value)
    token_id, last_used_at = values[0], values[1]
    if last_used_at is None or now - last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return User.from_db(connection.alias, user_fields, values[2:])


def tokens_purge_expired() -> int:
    """Delete tokens that expired more than a day ago; the grace day keeps recent 401s explainable.
    Idempotent: running it twice deletes nothing the second time."""
    cutoff = timezone.now() - timedelta(days=1)
    deleted, _by_model = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
