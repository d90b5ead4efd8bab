"""Every change to a customer goes through here: one transaction, one audit event each."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record, audit_record_many, model_diff
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.core.phones import InvalidPhone, mask_mobile, national_mobile, normalize_mobile
from kefu.core.text import clean_text
from kefu.customers.access import can_reveal
from kefu.customers.models import Contact, Customer
from kefu.org.access import assignable_teams
from kefu.org.models import Team, User

_LIMITS = {"name": 100, "region": 64, "industry": 64, "note": 2000, "contact_name": 64}


@dataclass
class CustomerInput:
    """Validated customer fields; ``None`` means "not given" (for partial updates)."""

    name: str | None = None
    kind: str | None = None
    region: str | None = None
    industry: str | None = None
    note: str | None = None
    mobile: str | None = None
    contact_name: str | None = None
    serving_team_id: int | None = None


def _validate(data: CustomerInput, *, actor: User, creating: bool) -> dict[str, Any]:
    """Clean each given field; collect every problem before answering, so a form shows all.

    ``serving_team`` is in the answer when creating (the given team or the actor's own) and
    when a team was given.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for field, limit in _LIMITS.items():
        value = getattr(data, field)
        if value is None:
            if creating and field == "name":
                errors[field] = [_("请填写客户名称。")]
            continue
        try:
            clean[field] = clean_text(value, max_length=limit, required=field == "name")
        except ValueError as exc:
            errors[field] = [str(exc)]
    if data.kind is not None:
        if data.kind not in Customer.Kind.values:
            errors["kind"] = [_("客户类型只能是“企业”或“个人”。")]
        else:
            clean["kind"] = data.kind
    if data.mobile is not None:
        if data.mobile.strip():
            try:
                clean["mobile"] = normalize_mobile(data.mobile)
            except InvalidPhone as exc:
                errors["mobile"] = [exc.message]
        else:
            clean["mobile"] = ""
    if creating or data.serving_team_id is not None:
        try:
            clean["serving_team"] = _team_for(actor, data.serving_team_id)
        except ApplicationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ApplicationError(
            _("提交的内容有误，请检查标出的字段。"), code="invalid", fields=errors
        )
    return clean


def _team_for(actor: User, team_id: int | None) -> Team | None:
    teams = assignable_teams(actor)
    if team_id is None:
        own = [team for team in teams if actor.memberships.filter(team=team).exists()]
        return own[0] if own else None
    for team in teams:
        if team.pk == team_id:
            return team
    raise ApplicationError(
        _("不能把客户分配给该班组。"),
        fields={"serving_team_id": [_("班组不存在或不在您的范围内。")]},
    )


@transaction.atomic
def customer_create(*, actor: User, data: CustomerInput) -> Customer:
    """Create a customer and, when a mobile is given, its primary contact."""
    if not actor.has_perm("customers.add_customer"):
        raise Forbidden(_("您没有新建客户的权限。"))
    clean = _validate(data, actor=actor, creating=True)
    team = clean["serving_team"]
    kind = clean.get("kind", Customer.Kind.COMPANY)
    customer = Customer.objects.create(
        name=clean["name"],
        kind=kind,
        region=clean.get("region", ""),
        industry=clean.get("industry", ""),
        note=clean.get("note", ""),
        mobile=clean.get("mobile", ""),
        serving_team=team,
        owner=actor if actor.groups.filter(name="销售").exists() else None,
        created_by=actor,
    )
    if customer.mobile:
        contact_name = clean.get("contact_name") or (
            customer.name if kind == Customer.Kind.PERSON else ""
        )
        Contact.objects.create(
            customer=customer, name=contact_name, mobile=customer.mobile, is_primary=True
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=customer,
        changes={
            "name": customer.name,
            "kind": customer.kind,
            "region": customer.region,
            "mobile": mask_mobile(customer.mobile),
            "serving_team": team.pk if team else None,
        },
    )
    return customer


@transaction.atomic
def customer_update(*, actor: User, customer: Customer, data: CustomerInput) -> Customer:
    if not actor.has_perm("customers.change_customer"):
        raise Forbidden(_("您没有修改客户的权限。"))
    clean = _validate(data, actor=actor, creating=False)
    clean.pop("contact_name", None)
    # Lock the row: two agents saving at once must not lose each other's fields.
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    diff = model_diff(locked, clean)
    if not diff:
        return locked
    for field in diff:
        setattr(locked, field, clean[field])
    locked.save(update_fields=[*diff.keys(), "updated_at"])
    if "mobile" in diff:
        _sync_primary_contact(locked)
        diff["mobile"] = [mask_mobile(str(diff["mobile"][0] or "")), mask_mobile(locked.mobile)]
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=locked, changes=diff)
    return locked


