"""Every change to a customer goes through here: one transaction, one audit event each.

Contacts, addresses and assets are parts of the customer's archive: their changes are recorded
against the customer (``field`` names the part), so the archive's timeline reads one index.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record, audit_record_many, model_diff
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden, NotFound
from kefu.core.phones import InvalidPhone, mask_mobile, national_mobile, normalize_mobile
from kefu.core.text import clean_text
from kefu.customers.access import can_reveal, customers_for_user
from kefu.customers.identifiers import mask_id_number, normalize_id_number, normalize_uscc
from kefu.customers.models import Address, Asset, Contact, Customer, CustomerSearchGram, Tag
from kefu.org.access import assignable_teams, group_names, member_team_ids
from kefu.org.models import Team, User

SALES_GROUP = "销售"  # the auth.Group of the sales role (kefu.org.roles)
MAX_TAGS = 20

_LIMITS = {
    "name": 100,
    "region": 64,
    "industry": 64,
    "source": 64,
    "note": 2000,
    "contact_name": 64,
    "marketing_consent_channel": 32,
    "marketing_consent_evidence": 200,
}


def _invalid(errors: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError(_("提交的内容有误，请检查标出的字段。"), code="invalid", fields=errors)


@dataclass
class CustomerInput:
    """Validated customer fields; ``None`` means "not given" (for partial updates).

    ``owner_id=0`` clears the owner; ``code=""`` clears the code; ``tags=[]`` removes every tag.
    """

    name: str | None = None
    kind: str | None = None
    region: str | None = None
    industry: str | None = None
    source: str | None = None
    note: str | None = None
    mobile: str | None = None
    contact_name: str | None = None
    serving_team_id: int | None = None
    code: str | None = None
    uscc: str | None = None
    id_number: str | None = None
    lifecycle_stage: str | None = None
    tags: list[str] | None = None
    owner_id: int | None = None
    marketing_consent: bool | None = None
    marketing_consent_channel: str | None = None
    marketing_consent_evidence: str | None = None
    marketing_opt_out: bool | None = None
    force: bool = False  # create even though it looks like a duplicate (the user confirmed)


def _validate(
    data: CustomerInput, *, actor: User, creating: bool, current: Customer | None = None
) -> dict[str, Any]:
    """Clean each given field; collect every problem before answering, so a form shows all.

    ``serving_team`` is in the answer when creating (the given team or the actor's own) and
    when a team was given; ``tags`` (a list of names) only when given.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, limit in _LIMITS.items():
        value = getattr(data, name)
        if value is None:
            if creating and name == "name":
                errors[name] = [_("请填写客户名称。")]
            continue
        try:
            clean[name] = clean_text(value, max_length=limit, required=name == "name")
        except ValueError as exc:
            errors[name] = [str(exc)]
    if data.kind is not None:
        if data.kind not in Customer.Kind.values:
            errors["kind"] = [_("客户类型只能是“企业”或“个人”。")]
        else:
            clean["kind"] = data.kind
    if data.lifecycle_stage is not None:
        if data.lifecycle_stage not in Customer.Stage.values:
            errors["lifecycle_stage"] = [_("生命周期阶段不在允许范围内。")]
        else:
            clean["lifecycle_stage"] = data.lifecycle_stage
    if data.mobile is not None:
        if data.mobile.strip():
            try:
                clean["mobile"] = normalize_mobile(data.mobile)
            except InvalidPhone as exc:
                errors["mobile"] = [exc.message]
        else:
            clean["mobile"] = ""
    if data.code is not None:
        _validate_code(data.code, actor=actor, current=current, clean=clean, errors=errors)
    if data.uscc is not None:
        try:
            clean["uscc"] = normalize_uscc(data.uscc) if data.uscc.strip() else ""
        except ValueError as exc:
            errors["uscc"] = [str(exc)]
    if data.id_number is not None:
        try:
            clean["id_number"] = (
                normalize_id_number(data.id_number) if data.id_number.strip() else ""
            )
        except ValueError as exc:
            errors["id_number"] = [str(exc)]
    kind = clean.get("kind") or (current.kind if current else Customer.Kind.COMPANY)
    if clean.get("id_number") and kind != Customer.Kind.PERSON:
        errors["id_number"] = [_("身份证号只用于个人客户。")]
    if data.tags is not None:
        try:
            clean["tags"] = _clean_tags(data.tags)
        except ValueError as exc:
            errors["tags"] = [str(exc)]
    if data.owner_id is not None:
        owner = _sales_rep(data.owner_id)
        if owner is False:
            errors["owner_id"] = [_("负责销售必须是“销售”角色的在职员工。")]
        else:
            clean["owner"] = owner
    for flag in ("marketing_consent", "marketing_opt_out"):
        if getattr(data, flag) is not None:
            clean[flag] = bool(getattr(data, flag))
    if creating or data.serving_team_id is not None:
        try:
            clean["serving_team"] = _team_for(actor, data.serving_team_id)
        except ApplicationError as exc:
            errors.update(exc.fields)
    if errors:
        raise _invalid(errors)
    return clean


def _validate_code(
    raw: str,
    *,
    actor: User,
    current: Customer | None,
    clean: dict[str, Any],
    errors: dict[str, list[str]],
) -> None:
    try:
        code = clean_text(raw, max_length=32) or None
    except ValueError as exc:
        errors["code"] = [str(exc)]
        return
    if current is not None and code == current.code:
        clean["code"] = code
        return
    if not actor.has_perm("customers.change_customer"):
        errors["code"] = [_("您没有设置客户编码的权限。")]
        return
    if code is not None:
        taken = Customer.objects.filter(code=code)
        if current is not None:
            taken = taken.exclude(pk=current.pk)
        if taken.exists():
            errors["code"] = [_("客户编码“%(code)s”已被其他客户使用。") % {"code": code}]
            return
    clean["code"] = code


def _clean_tags(names: list[str]) -> list[str]:
    tags: list[str] = []
    for raw in names:
        name = clean_text(str(raw), max_length=32, required=True)
        if name not in tags:
            tags.append(name)
    if len(tags) > MAX_TAGS:
        raise ValueError(_("最多 %(max)d 个标签。") % {"max": MAX_TAGS})
    return tags


def _sales_rep(user_id: int) -> User | bool | None:
    """The owner for this id: None for 0 (clear), False when it is no active sales rep."""
    if user_id == 0:
        return None
    if not 0 < user_id < 2**63:
        return False
    owner = User.objects.filter(pk=user_id, is_active=True, groups__name=SALES_GROUP).first()
    return owner if owner is not None else False


def sales_reps() -> list[User]:
    """Who may own a customer (the owner field's choices)."""
    return list(
        User.objects.filter(is_active=True, groups__name=SALES_GROUP).order_by("display_name", "id")
    )


def _team_for(actor: User, team_id: int | None) -> Team | None:
    teams = assignable_teams(actor)
    if team_id is None:
        mine = member_team_ids(actor)
        own = [team for team in teams if team.pk in mine]
        return own[0] if own else None
    for team in teams:
        if team.pk == team_id:
            return team
    raise ApplicationError(
        _("不能把客户分配给该班组。"),
        fields={"serving_team_id": [_("班组不存在或不在您的范围内。")]},
    )


def _set_tags(customer: Customer, names: list[str]) -> tuple[list[str], list[str], list[Tag]]:
    """Make the customer's tags exactly ``names`` (creating tags on the fly); (old names, new
    names, the tags)."""
    old = sorted(customer.tags.values_list("name", flat=True))
    tags = []
    for name in names:
        tag, _created = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    customer.tags.set(tags)
    return old, sorted(names), tags


def _masked_changes(diff: dict[str, Any]) -> dict[str, Any]:
    """What an audit event may hold: numbers masked (the log is read by more people)."""
    masked = dict(diff)
    for name, mask in (("mobile", mask_mobile), ("id_number", mask_id_number)):
        if name in masked:
            value = masked[name]
            if isinstance(value, list):
                masked[name] = [mask(str(item or "")) for item in value]
            else:
                masked[name] = mask(str(value or ""))
    return masked


# --- duplicates --------------------------------------------------------------------------


class DuplicateCustomer(Conflict):
    """The new customer looks like one already on file. ``extra["candidates"]`` lists those the
    caller may see (id, name, masked mobile, reasons); ``extra["hidden"]`` tells that there are
    others outside the caller's scope, without saying which."""

    code = "duplicate"


def customer_duplicates(
    *,
    mobile: str = "",
    uscc: str = "",
    name: str = "",
    region: str = "",
    exclude_id: int | None = None,
) -> dict[int, list[str]]:
    """{customer id: [reasons]} for customers (not merged away) that share the mobile (their
    own or any contact's), the unified social credit code, or the name within a region."""
    reasons: dict[int, list[str]] = {}

    def add(ids: Iterable[int], reason: str) -> None:
        for pk in ids:
            if pk != exclude_id and reason not in reasons.setdefault(pk, []):
                reasons[pk].append(reason)

    # One round trip for every probe (each capped at 20 rows), written out rather than built
    # with the ORM: this runs on every create, and compiling four querysets cost more than
    # the database spent answering them. Each part is wrapped so SQLite accepts its LIMIT
    # inside a compound statement.
    customers = connection.ops.quote_name(Customer._meta.db_table)
    contacts = connection.ops.quote_name(Contact._meta.db_table)
    own = f"SELECT c.id FROM {customers} c WHERE c.merged_into_id IS NULL AND "  # noqa: S608
    probes: list[tuple[str, str, list[Any]]] = []
    if mobile:
        probes.append(("mobile", own + "c.mobile = %s", [mobile]))
        of_contact = (
            f"SELECT k.customer_id AS id FROM {contacts} k JOIN {customers} c "  # noqa: S608
            "ON c.id = k.customer_id WHERE c.merged_into_id IS NULL AND k.mobile = %s"
        )
        probes.append(("mobile", of_contact, [mobile]))
    if uscc:
        probes.append(("uscc", own + "c.uscc = %s", [uscc]))
    if name and region:
        probes.append(("name_region", own + "c.name = %s AND c.region = %s", [name, region]))
    if not probes:
        return reasons
    parts, params = [], []
    for index, (reason, sql, part_params) in enumerate(probes):
        parts.append(
            f"SELECT '{reason}' AS reason, t{index}.id "  # noqa: S608 (reason: one of ours)
            f"FROM ({sql} ORDER BY 1 DESC LIMIT 20) AS t{index}"
        )
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    for reason, pk in rows:
        add([int(pk)], str(reason))
    return reasons


_REASON_TEXT = {
    "mobile": "手机号相同",
    "uscc": "统一社会信用代码相同",
    "name_region": "名称和地区相同",
}


def _refuse_duplicates(*, actor: User, found: dict[int, list[str]]) -> None:
    visible = {
        customer.pk: customer
        for customer in customers_for_user(actor).filter(pk__in=list(found)).order_by("pk")
    }
    hidden = len(found) > len(visible)
    candidates = [
        {
            "id": customer.pk,
            "name": customer.name,
            "mobile_masked": customer.mobile_masked,
            "reasons": [_(_REASON_TEXT[reason]) for reason in found[customer.pk]],
        }
        for customer in visible.values()
    ]
    if candidates:
        message = _("可能与已有客户重复，请先核对；确认不是同一客户时可选择“仍然创建”。")
        if hidden:
            message += _("另有与已有客户重复的记录不在您的范围内。")
    else:
        message = _("与已有客户重复。确认不是同一客户时可选择“仍然创建”。")
    raise DuplicateCustomer(message, extra={"candidates": candidates, "hidden": hidden})


# --- customers ---------------------------------------------------------------------------


@transaction.atomic
def customer_create(*, actor: User, data: CustomerInput) -> Customer:
    """Create a customer and, when a mobile is given, its primary contact.

    1. validate every field (all problems in one answer);
    2. refuse a likely duplicate (same mobile, USCC, or name + region) unless ``force``;
    3. create, tag, audit (numbers masked; a forced duplicate names what it overrode).
    """
    if not actor.has_perm("customers.add_customer"):
        raise Forbidden(_("您没有新建客户的权限。"))
    clean = _validate(data, actor=actor, creating=True)
    found = customer_duplicates(
        mobile=clean.get("mobile", ""),
        uscc=clean.get("uscc", ""),
        name=clean["name"],
        region=clean.get("region", ""),
    )
    if found and not data.force:
        _refuse_duplicates(actor=actor, found=found)
    team = clean["serving_team"]
    kind = clean.get("kind", Customer.Kind.COMPANY)
    if "owner" in clean:
        owner = clean["owner"]
    else:
        owner = actor if SALES_GROUP in group_names(actor) else None
    now = timezone.now()
    customer = Customer.objects.create(
        name=clean["name"],
        kind=kind,
        code=clean.get("code"),
        uscc=clean.get("uscc", ""),
        id_number=clean.get("id_number", ""),
        region=clean.get("region", ""),
        industry=clean.get("industry", ""),
        source=clean.get("source", ""),
        lifecycle_stage=clean.get("lifecycle_stage", Customer.Stage.ACTIVE),
        note=clean.get("note", ""),
        mobile=clean.get("mobile", ""),
        serving_team=team,
        owner=owner,
        created_by=actor,
        marketing_consent=clean.get("marketing_consent", False),
        marketing_consent_at=now if clean.get("marketing_consent") else None,
        marketing_consent_channel=clean.get("marketing_consent_channel", ""),
        marketing_consent_evidence=clean.get("marketing_consent_evidence", ""),
        marketing_opt_out=clean.get("marketing_opt_out", False),
        marketing_opt_out_at=now if clean.get("marketing_opt_out") else None,
    )
    if customer.mobile:
        contact_name = clean.get("contact_name") or (
            customer.name if kind == Customer.Kind.PERSON else ""
        )
        Contact.objects.create(
            customer=customer, name=contact_name, mobile=customer.mobile, is_primary=True
        )
    tags: list[Tag] = _set_tags(customer, clean["tags"])[2] if clean.get("tags") else []
    # The answer lists the tags: hand them over as if prefetched (no query to read them back).
    known = Tag.objects.filter(pk__in=[tag.pk for tag in tags])
    known._result_cache = sorted(tags, key=lambda tag: tag.name)
    known._prefetch_done = True  # type: ignore[attr-defined]
    customer._prefetched_objects_cache = {"tags": known}  # type: ignore[attr-defined]
    changes: dict[str, Any] = {
        "name": customer.name,
        "kind": customer.kind,
        "code": customer.code,
        "uscc": customer.uscc,
        "region": customer.region,
        "mobile": mask_mobile(customer.mobile),
        "id_number": mask_id_number(customer.id_number),
        "serving_team": team.pk if team else None,
        "owner": owner.pk if owner else None,
        "tags": clean.get("tags", []),
    }
    if found:
        changes["duplicate_confirmed"] = sorted(found)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, target=customer, changes=changes)
    return customer


