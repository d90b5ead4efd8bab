from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from kefu.customers.access import can_reveal, customers_for_user
from kefu.customers.models import Contact, Customer
from kefu.customers.search import customer_search_filter
from kefu.org.models import User


def customer_list(*, user: User | AnonymousUser, q: str = "", kind: str = "") -> QuerySet[Customer]:
    customers = customers_for_user(user)
    search = customer_search_filter(q, any_tail=can_reveal(user))
    if search is not None:
        customers = customers.filter(search)
    if kind:
        customers = customers.filter(kind=kind)
    return customers.select_related("serving_team", "owner")


def contact_list(*, customer: Customer) -> QuerySet[Contact]:
    return customer.contacts.all()
