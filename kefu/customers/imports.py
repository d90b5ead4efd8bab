"""Customer files (CSV/XLSX) keyed by the sales system's customer code (客户编码): one row per
customer, validated whole and imported whole or not at all (kefu.core.imports runs the job).

A code already stored with the same content is left alone; with different content it is an
error unless the uploader asked to update existing customers. Mobiles are normalised like
everywhere else (kefu.core.phones); the name search index is rebuilt for the rows written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.core.imports import (
    Column,
    ImportResult,
    Progress,
    RowError,
    RowsRejected,
    SheetRow,
    cell_text,
    import_job_run,
    mark_importing,
)
from kefu.core.models import ImportJob
from kefu.core.phones import InvalidPhone, normalize_mobile
from kefu.core.text import has_control_chars
from kefu.customers.access import customer_scope_filter
from kefu.customers.identifiers import normalize_uscc
from kefu.customers.models import Contact, Customer
from kefu.customers.signals import customers_bulk_created
from kefu.org.models import Team, User

CUSTOMER_COLUMNS = (
    Column("code", gettext_noop("客户编码"), required=True, aliases=("customer_code", "编码")),
    Column("name", gettext_noop("客户名称"), aliases=("名称", "客户")),
    Column("kind", gettext_noop("类型"), aliases=("客户类型",)),
    Column("region", gettext_noop("地区")),
    Column("industry", gettext_noop("行业")),
    Column("mobile", gettext_noop("手机"), aliases=("手机号", "手机号码")),
    Column("contact_name", gettext_noop("联系人"), aliases=("contact",)),
    Column("uscc", gettext_noop("统一社会信用代码"), aliases=("信用代码",)),
    Column("source", gettext_noop("来源"), aliases=("客户来源",)),
)
_LIMITS = {
    "code": 32,
    "name": 100,
    "region": 64,
    "industry": 64,
    "contact_name": 64,
    "source": 64,
}
_KINDS = {
    "企业": Customer.Kind.COMPANY,
    "公司": Customer.Kind.COMPANY,
    "company": Customer.Kind.COMPANY,
    "个人": Customer.Kind.PERSON,
    "person": Customer.Kind.PERSON,
}
# The stored fields a file row may set (contact_name only goes to a new primary contact).
_STORED = ("name", "kind", "region", "industry", "mobile", "uscc", "source")


def _columns() -> tuple[Column, ...]:
    return tuple(
        Column(c.key, _(c.label), c.required, (*c.aliases, c.label)) for c in CUSTOMER_COLUMNS
    )


def _label(key: str) -> str:
    for column in CUSTOMER_COLUMNS:
        if column.key == key:
            return _(column.label)
    return ""


@dataclass
class _Row:
    number: int
    values: dict[str, str]  # only the columns the file has, cleaned
    existing: Customer | None = None
    result: str = ""


def _clean(row: SheetRow, errors: list[RowError]) -> _Row | None:
    values: dict[str, str] = {}
    ok = True

    def bad(key: str, message: str) -> None:
        nonlocal ok
        ok = False
        errors.append(RowError(row.number, _label(key), message))

    for key, cell in row.values.items():
        text = cell_text(cell)
        if has_control_chars(text):
            bad(key, _("不能包含控制字符。"))
            continue
        limit = _LIMITS.get(key)
        if limit is not None and len(text) > limit:
            bad(
                key,
                _("最多 %(max)d 个字符（当前 %(len)d 个）。") % {"max": limit, "len": len(text)},
            )
            continue
        if key == "kind":
            if not text:
                continue
            kind = _KINDS.get(text.lower())
            if kind is None:
                bad(key, _("客户类型只能是“企业”或“个人”。"))
                continue
            text = str(kind)
        elif key == "mobile" and text:
            try:
                text = normalize_mobile(text)
            except InvalidPhone as exc:
                bad(key, exc.message)
                continue
        elif key == "uscc" and text:
            try:
                text = normalize_uscc(text)
            except ValueError as exc:
                bad(key, str(exc))
                continue
        values[key] = text
    if not values.get("code") and "code" not in {e.column for e in errors if e.row == row.number}:
        bad("code", _("请填写客户编码。"))
    return _Row(row.number, values) if ok else None


def _differs(customer: Customer, values: dict[str, str]) -> list[str]:
    """The stored fields the row would change (empty cells change nothing)."""
    return [
        key
        for key in _STORED
        if values.get(key) and str(getattr(customer, key) or "") != values[key]
    ]


def _own_team(actor: User) -> Team | None:
    membership = actor.memberships.select_related("team").order_by("id").first()
    return membership.team if membership else None


def import_customer_rows(
    *,
    actor: User,
    rows: list[SheetRow],
    update_existing: bool,
    filename: str,
    progress: Progress | None = None,
    on_valid: Any = None,
) -> ImportResult:
    """Validate every row, then create and update in one transaction, or raise RowsRejected."""
    if not actor.has_perm("customers.import_customers"):
        raise Forbidden(_("您没有导入客户的权限。"))
    if update_existing and not actor.has_perm("customers.change_customer"):
        raise Forbidden(_("您没有修改客户的权限。"))
    errors: list[RowError] = []
    cleaned: list[_Row] = []
    first: dict[str, _Row] = {}
    for index, sheet_row in enumerate(rows, start=1):
        row = _clean(sheet_row, errors)
        if progress is not None and index % 500 == 0:
            progress(index)
        if row is None:
            continue
        code = row.values["code"]
        earlier = first.get(code)
        if earlier is not None:
            if earlier.values != row.values:
                errors.append(
                    RowError(
                        row.number,
                        _label("code"),
                        _("客户编码“%(code)s”在第 %(first)d 行已出现，且内容不同。")
                        % {"code": code, "first": earlier.number},
                    )
                )
            continue  # an identical repeat is dropped
        first[code] = row
        cleaned.append(row)
    existing = {
        customer.code: customer
        for chunk in _chunks(sorted(first))
        for customer in Customer.objects.filter(code__in=chunk)
    }
    scope = customer_scope_filter(actor)
    visible: set[int] = set()
    if existing:
        ids = [customer.pk for customer in existing.values()]
        query = Customer.objects.filter(pk__in=ids)
        visible = set(
            (query if scope is None else query.filter(scope)).values_list("pk", flat=True)
        )
    for row in cleaned:
        customer = existing.get(row.values["code"])
        if customer is None:
            if not row.values.get("name"):
                errors.append(RowError(row.number, _label("name"), _("新客户须填写客户名称。")))
            row.result = "created"
            continue
        row.existing = customer
        changes = _differs(customer, row.values)
        if not changes:
            row.result = "unchanged"
        elif customer.pk not in visible:
            errors.append(RowError(row.number, _label("code"), _("客户编码已被其他客户使用。")))
        elif not update_existing:
            labels = "、".join(_label(key) for key in changes)
            errors.append(
                RowError(
                    row.number,
                    _label(changes[0]),
                    _(
                        "客户编码“%(code)s”已存在且内容不同（%(fields)s）；如需覆盖，请选择“更新已有客户”。"
                    )
                    % {"code": row.values["code"], "fields": labels},
                )
            )
        else:
            row.result = "updated"
    if errors:
        errors.sort(key=lambda e: (e.row, e.column))
        raise RowsRejected(errors)
    if progress is not None:
        progress(len(rows))
    if on_valid is not None:
        on_valid()
    return _write(actor=actor, rows=cleaned, filename=filename)


def _chunks(values: list[str], size: int = 900) -> list[list[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


@transaction.atomic
def _write(*, actor: User, rows: list[_Row], filename: str) -> ImportResult:
    team = _own_team(actor)
    owner = actor if actor.groups.filter(name="销售").exists() else None
    new_rows = [row for row in rows if row.result == "created"]
    try:
        with transaction.atomic():
            created = Customer.objects.bulk_create(
                [
                    Customer(
                        code=row.values["code"],
                        name=row.values["name"],
                        kind=row.values.get("kind") or Customer.Kind.COMPANY,
                        region=row.values.get("region", ""),
                        industry=row.values.get("industry", ""),
                        mobile=row.values.get("mobile", ""),
                        uscc=row.values.get("uscc", ""),
                        source=row.values.get("source", ""),
                        serving_team=team,
                        owner=owner,
                        created_by=actor,
                    )
                    for row in new_rows
                ],
                batch_size=500,
            )
    except IntegrityError:
        raise Conflict(
            _("有相同客户编码的客户正在被同时写入，请稍后重试。"), code="concurrent_import"
        ) from None
    contacts = [
        Contact(
            customer=customer,
            name=row.values.get("contact_name")
            or (customer.name if customer.kind == Customer.Kind.PERSON else ""),
            mobile=customer.mobile,
            is_primary=True,
        )
        for row, customer in zip(new_rows, created, strict=True)
        if customer.mobile
    ]
    updated: list[Customer] = []
    now = timezone.now()
    for row in rows:
        if row.result != "updated" or row.existing is None:
            continue
        customer = row.existing
        for key in _differs(customer, row.values):
            setattr(customer, key, row.values[key])
        customer.updated_at = now
        updated.append(customer)
    if updated:
        Customer.objects.bulk_update(updated, [*_STORED, "updated_at"], batch_size=500)
        primaries = {
            contact.customer_id: contact
            for contact in Contact.objects.filter(
                customer__in=[c.pk for c in updated if c.mobile], is_primary=True
            )
        }
        changed_contacts = []
        for customer in updated:
            if not customer.mobile:
                continue
            primary = primaries.get(customer.pk)
            if primary is None:
                contacts.append(Contact(customer=customer, mobile=customer.mobile, is_primary=True))
            elif primary.mobile != customer.mobile:
                primary.mobile = customer.mobile
                primary.updated_at = now
                changed_contacts.append(primary)
        Contact.objects.bulk_update(changed_contacts, ["mobile", "updated_at"], batch_size=500)
    Contact.objects.bulk_create(contacts, batch_size=1000)
    result = ImportResult(
        created=len(created),
        updated=len(updated),
        unchanged=sum(1 for row in rows if row.result == "unchanged"),
        ids=[customer.pk for customer in [*created, *updated]],
    )
    if result.ids:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            object_type=Customer._meta.label_lower,
            object_repr=_("客户导入：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d")
            % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            changes={
                "channel": "file",
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "updated_codes": [c.code for c in updated][:1000],
            },
            note=filename[:200],
        )
        ids = list(result.ids)
        transaction.on_commit(lambda: _reindex(ids))
        new_ids = sorted(customer.pk for customer in created)
        if new_ids:  # bulk inserts fire no post_save: tell credit etc. about the new customers
            transaction.on_commit(
                lambda: customers_bulk_created.send(sender=Customer, customer_ids=new_ids)
            )
    return result


def _reindex(ids: list[int]) -> None:
    from kefu.customers.search import search_index_customers

    search_index_customers(ids)


def customer_import_job_run(job: ImportJob) -> ImportJob:
    actor = job.created_by

    def importer(job: ImportJob, rows: list[SheetRow], progress: Progress) -> ImportResult:
        if actor is None:
            raise ApplicationError(_("上传该文件的用户已不存在，未导入。"))
        return import_customer_rows(
            actor=actor,
            rows=rows,
            update_existing=job.update_existing,
            filename=job.filename,
            progress=progress,
            on_valid=lambda: mark_importing(job),
        )

    return import_job_run(job=job, columns=_columns(), importer=importer)
