"""What other contexts hear from orders, without orders importing them.

``orders_changed`` is sent after the transaction that created or changed orders commits, once
per batch (an API call, an import file, a seeder run), with ``customer_ids`` (a sorted list of
int) of every customer whose orders changed. Credit (exposure) and tiering listen.
"""

from __future__ import annotations

from django.dispatch import Signal

orders_changed = Signal()