_CONSENT_FIELDS = (
    "marketing_consent",
    "marketing_consent_at",
    "marketing_consent_channel",
    "marketing_consent_evidence",
    "marketing_opt_out",
    "marketing_opt_out_at",
)


@transaction.atomic
def customer_update(*, actor: User, customer: Customer, data: CustomerInput) -> Customer:
    if not actor.has_perm("customers.change_customer"):
        raise Forbidden(_("您没有修改客户的权限。"))
    # Lock the row: two agents saving at once must not lose each other's fields.
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    clean = _validate(data, actor=actor, creating=False, current=locked)
    clean.pop("contact_name", None)
    tags = clean.pop("tags", None)
    now = timezone.now()
    if clean.get("marketing_consent") and not locked.marketing_consent:
        clean["marketing_consent_at"] = now
    if clean.get("marketing_opt_out") and not locked.marketing_opt_out:
        clean["marketing_opt_out_at"] = now
    if clean.get("marketing_opt_out") is False:
        clean["marketing_opt_out_at"] = None
    diff = model_diff(locked, clean)
    for name in diff:
        setattr(locked, name, clean[name])
    if diff:
        locked.save(update_fields=[*diff.keys(), "updated_at"])
    if "mobile" in diff:
        _sync_primary_contact(locked)
    if tags is not None:
        old, new, _tags = _set_tags(locked, tags)
        if old != new:
            diff["tags"] = [old, new]
    if diff:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=locked,
            changes=_masked_changes(diff),
        )
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


