from __future__ import annotations

import functools
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from kefu.api.models import ApiToken
from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core import versioned
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
    by the ORM on each request: the token's id, expiry and last use, then its user's columns;
    with the converters the ORM would apply to each column (SQLite hands back text for
    datetimes and 0/1 for booleans), so the user built from it is the one the ORM would load."""
    quote = connection.ops.quote_name
    user_fields = list(User._meta.concrete_fields)
    selected = [
        ApiToken._meta.get_field("id").get_col("t"),
        ApiToken._meta.get_field("expires_at").get_col("t"),
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


@dataclass
class _Holder:
    """A token as read: its row's id, expiry and last use, and its user's column values."""

    token_id: int
    expires_at: datetime
    last_used_at: datetime | None
    user_values: list[Any]


# This process's tokens (by digest) under the "users" version token (kefu.core.versioned): any
# change to a user or a token made through the ORM's save or delete bumps it, and the next
# request reads from the database again. A change that bypasses those signals (a queryset
# update in a shell, a restored backup) is seen after _HELD_FOR seconds at most.
_held: dict[str, tuple[str, float, _Holder]] = {}
_HELD_FOR = 60.0
_HELD_MAX = 10_000  # tokens per process before they are all dropped (a bound, not a tuning)


def _read(digest: str, now: datetime) -> _Holder | None:
    sql, _user_fields, converters = _token_user_query(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest, now])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (col, functions) in zip(row, converters, strict=True):
        for function in functions:
            value = function(value, col, connection)
        values.append(value)
    return _Holder(values[0], values[1], values[2], values[3:])


def token_user(raw: str) -> User | None:
    """The active user holding this unexpired token, or None.

    With ``API_TOKEN_CACHE`` (on when Redis is the shared cache) a token this process has
    read is kept under the "users" version token: the request asks the database nothing, and
    a user deactivated or changed, or a token deleted (through the ORM), is read afresh on the
    next request in every process; any other change within ``_HELD_FOR`` seconds. Expiry is
    checked on every request either way."""
    if not raw or len(raw) > 200:
        return None
    now = timezone.now()
    digest = _digest(raw)
    holder: _Holder | None = None
    version = ""
    moment = time.monotonic()
    if settings.API_TOKEN_CACHE:
        version = versioned.token("users")  # read before the row: a later bump wins
        held = _held.get(digest)
        if held is not None and held[0] == version and moment - held[1] < _HELD_FOR:
            holder = held[2]
    if holder is None:
        holder = _read(digest, now)
        if holder is None:
            _held.pop(digest, None)
            return None
        if settings.API_TOKEN_CACHE:
            if len(_held) >= _HELD_MAX:
                _held.clear()
            _held[digest] = (version, moment, holder)
    if holder.expires_at <= now:
        _held.pop(digest, None)
        return None
    if holder.last_used_at is None or now - holder.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=holder.token_id).update(last_used_at=now)
        holder.last_used_at = now
    _sql, user_fields, _converters = _token_user_query(connection.vendor)
    return User.from_db(connection.alias, user_fields, list(holder.user_values))


def bump_users_version(**kwargs: Any) -> None:
    """Signal receiver: a user or a token changed; every process reads tokens afresh."""
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return  # a login changes nothing a token lookup answers
    versioned.bump("users")


def tokens_purge_expired() -> int:
    """Delete tokens that expired more than a day ago; the grace day keeps recent 401s explainable.
    Idempotent: running it twice deletes nothing the second time."""
    cutoff = timezone.now() - timedelta(days=1)
    deleted, _by_model = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
