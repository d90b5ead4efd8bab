"""Access to customers. Outside the caller's scope is 404 (ids don't leak); inside the scope
but without the needed permission is 403."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.core.exceptions import Forbidden, NotFound
from kefu.customers.models import Address, Asset, Contact, Customer
from kefu.org.access import Scope, user_scope
from kefu.org.models import User

MAX_ID = 2**63 - 1


def _customer_scope(user: User | AnonymousUser) -> Scope:
    return user_scope(
        user,
        all_perm="customers.view_all_customers",
        department_perm="customers.view_department_customers",
    )


def customer_scope_filter(user: User | AnonymousUser) -> Q | None:
    """A filter for the customers the user may see; None means everything."""
    scope = _customer_scope(user)
    if scope.all:
        return None
    visible = Q(serving_team_id__in=scope.team_ids)
    if scope.user_id is not None:
        visible |= Q(owner_id=scope.user_id)
    return visible


def customer_visible(
    user: User | AnonymousUser, *, serving_team_id: int | None, owner_id: int | None
) -> bool:
    """``customer_scope_filter`` as a test of one customer already read (by id, on a hot
    path that cannot afford building the filter): the same scope, the same two columns."""
    scope = _customer_scope(user)
    if scope.all:
        return True
    return serving_team_id in scope.team_ids or (
        scope.user_id is not None and owner_id == scope.user_id
    )


def customers_for_user(user: User | AnonymousUser) -> QuerySet[Customer]:
    if not user.has_perm("customers.view_customer"):
        raise Forbidden(_("您没有查看客户的权限。"))
    customers = Customer.objects.all()
    visible = customer_scope_filter(user)
    return customers if visible is None else customers.filter(visible)


def customer_get_for_user(
    *, user: User | AnonymousUser, customer_id: int, write: bool = False
) -> Customer:
    if not 0 < customer_id <= MAX_ID:
        raise NotFound(_("客户不存在。"))
    customer = (
        customers_for_user(user)
        .select_related("owner", "serving_team", "serving_team__department", "created_by")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(_("客户不存在。"))
    if write and not user.has_perm("customers.change_customer"):
        raise Forbidden(_("您没有修改客户的权限。"))
    return customer


def can_reveal(user: User | AnonymousUser) -> bool:
    return user.has_perm("customers.reveal_contact")


def contact_get_for_user(
    *, user: User | AnonymousUser, customer_id: int, contact_id: int, write: bool = False
) -> Contact:
    """A contact of a customer the user may see (404 otherwise; 403 to write without the
    permission)."""
    customer = customer_get_for_user(user=user, customer_id=customer_id, write=write)
    contact = customer.contacts.filter(pk=contact_id).first() if contact_id <= MAX_ID else None
    if contact is None:
        raise NotFound(_("联系人不存在。"))
    contact.customer = customer
    return contact


def address_get_for_user(
    *, user: User | AnonymousUser, customer_id: int, address_id: int, write: bool = False
) -> Address:
    customer = customer_get_for_user(user=user, customer_id=customer_id, write=write)
    address = customer.addresses.filter(pk=address_id).first() if address_id <= MAX_ID else None
    if address is None:
        raise NotFound(_("地址不存在。"))
    address.customer = customer
    return address


def asset_get_for_user(
    *, user: User | AnonymousUser, customer_id: int, asset_id: int, write: bool = False
) -> Asset:
    customer = customer_get_for_user(user=user, customer_id=customer_id, write=write)
    asset = customer.assets.filter(pk=asset_id).first() if asset_id <= MAX_ID else None
    if asset is None:
        raise NotFound(_("设备不存在。"))
    asset.customer = customer
    return asset


def can_merge(user: User | AnonymousUser) -> bool:
    return user.has_perm("customers.merge_customers")