def _sync_customer_mobile(customer: Customer) -> None:
    """Customer.mobile is a copy of the primary contact's mobile (for lists and caller ID)."""
    primary = customer.contacts.filter(is_primary=True).first()
    mobile = primary.mobile if primary else ""
    if customer.mobile != mobile:
        customer.mobile = mobile
        customer.save(update_fields=["mobile", "updated_at"])


def _require_change(actor: User) -> None:
    if not actor.has_perm("customers.change_customer"):
        raise Forbidden(_("您没有修改客户的权限。"))


# --- contacts ----------------------------------------------------------------------------


@dataclass
class ContactInput:
    name: str | None = None
    title: str | None = None
    role: str | None = None
    mobile: str | None = None
    email: str | None = None
    is_primary: bool | None = None


def _validate_contact(data: ContactInput) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, limit in (("name", 64), ("title", 64)):
        value = getattr(data, name)
        if value is not None:
            try:
                clean[name] = clean_text(value, max_length=limit)
            except ValueError as exc:
                errors[name] = [str(exc)]
    if data.role is not None:
        if data.role not in Contact.Role.values:
            errors["role"] = [_("联系人角色不在允许范围内。")]
        else:
            clean["role"] = data.role
    if data.mobile is not None:
        try:
            clean["mobile"] = normalize_mobile(data.mobile) if data.mobile.strip() else ""
        except InvalidPhone as exc:
            errors["mobile"] = [exc.message]
    if data.email is not None:
        email = data.email.strip()
        if email:
            try:
                validate_email(email)
                if len(email) > 254:
                    raise ValidationError("too long")
            except ValidationError:
                errors["email"] = [_("“%(value)s”不是有效的邮箱地址。") % {"value": email[:60]}]
        clean["email"] = email
    if data.is_primary is not None:
        clean["is_primary"] = bool(data.is_primary)
    if errors:
        raise _invalid(errors)
    return clean


