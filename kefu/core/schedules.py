"""Every periodic job in one place, in plain words. Each is also a management command, so cron or
systemd can run it instead of the Huey worker.

| job                          | when          | what                                            |
|------------------------------|---------------|-------------------------------------------------|
| api.tokens_purge_expired     | daily 03:10   | delete API tokens that expired over a day ago   |
"""

from __future__ import annotations

from huey import crontab

TOKENS_PURGE_EXPIRED = crontab(hour="3", minute="10")