def _sync_primary_contact(customer: Customer) -> None:
    primary = customer.contacts.filter(is_primary=True).first()
    if primary is None and customer.mobile:
        Contact.objects.create(
            customer=customer,
            name=customer.name if customer.kind == Customer.Kind.PERSON else "",
            mobile=customer.mobile,
            is_primary=True,
        )
    elif primary is not None:
        primary.mobile = customer.mobile
        primary.save(update_fields=["mobile", "updated_at"])


@transaction.atomic
def customer_reveal(*, actor: User, customer: Customer) -> list[Contact]:
    """The customer's contacts with full numbers; each reveal is written to the audit log."""
    if not can_reveal(actor):
        raise Forbidden(_("您没有查看完整联系方式的权限。"))
    contacts = list(customer.contacts.all())
    audit_record(
        actor=actor,
        action=AuditEvent.Action.REVEAL,
        target=customer,
        field="mobile",
        changes={"contacts": [contact.pk for contact in contacts]},
    )
    return contacts


def customers_reveal_many(*, actor: User, customers: Iterable[Customer]) -> None:
    """Record that the caller was shown these customers' full numbers (API reads by a role that
    may reveal): one event per customer with a number, inserted in one statement."""
    audit_record_many(
        actor=actor,
        action=AuditEvent.Action.REVEAL,
        targets=[customer for customer in customers if customer.mobile],
        field="mobile",
    )


_EXPORT_COLUMNS = (
    "id",
    "name",
    "kind",
    "region",
    "industry",
    "mobile",
    "serving_team",
    "created_at",
)


@transaction.atomic
def customers_export_csv(*, actor: User, customers: Iterable[Customer], query: str) -> str:
    """CSV of the given customers (already scoped by the caller's selector), audited once with
    the count and the filter. Numbers are masked unless the actor may reveal them."""
    if not actor.has_perm("customers.export_customers"):
        raise Forbidden(_("您没有导出客户的权限。"))
    reveal = can_reveal(actor)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # BOM so Excel on Windows opens UTF-8 Chinese correctly
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("编号"),
            _("客户名称"),
            _("类型"),
            _("地区"),
            _("行业"),
            _("手机"),
            _("服务班组"),
            _("创建时间"),
        ]
    )
    count = 0
    for customer in customers:
        count += 1
        mobile = national_mobile(customer.mobile) if reveal else customer.mobile_masked
        writer.writerow(
            [
                customer.pk,
                customer.name,
                customer.get_kind_display(),
                customer.region,
                customer.industry,
                mobile,
                customer.serving_team.name if customer.serving_team else "",
                customer.created_at.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    writer.writerow([])
    writer.writerow(
        [_("导出人：%(user)s；仅限内部使用，请勿外传。") % {"user": actor.get_username()}]
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        object_type=Customer._meta.label_lower,
        object_repr=_("客户导出 %(count)d 条") % {"count": count},
        changes={
            "count": count,
            "query": query,
            "columns": list(_EXPORT_COLUMNS),
            "revealed": reveal,
        },
    )
    return buffer.getvalue()