def _contact_changes(contact: Contact, diff: dict[str, Any]) -> dict[str, Any]:
    return {"contact": contact.pk, **_masked_changes(diff)}


@transaction.atomic
def contact_create(*, actor: User, customer: Customer, data: ContactInput) -> Contact:
    """Add a contact. The first contact, or one marked primary, becomes the primary contact,
    and the customer's mobile follows it."""
    _require_change(actor)
    clean = _validate_contact(data)
    if not clean.get("name") and not clean.get("mobile"):
        raise _invalid({"name": [_("请至少填写联系人姓名或手机号。")]})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    has_primary = customer.contacts.filter(is_primary=True).exists()
    primary = clean.pop("is_primary", False) or not has_primary
    if primary:
        customer.contacts.filter(is_primary=True).update(is_primary=False)
    contact = Contact.objects.create(customer=customer, is_primary=primary, **clean)
    _sync_customer_mobile(customer)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=customer,
        field="contact",
        changes=_contact_changes(contact, {**clean, "is_primary": primary}),
    )
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, data: ContactInput) -> Contact:
    _require_change(actor)
    clean = _validate_contact(data)
    customer = Customer.objects.select_for_update().get(pk=contact.customer_id)
    contact = Contact.objects.get(pk=contact.pk)
    if clean.get("is_primary") is False and contact.is_primary:
        raise _invalid({"is_primary": [_("请把另一位联系人设为主联系人，而不是取消主联系人。")]})
    name = clean.get("name", contact.name)
    mobile = clean.get("mobile", contact.mobile)
    if not name and not mobile:
        raise _invalid({"name": [_("请至少填写联系人姓名或手机号。")]})
    diff = model_diff(contact, clean)
    if clean.get("is_primary") and not contact.is_primary:
        customer.contacts.filter(is_primary=True).update(is_primary=False)
    for name_ in diff:
        setattr(contact, name_, clean[name_])
    if diff:
        contact.save(update_fields=[*diff.keys(), "updated_at"])
        _sync_customer_mobile(customer)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=customer,
            field="contact",
            changes=_contact_changes(contact, diff),
        )
    return contact


