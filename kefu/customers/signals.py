"""What other contexts hear from customers, without customers importing them.

``customers_bulk_created`` is sent after the transaction that inserted customers in bulk (an
import file) commits, with ``customer_ids`` (a sorted list of int). Bulk inserts fire no
``post_save``, so a context that sets something up for every new customer (credit: the first
grade) listens to both.
"""

from __future__ import annotations

from django.dispatch import Signal

customers_bulk_created = Signal()
