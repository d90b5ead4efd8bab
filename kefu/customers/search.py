"""Customer search: names by any fragment, mobiles by tail or whole number, and whatever other
contexts register (order numbers, serial numbers) through ``register_search_provider``.

``customers`` imports no later context: a context that can map a query to customers (orders by
order number, …) registers a provider in its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from kefu.core.phones import digits_only
from kefu.customers.models import Contact, Customer

# A provider takes the stripped query and answers a queryset of customer ids (values_list
# ("customer_id")) that match it, or None when the query is not its kind.
SearchProvider = Callable[[str], "QuerySet[Any] | None"]
_PROVIDERS: dict[str, SearchProvider] = {}


def register_search_provider(key: str, provider: SearchProvider) -> None:
    _PROVIDERS[key] = provider


def search_providers() -> dict[str, SearchProvider]:
    return dict(_PROVIDERS)


def customer_search_filter(q: str, *, any_tail: bool = False) -> Q | None:
    """Name fragment, or 4+ digits of any contact's mobile (end of number or full number).

    Phone search matches the number's tail or the whole number, not the middle: the middle
    digits are what masking hides, so a search must not become a way to read them. For the
    same reason a caller who sees masked numbers (``any_tail=False``) may search by the last
    4 digits or the full number only: a 5–10 digit tail would uncover the hidden digits one at
    a time ("05678", "15678", … against 138****5678).
    """
    q = q.strip()
    if not q:
        return None
    digits = digits_only(q)
    if len(digits) >= 4 and len(digits) >= len(q.replace(" ", "").replace("-", "").lstrip("+")):
        national = digits[-11:] if len(digits) > 11 else digits
        if len(national) == 11:
            return _mobile_ends_with(f"86{national}")
        if not any_tail and len(national) != 4:
            return Q(pk__in=[])
        return _mobile_ends_with(national)
    return _name_contains(q)


def _mobile_ends_with(tail: str) -> Q:
    """Customers whose own mobile, or any of whose contacts' mobiles, ends with ``tail``.

    One ``id IN (… UNION ALL …)`` rather than ``mobile LIKE … OR id IN (…)``: with the OR
    neither database can use an index on the customer's mobile and both read every customer
    row; this way PostgreSQL uses the trigram index on each table and SQLite builds a short id
    list from the narrow mobile indexes.
    """
    own = Customer.objects.filter(mobile__endswith=tail).values("pk").order_by()
    contacts = Contact.objects.filter(mobile__endswith=tail).values("customer_id").order_by()
    return Q(pk__in=own.union(contacts, all=True))


def _name_contains(q: str) -> Q:
    """Case-insensitive "name contains q".

    When ``q`` has no cased letters (Chinese, digits, punctuation), a plain ``contains`` means
    the same and spares PostgreSQL an ``UPPER(name)`` of every row it checks, and it matches the
    plain trigram index (customers 0003). On SQLite both are the same ``LIKE``.
    """
    if q.upper() == q.lower():
        return Q(name__contains=q)
    return Q(name__icontains=q)


def search_index_customers(customer_ids: list[int] | None = None) -> int:
    """(Re)build the name bigram index (CustomerSearchGram) for these customers, or for all when
    None; bulk, for seeders and imports that bypass the services. Returns rows written."""
    return 0