def _promote_oldest(rows: models.QuerySet[Any], *, flag: str) -> None:
    """After the primary contact or default address was removed, the oldest remaining row of
    the customer takes its place (one per customer, by the models' constraints)."""
    successor = rows.order_by("id").first()
    if successor is not None:
        setattr(successor, flag, True)
        successor.save(update_fields=[flag, "updated_at"])


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    """Remove a contact; when it was the primary one the oldest remaining contact takes over."""
    _require_change(actor)
    customer = Customer.objects.select_for_update().get(pk=contact.customer_id)
    was_primary = contact.is_primary
    changes = {"contact": contact.pk, "name": contact.name, "mobile": mask_mobile(contact.mobile)}
    contact.delete()
    if was_primary:
        _promote_oldest(customer.contacts.all(), flag="is_primary")
    _sync_customer_mobile(customer)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=customer,
        field="contact",
        changes=changes,
    )


# --- addresses ---------------------------------------------------------------------------


@dataclass
class AddressInput:
    kind: str | None = None
    region: str | None = None
    detail: str | None = None
    is_default: bool | None = None


def _validate_address(data: AddressInput, *, creating: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if data.kind is not None:
        if data.kind not in Address.Kind.values:
            errors["kind"] = [_("地址类型不在允许范围内。")]
        else:
            clean["kind"] = data.kind
    for name, limit, required in (("region", 64, False), ("detail", 200, True)):
        value = getattr(data, name)
        if value is None:
            if creating and required:
                errors[name] = [_("此项为必填项。")]
            continue
        try:
            clean[name] = clean_text(value, max_length=limit, required=required)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if data.is_default is not None:
        clean["is_default"] = bool(data.is_default)
    if errors:
        raise _invalid(errors)
    return clean


@transaction.atomic
def address_create(*, actor: User, customer: Customer, data: AddressInput) -> Address:
    """Add an address; the first one, or one marked default, is the default address."""
    _require_change(actor)
    clean = _validate_address(data, creating=True)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    default = clean.pop("is_default", False) or not customer.addresses.exists()
    if default:
        customer.addresses.filter(is_default=True).update(is_default=False)
    address = Address.objects.create(customer=customer, is_default=default, **clean)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=customer,
        field="address",
        changes={"address": address.pk, **clean, "is_default": default},
    )
    return address


