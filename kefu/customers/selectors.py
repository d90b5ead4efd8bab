from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from kefu.customers.access import can_reveal, customers_for_user
from kefu.customers.models import Address, Asset, Contact, Customer
from kefu.customers.search import customer_search_filter, customer_search_rank
from kefu.org.models import User


@dataclass(frozen=True)
class CustomerFilters:
    """The list's filters; empty means "any". Merged customers are left out unless asked."""

    q: str = ""
    kind: str = ""
    tier: str = ""
    credit_grade: str = ""
    tag: str = ""
    owner_id: int | None = None
    region: str = ""
    lifecycle_stage: str = ""
    include_merged: bool = False


def customer_list(
    *,
    user: User | AnonymousUser,
    q: str = "",
    kind: str = "",
    filters: CustomerFilters | None = None,
) -> QuerySet[Customer]:
    filters = filters or CustomerFilters(q=q, kind=kind)
    customers = customers_for_user(user)
    search = customer_search_filter(filters.q, any_tail=can_reveal(user))
    if search is not None:
        customers = customers.filter(search)
    if not filters.include_merged:
        customers = customers.filter(merged_into__isnull=True)
    if filters.kind:
        customers = customers.filter(kind=filters.kind)
    if filters.tier:
        customers = customers.filter(tier=filters.tier)
    if filters.credit_grade:
        customers = customers.filter(credit_grade=filters.credit_grade)
    if filters.tag:
        customers = customers.filter(tags__name=filters.tag)
    if filters.owner_id:
        customers = customers.filter(owner_id=filters.owner_id)
    if filters.region:
        customers = customers.filter(region__startswith=filters.region)
    if filters.lifecycle_stage:
        customers = customers.filter(lifecycle_stage=filters.lifecycle_stage)
    customers = customer_search_rank(customers, filters.q)
    return customers.select_related("serving_team", "owner").prefetch_related("tags")


def contact_list(*, customer: Customer) -> QuerySet[Contact]:
    return customer.contacts.all()


def address_list(*, customer: Customer) -> QuerySet[Address]:
    return customer.addresses.all()


def asset_list(*, customer: Customer) -> QuerySet[Asset]:
    return customer.assets.select_related("address")
