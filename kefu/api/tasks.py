from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task

from kefu.core.schedules import TOKENS_PURGE_EXPIRED


@db_periodic_task(TOKENS_PURGE_EXPIRED)  # type: ignore[untyped-decorator]
def tokens_purge_expired_task() -> int:
    from kefu.api.tokens import tokens_purge_expired

    return tokens_purge_expired()