@transaction.atomic
def address_update(*, actor: User, address: Address, data: AddressInput) -> Address:
    _require_change(actor)
    clean = _validate_address(data, creating=False)
    customer = Customer.objects.select_for_update().get(pk=address.customer_id)
    address = Address.objects.get(pk=address.pk)
    if clean.get("is_default") and not address.is_default:
        customer.addresses.filter(is_default=True).update(is_default=False)
    diff = model_diff(address, clean)
    for name in diff:
        setattr(address, name, clean[name])
    if diff:
        address.save(update_fields=[*diff.keys(), "updated_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=customer,
            field="address",
            changes={"address": address.pk, **diff},
        )
    return address


@transaction.atomic
def address_delete(*, actor: User, address: Address) -> None:
    """Remove an address; assets installed there keep their record without an address."""
    _require_change(actor)
    customer = Customer.objects.select_for_update().get(pk=address.customer_id)
    changes = {"address": address.pk, "region": address.region, "detail": address.detail}
    was_default = address.is_default
    address.delete()
    if was_default:
        _promote_oldest(customer.addresses.all(), flag="is_default")
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=customer,
        field="address",
        changes=changes,
    )


# --- assets ------------------------------------------------------------------------------


@dataclass
class AssetInput:
    product_model: str | None = None
    serial_number: str | None = None
    purchase_date: date | None = None
    warranty_end: date | None = None
    address_id: int | None = None  # 0 clears the address
    note: str | None = None
    clear: list[str] = field(default_factory=list)  # date fields to empty (a PATCH with null)


def _validate_asset(
    data: AssetInput, *, customer: Customer, creating: bool, current: Asset | None = None
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, limit, required in (
        ("product_model", 64, True),
        ("serial_number", 64, False),
        ("note", 200, False),
    ):
        value = getattr(data, name)
        if value is None:
            if creating and required:
                errors[name] = [_("此项为必填项。")]
            continue
        try:
            clean[name] = clean_text(value, max_length=limit, required=required)
        except ValueError as exc:
            errors[name] = [str(exc)]
    for name in ("purchase_date", "warranty_end"):
        if getattr(data, name) is not None:
            clean[name] = getattr(data, name)
        elif name in data.clear:
            clean[name] = None
    if data.address_id is not None:
        if data.address_id == 0:
            clean["address"] = None
        else:
            address = (
                customer.addresses.filter(pk=data.address_id).first()
                if 0 < data.address_id < 2**63
                else None
            )
            if address is None:
                errors["address_id"] = [_("地址不存在或不属于该客户。")]
            else:
                clean["address"] = address
    purchase = clean.get("purchase_date", current.purchase_date if current else None)
    warranty = clean.get("warranty_end", current.warranty_end if current else None)
    if purchase and warranty and warranty < purchase:
        errors["warranty_end"] = [_("保修截止日不能早于购买日期。")]
    if errors:
        raise _invalid(errors)
    return clean


def _asset_changes(asset: Asset, diff: dict[str, Any]) -> dict[str, Any]:
    changes = {"asset": asset.pk, **diff}
    if "address" in changes and isinstance(changes["address"], Address):
        changes["address"] = changes["address"].pk
    return changes


@transaction.atomic
def asset_create(*, actor: User, customer: Customer, data: AssetInput) -> Asset:
    _require_change(actor)
    clean = _validate_asset(data, customer=customer, creating=True)
    asset = Asset.objects.create(customer=customer, **clean)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=customer,
        field="asset",
        changes=_asset_changes(asset, clean),
    )
    return asset


@transaction.atomic
def asset_update(*, actor: User, asset: Asset, data: AssetInput) -> Asset:
    _require_change(actor)
    asset = Asset.objects.select_for_update().select_related("customer").get(pk=asset.pk)
    clean = _validate_asset(data, customer=asset.customer, creating=False, current=asset)
    diff = model_diff(asset, clean)
    for name in diff:
        setattr(asset, name, clean[name])
    if diff:
        asset.save(update_fields=[*diff.keys(), "updated_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=asset.customer,
            field="asset",
            changes=_asset_changes(asset, diff),
        )
    return asset


@transaction.atomic
def asset_delete(*, actor: User, asset: Asset) -> None:
    _require_change(actor)
    customer = asset.customer
    changes = {
        "asset": asset.pk,
        "product_model": asset.product_model,
        "serial_number": asset.serial_number,
    }
    asset.delete()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        target=customer,
        field="asset",
        changes=changes,
    )


