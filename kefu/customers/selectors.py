from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from kefu.core.phones import digits_only
from kefu.customers.access import customers_for_user
from kefu.customers.models import Contact, Customer
from kefu.org.models import User


def customer_search_filter(q: str) -> Q | None:
    """Name fragment, or 4+ digits of any contact's mobile (end of number or full number).

    Phone search matches the number's tail or the whole number, not the middle: the middle
    digits are what masking hides, so a search must not become a way to read them.
    """
    q = q.strip()
    if not q:
        return None
    digits = digits_only(q)
    if len(digits) >= 4 and len(digits) >= len(q.replace(" ", "").replace("-", "").lstrip("+")):
        national = digits[-11:] if len(digits) > 11 else digits
        if len(national) == 11:
            tail = f"86{national}"
            return Q(mobile__endswith=tail) | Q(
                pk__in=Contact.objects.filter(mobile__endswith=tail).values("customer_id")
            )
        return Q(mobile__endswith=national) | Q(
            pk__in=Contact.objects.filter(mobile__endswith=national).values("customer_id")
        )
    return Q(name__icontains=q)


def customer_list(*, user: User | AnonymousUser, q: str = "", kind: str = "") -> QuerySet[Customer]:
    customers = customers_for_user(user)
    search = customer_search_filter(q)
    if search is not None:
        customers = customers.filter(search)
    if kind:
        customers = customers.filter(kind=kind)
    return customers.select_related("serving_team", "owner")


def contact_list(*, customer: Customer) -> QuerySet[Contact]:
    return customer.contacts.all()
