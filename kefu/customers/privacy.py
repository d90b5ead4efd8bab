"""Data-subject requests under PIPL (个人信息保护法 art. 44–47, domain.md §6): a copy of everything
Kefu holds on one customer, and erasure of their personal data by anonymisation.

What "everything" is comes from the schema, not from a list kept here: every model with a
foreign key to Customer (contacts, addresses, assets, orders, tier and credit history, and
whatever later contexts add) is found through ``Customer._meta.related_objects``, with its own
child rows one level further down (an order's lines). Data that is not reachable that way (a
recording kept on disk, …) is added by a provider registered with
``register_subject_data_provider`` in the owning context's AppConfig.ready(); ``customers``
imports no later context.

Erasure keeps the customer row, its orders, amounts, tier and credit figures (statistics and
accounting vouchers, which the law lets us keep) and the audit log (append-only: earlier
reveals and exports stay visible, which is what domain.md §7 scenario 10 asks).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.core.text import clean_text
from kefu.customers.models import Address, Contact, Customer, CustomerSearchGram
from kefu.org.models import User

Row = dict[str, Any]


@dataclass
class Section:
    """One kind of record: a sheet in the XLSX, a key in the JSON."""

    key: str  # "contacts", "orders.order", …
    title: str  # the sheet's name, in the reader's language
    columns: list[tuple[str, str]]  # (field name, heading)
    rows: list[Row] = field(default_factory=list)


# A provider answers the sections it holds on the customer (empty when it holds nothing).
SubjectDataProvider = Callable[[Customer], list[Section]]
_PROVIDERS: dict[str, SubjectDataProvider] = {}

# Not personal data of the subject: the search index is derived from the name, the merged
# customers are records of their own (they are exported and erased with the survivor, below).
_SKIPPED = {CustomerSearchGram, Customer}
_MAX_ROWS = 100_000  # per section: a runaway relation must not exhaust the server


def register_subject_data_provider(key: str, provider: SubjectDataProvider) -> None:
    _PROVIDERS[key] = provider


def _can_export(user: User) -> bool:
    return user.has_perm("customers.erase_personal_data") or (
        user.has_perm("customers.export_customers") and user.has_perm("customers.reveal_contact")
    )


def can_handle_subject_requests(user: User) -> bool:
    return _can_export(user)


# --- export -------------------------------------------------------------------------------


def _value(value: Any) -> Any:
    """Plain values for JSON and XLSX: Decimal stays Decimal (the JSON renderer writes it as a
    decimal string, openpyxl as a number), times become local ISO text."""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float | bool | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _value(item) for key, item in value.items()}
    return str(value)


def _columns(model: type[models.Model], *, skip: Iterable[str] = ()) -> list[tuple[str, str]]:
    skipped = set(skip)
    return [
        (f.attname, str(f.verbose_name))
        for f in model._meta.concrete_fields
        if f.attname not in skipped and f.name not in skipped
    ]


def _rows(objects: Iterable[models.Model], columns: list[tuple[str, str]]) -> list[Row]:
    return [{name: _value(getattr(obj, name)) for name, _heading in columns} for obj in objects]


def _section(
    key: str, model: type[models.Model], objects: Iterable[models.Model], *, skip: Iterable[str]
) -> Section:
    columns = _columns(model, skip=skip)
    title = str(model._meta.verbose_name_plural)
    return Section(key=key, title=title, columns=columns, rows=_rows(objects, columns))


def _related_sections(customer: Customer) -> list[Section]:
    """Every model pointing at Customer, and the rows of models pointing at those (an order's
    lines), found from the schema."""
    sections: list[Section] = []
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if not isinstance(model, type) or model in _SKIPPED or relation.many_to_many:
            continue
        fk = relation.field
        objects = list(model._default_manager.filter(**{fk.name: customer})[:_MAX_ROWS])
        sections.append(_section(model._meta.label_lower, model, objects, skip=[fk.name]))
        if not objects:
            continue
        for child in model._meta.related_objects:
            child_model = child.related_model
            if not isinstance(child_model, type) or child.many_to_many:
                continue
            if child_model in _SKIPPED or child_model is model:
                continue
            if any(
                getattr(f, "related_model", None) is Customer
                for f in child_model._meta.concrete_fields
            ):
                continue  # points at the customer itself: has its own section already
            rows = child_model._default_manager.filter(**{f"{child.field.name}__in": objects})
            sections.append(
                _section(
                    child_model._meta.label_lower,
                    child_model,
                    list(rows[:_MAX_ROWS]),
                    skip=[],
                )
            )
    return sections


def _audit_section(customer: Customer, contact_ids: list[int]) -> Section:
    """Who did what with this person's data: changes, reveals, exports."""
    about = models.Q(object_type=Customer._meta.label_lower, object_id=str(customer.pk))
    if contact_ids:
        about |= models.Q(
            object_type=Contact._meta.label_lower, object_id__in=[str(pk) for pk in contact_ids]
        )
    events = AuditEvent.objects.filter(about).order_by("created_at", "id")[:_MAX_ROWS]
    columns = [
        ("created_at", _("时间")),
        ("actor_name", _("操作人")),
        ("action", _("动作")),
        ("object_type", _("对象类型")),
        ("object_id", _("对象编号")),
        ("field", _("字段")),
        ("changes", _("变更")),
        ("channel", _("渠道")),
        ("note", _("说明")),
    ]
    return Section(key="audit", title=_("审计记录"), columns=columns, rows=_rows(events, columns))