def warranty_status(asset: Asset, *, today: date | None = None) -> str:
    """ "in" (保内), "out" (保外) or "" (unknown: no warranty end on file)."""
    if asset.warranty_end is None:
        return ""
    today = today or timezone.localdate()
    return "in" if asset.warranty_end >= today else "out"


# --- merge -------------------------------------------------------------------------------

# Fields a merge never copies from the duplicate: identity, bookkeeping, and what other
# contexts own (tier and credit are written only by kefu.tiering and kefu.credit).
_MERGE_SKIP = {
    "id",
    "created_at",
    "updated_at",
    "created_by",
    "merged_into",
    "erased_at",
    "mobile",
    "tier",
    "credit_grade",
    "credit_score",
    "credit_limit",
    "credit_exposure",
    "credit_limit_manual",
    "lifecycle_stage",
    *_CONSENT_FIELDS,
}


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def merge_preview(*, survivor: Customer, duplicate: Customer) -> dict[str, int]:
    """{model verbose name: rows that would move} for the merge page's preview."""
    counts: dict[str, int] = {}
    for relation in _customer_relations():
        model = relation.related_model
        if model is CustomerSearchGram:
            continue
        rows = model._default_manager.filter(**{relation.field.name: duplicate}).count()
        if rows:
            counts[str(model._meta.verbose_name)] = rows
    tags = duplicate.tags.count()
    if tags:
        counts[str(_("标签"))] = tags
    return counts


def _customer_relations() -> list[Any]:
    """Every relation that points at Customer (foreign keys, one-to-ones, many-to-manys of
    other models, hidden ones with related_name="+" too), so new contexts (tickets, repairs…)
    are moved by a merge without this code knowing them."""
    return [
        rel
        for rel in Customer._meta.get_fields(include_hidden=True)
        if rel.auto_created
        and not rel.concrete
        and (rel.one_to_many or rel.one_to_one)
        # the hidden foreign keys of auto-created many-to-many tables (Customer.tags, another
        # model's ManyToManyField(Customer)) are handled as many-to-manys
        and not getattr(rel.related_model, "_meta").auto_created  # noqa: B009 (typed Any)
    ]


def _customer_m2m_relations() -> list[Any]:
    return [
        rel
        for rel in Customer._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and rel.many_to_many
    ]


@transaction.atomic
def customer_merge(
    *, actor: User, survivor: Customer, duplicate: Customer, reason: str
) -> dict[str, int]:
    """Fold ``duplicate`` into ``survivor``; answers {model label: rows moved}.

    1. check the permission, the reason, and that both are distinct live customers;
    2. move every row that points at the duplicate (found through Customer's relations, so
       contexts added later move too), minding their unique rules: one primary contact (the
       survivor's stays), one tier state (the survivor's stays), search grams (rebuilt), tags
       (union), customers merged earlier into the duplicate (now point at the survivor);
    3. fill the survivor's empty fields from the duplicate (not tier or credit: their services
       own them; the nightly jobs re-evaluate the survivor with its new orders);
    4. mark the duplicate merged (hidden from lists, stage ENDED) and audit both.

    A row that cannot move because of a unique rule this code does not know refuses the
    merge as a whole (409), nothing half-moved.
    """
    if not actor.has_perm("customers.merge_customers"):
        raise Forbidden(_("您没有合并客户的权限。"))
    try:
        reason = clean_text(reason or "", max_length=300, required=True)
    except ValueError as exc:
        raise _invalid({"reason": [str(exc)]}) from None
    if survivor.pk == duplicate.pk:
        raise _invalid({"duplicate_id": [_("不能把客户与自己合并。")]})
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
    }
    if len(locked) != 2:
        raise NotFound(_("客户不存在。"))
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if survivor.merged_into_id or duplicate.merged_into_id:
        raise Conflict(_("已合并的客户不能再参与合并。"), code="already_merged")
    moved: dict[str, int] = {}

    # one primary contact: the survivor's, when it has one
    if survivor.contacts.filter(is_primary=True).exists():
        duplicate.contacts.filter(is_primary=True).update(is_primary=False)

    for relation in _customer_relations():
        model = relation.related_model
        fk = relation.field.name
        rows = model._default_manager.filter(**{fk: duplicate})
        if model is CustomerSearchGram:
            rows.delete()  # rebuilt for the survivor below
            continue
        if model is Customer:  # merged_from: earlier merges into the duplicate
            count = rows.update(**{fk: survivor})
        elif relation.one_to_one:
            if model._default_manager.filter(**{fk: survivor}).exists():
                count = 0
                rows.delete()  # the survivor's own state wins (e.g. CustomerTierState)
            else:
                count = rows.update(**{fk: survivor})
        else:
            try:
                with transaction.atomic():
                    count = rows.update(**{fk: survivor})
            except IntegrityError:
                raise Conflict(
                    _("无法合并：%(model)s 中有与保留客户冲突的记录，请先处理。")
                    % {"model": model._meta.verbose_name},
                    code="merge_conflict",
                ) from None
        if count:
            moved[model._meta.label] = count

    for relation in _customer_m2m_relations():
        count = _move_m2m(relation, survivor=survivor, duplicate=duplicate)
        if count:
            moved[relation.related_model._meta.label] = count

    survivor_tags = set(survivor.tags.all())
    new_tags = [tag for tag in duplicate.tags.all() if tag not in survivor_tags]
    if new_tags:
        survivor.tags.add(*new_tags)
        moved["customers.Tag"] = len(new_tags)

    filled = _fill_empty_fields(survivor=survivor, duplicate=duplicate)
    _sync_customer_mobile(survivor)
    duplicate.merged_into = survivor
    duplicate.lifecycle_stage = Customer.Stage.ENDED
    duplicate.save(update_fields=["merged_into", "lifecycle_stage", "updated_at"])

    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=survivor,
        field="merge",
        changes={
            "merged": duplicate.pk,
            "merged_name": duplicate.name,
            "moved": moved,
            "filled": sorted(filled),
            "reason": reason,
        },
        note=reason,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=duplicate,
        field="merged_into",
        changes={"merged_into": survivor.pk, "lifecycle_stage": Customer.Stage.ENDED},
        note=reason,
    )
    # Customers never import a later context: tier and credit of the survivor are refreshed
    # by the nightly jobs (kefu recompute_tiers / kefu evaluate_credit), not from here.
    from kefu.customers.search import search_index_customers

    transaction.on_commit(lambda: search_index_customers([survivor.pk]))
    return moved


