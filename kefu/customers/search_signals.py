"""Keeps the name search index current: every save of a customer (create, rename, merge, erase)
rewrites its grams when they changed. Deleting a customer deletes its grams by cascade.

Bulk writes (``bulk_create``, ``update()``) send no signal: seeders and imports call
``search_index_customers`` after them.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from kefu.customers.models import Customer
from kefu.customers.search import search_index_customer


@receiver(post_save, sender=Customer, dispatch_uid="customers_search_index")
def customer_saved(sender: type[Customer], instance: Customer, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if fields is not None and not {"name", "erased_at"} & set(fields):
        return  # a save of the tier, the credit figures, …: the name is as it was
    search_index_customer(instance, created=bool(kwargs.get("created")))