def _profile_sections(customer: Customer) -> list[Section]:
    consent_fields = [
        "marketing_consent",
        "marketing_consent_at",
        "marketing_consent_channel",
        "marketing_consent_evidence",
        "marketing_opt_out",
        "marketing_opt_out_at",
    ]
    profile_columns = _columns(Customer, skip=consent_fields)
    profile = Section(
        key="profile",
        title=_("基本资料"),
        columns=[*profile_columns, ("tags", str(_("标签")))],
        rows=_rows([customer], profile_columns),
    )
    profile.rows[0]["tags"] = ", ".join(tag.name for tag in customer.tags.all())
    consent_columns = [(f.attname, str(f.verbose_name)) for f in _fields(Customer, consent_fields)]
    consent = Section(
        key="consent",
        title=_("营销同意"),
        columns=consent_columns,
        rows=_rows([customer], consent_columns),
    )
    return [profile, consent]


def _fields(model: type[models.Model], names: list[str]) -> list[Any]:
    return [model._meta.get_field(name) for name in names]


def subject_data(customer: Customer) -> list[Section]:
    """Everything Kefu holds on the customer, section by section (no permission check: the
    callers below check)."""
    sections = _profile_sections(customer)
    sections += _related_sections(customer)
    for provider in _PROVIDERS.values():
        sections += provider(customer)
    contact_ids = list(customer.contacts.values_list("pk", flat=True))
    sections.append(_audit_section(customer, contact_ids))
    return sections


def _check_export(actor: User) -> None:
    if not _can_export(actor):
        raise Forbidden(_("您没有导出个人信息的权限。"))


@transaction.atomic
def subject_export(*, actor: User, customer: Customer, fmt: str = "json") -> list[Section]:
    """Everything Kefu holds on one customer, with full numbers (it is the person's own data,
    handed to them), audited as one EXPORT with what was exported but not the data itself."""
    _check_export(actor)
    if fmt not in ("json", "xlsx"):
        raise ApplicationError(
            _("导出格式只能是 json 或 xlsx。"), fields={"format": [_("取值不在允许范围内。")]}
        )
    sections = subject_data(customer)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        target=customer,
        field="personal_data",
        changes={
            "kind": "subject_export",
            "format": fmt,
            "sections": {section.key: len(section.rows) for section in sections},
        },
        note=_("个人信息查阅复制请求"),
    )
    return sections


def subject_export_json(sections: list[Section]) -> dict[str, Any]:
    return {
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "sections": {
            section.key: {"title": section.title, "rows": section.rows} for section in sections
        },
    }