def _move_m2m(relation: Any, *, survivor: Customer, duplicate: Customer) -> int:
    """Re-point another model's many-to-many links from the duplicate to the survivor, dropping
    links the survivor already has."""
    through = relation.through
    to_customer = relation.field.m2m_reverse_field_name()
    to_other = relation.field.m2m_field_name()
    manager: models.Manager[Any] = through._default_manager
    already = manager.filter(**{to_customer: survivor}).values_list(f"{to_other}_id", flat=True)
    rows = manager.filter(**{to_customer: duplicate})
    rows.filter(**{f"{to_other}_id__in": list(already)}).delete()
    return int(rows.update(**{to_customer: survivor}))


def _fill_empty_fields(*, survivor: Customer, duplicate: Customer) -> list[str]:
    filled: list[str] = []
    for model_field in Customer._meta.concrete_fields:
        name = model_field.name
        if name in _MERGE_SKIP:
            continue
        mine, theirs = getattr(survivor, name), getattr(duplicate, name)
        if _is_empty(mine) and not _is_empty(theirs):
            filled.append(name)
    values = {name: getattr(duplicate, name) for name in filled}
    if "code" in values:
        # unique: the sales system's key now names the survivor
        Customer.objects.filter(pk=duplicate.pk).update(code=None)
        duplicate.code = None
    for name, value in values.items():
        setattr(survivor, name, value)
    # consent: take the duplicate's record when the survivor has none; an opt-out anywhere
    # stands (a refusal must be honoured, MIIT Order 31)
    if survivor.marketing_consent_at is None and duplicate.marketing_consent_at is not None:
        for name in _CONSENT_FIELDS[:4]:
            setattr(survivor, name, getattr(duplicate, name))
        filled.append("marketing_consent")
    if duplicate.marketing_opt_out and not survivor.marketing_opt_out:
        survivor.marketing_opt_out = True
        survivor.marketing_opt_out_at = duplicate.marketing_opt_out_at
        filled.append("marketing_opt_out")
    if filled:
        survivor.save()
    return filled


def customer_list_merge_candidates(*, user: User, survivor: Customer, q: str) -> list[Customer]:
    """Customers the user may merge into ``survivor``: in scope, live, not the survivor."""
    from kefu.customers.search import customer_search_filter

    search = customer_search_filter(q, any_tail=can_reveal(user))
    if search is None:
        return []
    return list(
        customers_for_user(user)
        .filter(search, merged_into__isnull=True)
        .exclude(pk=survivor.pk)
        .select_related("serving_team")[:20]
    )


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