def subject_export_xlsx(sections: list[Section], *, actor: User) -> bytes:
    """One sheet per section, headings in the reader's language, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for section in sections:
        sheet = workbook.create_sheet(_sheet_title(section.title, used))
        sheet.append([heading for _name, heading in section.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in section.rows:
            sheet.append([_cell(row.get(name)) for name, _heading in section.columns])
    notice = workbook.create_sheet(_sheet_title(_("说明"), used))
    notice.append([_("个人信息副本，由 %(user)s 导出。") % {"user": actor.get_username()}])
    notice.append([timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ , unique within the workbook
    clean = "".join(char for char in title if char not in "[]:*?/\\")[:28] or "sheet"
    candidate, number = clean, 2
    while candidate in used:
        candidate = f"{clean}{number}"
        number += 1
    used.add(candidate)
    return candidate


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, str) and value.startswith("="):
        # openpyxl writes text starting with "=" as a formula; the text is data. (Other
        # prefixes such as "+" of +86… are stored as text cells and stay as they are.)
        return "'" + value
    return value


# --- erasure ------------------------------------------------------------------------------


def erased_name(customer: Customer) -> str:
    return _("已删除用户#%(id)d") % {"id": customer.pk}


@transaction.atomic
def subject_erase(*, actor: User, customer: Customer, reason: str) -> Customer:
    """Anonymise the customer's personal data, keeping the records statistics and accounts need.

    1. A person: name → 已删除用户#<id>; ID number, mobile and note emptied; every address's
       detail emptied. A company keeps its name, registration data and addresses (not
       personal data) but loses the mobile copied from its contact.
    2. Every contact (people at a company too): name, title, mobile and e-mail emptied.
    3. Marketing consent cleared; erased_at set (the first time); search grams removed.
    4. Customers merged into this one are the same subject: erased alike.
    Orders, amounts, tiers, credit history and the audit log stay. Erasing again changes
    nothing and records nothing.
    """
    if not actor.has_perm("customers.erase_personal_data"):
        raise Forbidden(_("您没有处理个人信息删除请求的权限。"))
    try:
        reason = clean_text(reason or "", max_length=300, required=True)
    except ValueError as exc:
        raise ApplicationError(
            _("请填写删除原因。"), code="invalid", fields={"reason": [str(exc)]}
        ) from None
    subjects = _merged_family(customer)
    changed: dict[str, Any] = {}
    for subject in subjects:
        counts = _erase_one(subject)
        if counts:
            changed[str(subject.pk)] = counts
    locked = Customer.objects.get(pk=customer.pk)
    if changed:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            target=locked,
            field="personal_data",
            changes={"kind": "subject_erase", "erased": changed},
            note=reason,
        )
    return locked


def _merged_family(customer: Customer) -> list[Customer]:
    """The customer and every customer merged into it (directly or through another), locked."""
    ids, frontier = {customer.pk}, [customer.pk]
    while frontier:
        merged = list(
            Customer.objects.filter(merged_into_id__in=frontier)
            .exclude(pk__in=ids)
            .values_list("pk", flat=True)
        )
        ids.update(merged)
        frontier = merged
    return list(Customer.objects.select_for_update().filter(pk__in=sorted(ids)).order_by("pk"))


def _erase_one(customer: Customer) -> dict[str, Any]:
    """Anonymise one customer row and its dependants; what changed (field names and counts,
    never the values), empty when it was erased already."""
    person = customer.kind == Customer.Kind.PERSON
    wanted: dict[str, Any] = {
        "mobile": "",
        "marketing_consent": False,
        "marketing_consent_at": None,
        "marketing_consent_channel": "",
        "marketing_consent_evidence": "",
    }
    if person:
        wanted |= {"name": erased_name(customer), "id_number": "", "note": ""}
    fields = [name for name, value in wanted.items() if getattr(customer, name) != value]
    for name in fields:
        setattr(customer, name, wanted[name])
    if customer.erased_at is None:
        customer.erased_at = timezone.now()
        fields.append("erased_at")
    if fields:
        customer.save(update_fields=[*fields, "updated_at"])  # the receiver drops the grams
    CustomerSearchGram.objects.filter(customer_id=customer.pk).delete()
    contacts = (
        Contact.objects.filter(customer=customer)
        .exclude(name="", title="", mobile="", email="")
        .update(name="", title="", mobile="", email="", updated_at=timezone.now())
    )
    addresses = 0
    if person:
        addresses = (
            Address.objects.filter(customer=customer)
            .exclude(detail="")
            .update(detail="", updated_at=timezone.now())
        )
    counts: dict[str, Any] = {}
    if fields:
        counts["fields"] = sorted(fields)
    if contacts:
        counts["contacts"] = contacts
    if addresses:
        counts["addresses"] = addresses
    return counts
