"""Credit management (信用管理): evaluation, finance-entered factors, manual limits, holds, policy.

Only these services write Customer.credit_grade / credit_score / credit_limit / credit_exposure
and Order.credit_hold. The scorecard itself is kefu.credit.scorecard (pure); here its inputs are
aggregated in SQL (a few GROUP BY queries for any number of customers) and its results written in
batches, so the nightly run over 100,000 customers stays well under a minute.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record, model_diff
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.credit.models import CreditChange, CreditPolicy
from kefu.credit.scorecard import (
    GRADES,
    CreditAssessment,
    CreditFacts,
    assess,
    default_policy,
    late_days,
    merge_policy,
)
from kefu.customers.models import Customer
from kefu.orders.models import Order
from kefu.org.backends import permissions_ttl
from kefu.org.models import User

logger = logging.getLogger("kefu.credit")

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY_MAX = Decimal("100000000000000")  # 10^14: what max_digits=16, decimal_places=2 holds
ID_CHUNK = 5_000  # ids per IN (...) list
WRITE_BATCH = 2_000
T12_DAYS = 365
MANAGE_PERM = "customers.manage_credit"
POLICY_PERM = "credit.change_creditpolicy"
FACTOR_FIELDS = (
    "registered_capital",
    "annual_turnover",
    "finance_score",
    "legal_record",
    "payment_days",
    "cooperation_since",
)
CUSTOMER_FIELDS = (
    "id",
    "credit_grade",
    "credit_score",
    "credit_limit",
    "credit_exposure",
    "credit_limit_manual",
    *FACTOR_FIELDS,
)


# --------------------------------------------------------------------------- policy


def policy_get() -> CreditPolicy:
    """The one policy row (the data migration creates it; recreated if someone deleted it)."""
    policy = CreditPolicy.objects.order_by("id").first()
    if policy is None:
        policy = CreditPolicy.objects.create(config=default_policy())
    return policy


def policy_config() -> dict[str, Any]:
    return merge_policy(policy_get().config)


POLICY_CACHE_KEY = "kefu:credit:policy-config"


def policy_config_cached() -> dict[str, Any]:
    """The policy for the per-customer hot path (every new customer's first grade): cached;
    a saved or deleted policy clears the entry (kefu.credit.apps). Without Redis another process
    holds its copy at most ``permissions_ttl()`` seconds; the nightly and post-change
    re-evaluations read the policy afresh. Pages and the API show ``policy_config()``."""
    config: dict[str, Any] | None = cache.get(POLICY_CACHE_KEY)
    if config is None:
        config = policy_config()
        cache.set(POLICY_CACHE_KEY, config, timeout=permissions_ttl())
    return config


def forget_cached_policy(**kwargs: Any) -> None:
    """Signal receiver: the policy row changed."""
    cache.delete(POLICY_CACHE_KEY)


def today_local() -> date:
    return timezone.localdate()


# --------------------------------------------------------------------------- aggregation


@dataclass
class _Aggregate:
    order_count: int = 0
    first_order_date: date | None = None
    t12_revenue: Decimal = ZERO
    exposure: Decimal = ZERO
    assessed_count: int = 0
    assessed_amount: Decimal = ZERO
    late_amount: Decimal = ZERO
    worst_late_days: int = 0


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


def _payment_filters(today: date, policy: dict[str, Any]) -> tuple[Q, Q]:
    """(assessed, late): which orders payment history looks at, and which of them were late.

    Assessed: paid orders due within the window, and every unpaid order already overdue today
    (however old: an order unpaid for two years must weigh). Unpaid orders not yet due are not
    assessed (nothing is known yet). Orders without a due date are not assessed.
    """
    window_start = today - timedelta(days=int(policy["payment"]["window_days"]))
    assessed = Q(due_date__isnull=False) & (
        Q(paid_date__isnull=False, due_date__gte=window_start)
        | Q(paid_date__isnull=True, due_date__lt=today)
    )
    late = Q(paid_date__gt=F("due_date")) | Q(paid_date__isnull=True, due_date__lt=today)
    return assessed, late


def _order_aggregates(
    customer_ids: list[int] | None, *, today: date, policy: dict[str, Any]
) -> dict[int, _Aggregate]:
    """One GROUP BY over orders (per chunk of ids) plus one pass over the late orders only."""
    assessed, late = _payment_filters(today, policy)
    t12_start = today - timedelta(days=T12_DAYS)
    result: dict[int, _Aggregate] = defaultdict(_Aggregate)
    scopes: Iterable[list[int] | None] = [None] if customer_ids is None else _chunks(customer_ids)
    for chunk in scopes:
        orders = (
            Order.objects.all() if chunk is None else Order.objects.filter(customer_id__in=chunk)
        )
        rows = (
            orders.order_by()
            .values("customer_id")
            .annotate(
                n=Count("id"),
                first=Min("date"),
                t12=Sum("amount", filter=Q(date__gt=t12_start, date__lte=today)),
                exposure=Sum("amount", filter=Q(paid_date__isnull=True)),
                assessed_n=Count("id", filter=assessed),
                assessed_amount=Sum("amount", filter=assessed),
                late_amount=Sum("amount", filter=assessed & late),
            )
        )
        for row in rows:
            agg = result[row["customer_id"]]
            agg.order_count = row["n"]
            agg.first_order_date = row["first"]
            agg.t12_revenue = row["t12"] or ZERO
            agg.exposure = row["exposure"] or ZERO
            agg.assessed_count = row["assessed_n"]
            agg.assessed_amount = row["assessed_amount"] or ZERO
            agg.late_amount = row["late_amount"] or ZERO
        late_rows = orders.filter(assessed & late).values_list(
            "customer_id", "due_date", "paid_date"
        )
        for customer_id, due, paid in late_rows.iterator(chunk_size=10_000):
            if due is None:  # excluded by the filter; for the type checker
                continue
            days = late_days(due=due, paid=paid, today=today)
            agg = result[customer_id]
            agg.worst_late_days = max(agg.worst_late_days, days)
    return result


def _facts(row: dict[str, Any], agg: _Aggregate, today: date) -> CreditFacts:
    return CreditFacts(
        today=today,
        order_count=agg.order_count,
        first_order_date=agg.first_order_date,
        t12_revenue=agg.t12_revenue,
        assessed_count=agg.assessed_count,
        assessed_amount=agg.assessed_amount,
        late_amount=agg.late_amount,
        worst_late_days=agg.worst_late_days,
        registered_capital=row["registered_capital"],
        annual_turnover=row["annual_turnover"],
        finance_score=row["finance_score"],
        legal_record=row["legal_record"],
        payment_days=row["payment_days"],
        cooperation_since=row["cooperation_since"],
    )


def credit_assess_customer(*, customer: Customer, today: date | None = None) -> CreditAssessment:
    """The scorecard for one customer as it stands now (archive panel, API detail)."""
    today = today or today_local()
    policy = policy_config()
    agg = _order_aggregates([customer.pk], today=today, policy=policy).get(customer.pk)
    row = {name: getattr(customer, name) for name in FACTOR_FIELDS}
    return assess(_facts(row, agg or _Aggregate(), today), policy)


# --------------------------------------------------------------------------- batch writes


def _write_columns(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE customers SET <columns> for many rows; each row is (id, *values).

    Django's bulk_update builds a CASE WHEN per column with one branch per row, which grows
    quadratic in the batch; PostgreSQL takes an UPDATE … FROM (VALUES …) instead, SQLite a
    prepared statement run many times (in-process, so as fast as it gets).
    """
    if not rows:
        return
    table = connection.ops.quote_name(Customer._meta.db_table)
    quoted = [connection.ops.quote_name(column) for column in columns]
    casts = {
        "credit_grade": "text",
        "credit_score": "integer",
        "credit_limit": "numeric",
        "credit_exposure": "numeric",
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ["id"] + [f"v{i}" for i in range(len(columns))]
            placeholder = (
                "(%s::bigint, " + ", ".join(f"%s::{casts[column]}" for column in columns) + ")"
            )
            assignments = ", ".join(f"{column} = v.v{i}" for i, column in enumerate(quoted))
            for start in range(0, len(rows), WRITE_BATCH):
                batch = rows[start : start + WRITE_BATCH]
                values = ", ".join([placeholder] * len(batch))
                sql = (
                    f"UPDATE {table} AS c SET {assignments} "  # noqa: S608 (names are ours)
                    f"FROM (VALUES {values}) AS v({', '.join(names)}) WHERE c.id = v.id"
                )
                cursor.execute(sql, [value for row in batch for value in row])
        else:
            assignments = ", ".join(f"{column} = %s" for column in quoted)
            sql = f"UPDATE {table} SET {assignments} WHERE id = %s"  # noqa: S608
            cursor.executemany(sql, [(*row[1:], row[0]) for row in rows])


def _bulk_create_changes(changes: list[CreditChange]) -> None:
    """Insert change rows. On PostgreSQL with COPY: Django 5.2 sends a bulk insert as UNNEST of
    arrays, and psycopg quotes each JSON text into an array literal character by character
    (over a minute for the 100,000 first grades of the large seed); COPY takes a second or two."""
    if not changes:
        return
    if connection.vendor != "postgresql" or len(changes) < 100:
        CreditChange.objects.bulk_create(changes, batch_size=WRITE_BATCH)
        return
    now = timezone.now()
    columns = "created_at, updated_at, customer_id, field, old_value, new_value, reason, " + (
        "figures, actor_id"
    )
    table = connection.ops.quote_name(CreditChange._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for change in changes:
            copy.write_row(
                (
                    now,
                    now,
                    change.customer_id,
                    change.field,
                    change.old_value,
                    change.new_value,
                    change.reason,
                    json.dumps(change.figures, ensure_ascii=False, separators=(",", ":")),
                    change.actor_id,
                )
            )


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class EvaluationSummary:
    customers: int
    updated: int
    grade_changes: int
    limit_changes: int
    seconds: float


def _money(value: Decimal | None) -> str:
    return "" if value is None else str(Decimal(value).quantize(CENT))


def _customer_rows(customer_ids: list[int] | None) -> Iterator[dict[str, Any]]:
    customers = Customer.objects.order_by("id")
    if customer_ids is None:
        yield from customers.values(*CUSTOMER_FIELDS).iterator(chunk_size=ID_CHUNK)
        return
    for chunk in _chunks(sorted(set(customer_ids))):
        yield from customers.filter(pk__in=chunk).values(*CUSTOMER_FIELDS)


@transaction.atomic
def credit_evaluate(
    *,
    customer_ids: list[int] | None = None,
    actor: User | None = None,
    reason: str,
    today: date | None = None,
    audit: bool = True,
) -> EvaluationSummary:
    """Score and grade the customers (all when ``customer_ids`` is None), set each computed
    limit (a manual limit is kept) and the exposure (sum of unpaid orders).

    1. Aggregate orders per customer in SQL (_order_aggregates).
    2. Run the scorecard on each customer (pure Python).
    3. Write only the rows that changed, in batches, and one CreditChange per grade or limit
       change with every figure used; one audit event for the run.
    """
    started = timezone.now()
    today = today or today_local()
    policy = policy_config()
    aggregates = _order_aggregates(customer_ids, today=today, policy=policy)
    empty = _Aggregate()
    writes: list[tuple[Any, ...]] = []
    changes: list[CreditChange] = []
    grade_changes = limit_changes = seen = 0
    reason = reason[:300]
    for row in _customer_rows(customer_ids):
        seen += 1
        agg = aggregates.get(row["id"], empty)
        result = assess(_facts(row, agg, today), policy)
        limit = row["credit_limit"] if row["credit_limit_manual"] else result.limit
        exposure = agg.exposure.quantize(CENT)
        first_time = row["credit_score"] is None
        if (
            row["credit_grade"] == result.grade
            and row["credit_score"] == result.score
            and row["credit_limit"] == limit
            and row["credit_exposure"] == exposure
        ):
            continue
        writes.append((row["id"], result.grade, result.score, limit, exposure))
        figures: dict[str, Any] | None = None
        if first_time or row["credit_grade"] != result.grade:
            grade_changes += 1
            figures = result.figures()
            changes.append(
                CreditChange(
                    customer_id=row["id"],
                    field="grade",
                    old_value="" if first_time else row["credit_grade"],
                    new_value=result.grade,
                    reason=reason,
                    figures=figures,
                    actor=actor,
                )
            )
        if row["credit_limit"] != limit and not first_time:  # a first grade row holds the limit
            limit_changes += 1
            changes.append(
                CreditChange(
                    customer_id=row["id"],
                    field="limit",
                    old_value="" if first_time else _money(row["credit_limit"]),
                    new_value=_money(limit),
                    reason=reason,
                    figures=figures or result.figures(),
                    actor=actor,
                )
            )
    _write_columns(("credit_grade", "credit_score", "credit_limit", "credit_exposure"), writes)
    _bulk_create_changes(changes)
    seconds = (timezone.now() - started).total_seconds()
    if audit:  # one event for the run; the CreditChange rows carry the per-customer detail
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="credit.creditchange",
            object_id=str(customer_ids[0]) if customer_ids and len(customer_ids) == 1 else "",
            object_repr=_("信用评估"),
            field="credit_grade",
            changes={
                "customers": seen,
                "updated": len(writes),
                "grade_changes": grade_changes,
                "limit_changes": limit_changes,
            },
            note=reason,
        )
    return EvaluationSummary(seen, len(writes), grade_changes, limit_changes, seconds)


def credit_grade_new_customer(*, customer: Customer) -> CreditAssessment:
    """Give a customer about to be inserted its first grade, score and limit, on the instance
    (called by the pre_save receiver, so the INSERT carries them: no second write).

    A new customer has no orders yet, so the scorecard needs no query beyond the policy: the
    factors finance may already have entered, neutral defaults for the rest. A manual limit
    given at creation is kept.
    """
    today = today_local()
    policy = policy_config_cached()
    row = {name: getattr(customer, name) for name in FACTOR_FIELDS}
    result = assess(_facts(row, _Aggregate(), today), policy)
    customer.credit_grade = result.grade
    customer.credit_score = result.score
    if not customer.credit_limit_manual:
        customer.credit_limit = result.limit
    customer.credit_exposure = ZERO.quantize(CENT)
    return result


def credit_log_new_customer(*, customer: Customer, result: CreditAssessment) -> None:
    """The change-log row of the first grade (post_save, once the customer has its id). Not
    audited on its own: the creation is, and this row records the initial grade."""
    CreditChange.objects.create(
        customer=customer,
        field="grade",
        old_value="",
        new_value=result.grade,
        reason=_("新建客户，初始评级"),
        figures=result.figures(),
    )


# --------------------------------------------------------------------------- exposure and holds


@transaction.atomic
def credit_exposure_refresh(*, customer_ids: list[int], actor: User | None = None) -> list[Order]:
    """Recompute exposure (unpaid orders) for these customers and hold the orders that take it
    over a positive limit (挂起待审: flagged for finance to review, never refused).

    Walking a customer's unpaid orders oldest first, every order at which the running total
    passes the limit is held, unless finance already cleared it; so the newest orders (those
    just received) are the ones held, and running this twice holds nothing more. A cash-only
    customer (limit 0) is never flagged: all its orders are expected to be paid on delivery.
    Returns the orders newly held.
    """
    ids = sorted({int(pk) for pk in customer_ids})
    if not ids:
        return []
    exposures: dict[int, Decimal] = {}
    limits: dict[int, Decimal] = {}
    writes: list[tuple[Any, ...]] = []
    for chunk in _chunks(ids):
        sums = dict(
            Order.objects.filter(customer_id__in=chunk, paid_date__isnull=True)
            .order_by()
            .values("customer_id")
            .annotate(total=Sum("amount"))
            .values_list("customer_id", "total")
        )
        for pk, old, limit in Customer.objects.filter(pk__in=chunk).values_list(
            "pk", "credit_exposure", "credit_limit"
        ):
            exposure = Decimal(sums.get(pk) or ZERO).quantize(CENT)
            exposures[pk] = exposure
            limits[pk] = limit
            if old != exposure:
                writes.append((pk, exposure))
    _write_columns(("credit_exposure",), writes)
    over = [pk for pk, exposure in exposures.items() if limits[pk] > 0 and exposure > limits[pk]]
    held: list[Order] = []
    for chunk in _chunks(over):
        unpaid = Order.objects.filter(customer_id__in=chunk, paid_date__isnull=True).order_by(
            "customer_id", "date", "id"
        )
        running: dict[int, Decimal] = defaultdict(Decimal)
        for order in unpaid.only(
            "id",
            "order_no",
            "customer_id",
            "date",
            "amount",
            "credit_hold",
            "credit_hold_cleared_by",
        ):
            running[order.customer_id] += order.amount
            if running[order.customer_id] <= limits[order.customer_id]:
                continue
            if order.credit_hold or order.credit_hold_cleared_by_id is not None:
                continue
            held.append(order)
    if not held:
        return []
    Order.objects.filter(pk__in=[order.pk for order in held]).update(credit_hold=True)
    reason = _("信用占用超过额度，订单挂起待审")
    changes = []
    for order in held:
        order.credit_hold = True
        figures = {
            "order_id": order.pk,
            "order_no": order.order_no,
            "amount": _money(order.amount),
            "exposure": _money(exposures[order.customer_id]),
            "limit": _money(limits[order.customer_id]),
        }
        changes.append(
            CreditChange(
                customer_id=order.customer_id,
                field="hold",
                old_value="",
                new_value=order.order_no[:64],
                reason=reason,
                figures=figures,
                actor=actor,
            )
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=order,
            field="credit_hold",
            changes=figures,
            note=reason,
        )
    _bulk_create_changes(changes)
    return held


def on_orders_changed(sender: Any, customer_ids: list[int] | None = None, **kwargs: Any) -> None:
    """Receiver of kefu.orders.signals.orders_changed (sent after the orders committed)."""
    if not customer_ids:
        return
    try:
        credit_exposure_refresh(customer_ids=list(customer_ids))
    except Exception:
        # The orders are stored already; a failure here must not turn their import into an
        # error. The nightly evaluation sets the exposure again.
        logger.exception("credit exposure refresh failed for %d customers", len(customer_ids))


@transaction.atomic
def credit_hold_clear(*, actor: User, order: Order, note: str = "") -> Order:
    """Finance reviewed an order held over the limit and lets it through (审核放行)."""
    if not actor.has_perm(MANAGE_PERM):
        raise Forbidden(_("您没有审核信用挂起订单的权限。"))
    order = Order.objects.select_for_update().get(pk=order.pk)
    if not order.credit_hold:
        raise Conflict(_("该订单没有挂起，无需放行。"))
    note = (note or "").strip()[:300]
    if "\x00" in note:
        raise ApplicationError(_("不能包含控制字符。"), fields={"note": [_("不能包含控制字符。")]})
    order.credit_hold = False
    order.credit_hold_cleared_by = actor
    order.save(update_fields=["credit_hold", "credit_hold_cleared_by", "updated_at"])
    reason = note or _("财务审核放行")
    CreditChange.objects.create(
        customer_id=order.customer_id,
        field="hold",
        old_value=order.order_no[:64],
        new_value="",
        reason=reason,
        figures={"order_id": order.pk, "order_no": order.order_no, "cleared": True},
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        field="credit_hold",
        target=order,
        changes={"credit_hold": [True, False]},
        note=reason,
    )
    return order


# --------------------------------------------------------------------------- finance input

UNSET: Any = object()


def _error(fields: dict[str, list[str]], name: str, message: str) -> None:
    fields.setdefault(name, []).append(message)


def _clean_money(value: Any, name: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        _error(errors, name, _("必须是数字。"))
        return None
    if not amount.is_finite():
        _error(errors, name, _("必须是数字。"))
        return None
    if amount < 0:
        _error(errors, name, _("不能为负数。"))
        return None
    if amount >= MONEY_MAX:
        _error(errors, name, _("数值过大。"))
        return None
    return amount.quantize(CENT)


def _clean_int(
    value: Any, name: str, errors: dict[str, list[str]], *, high: int, message: str
) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        _error(errors, name, _("必须是整数。"))
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        _error(errors, name, _("必须是整数。"))
        return None
    if number < 0:
        _error(errors, name, _("不能为负数。"))
        return None
    if number > high:
        _error(errors, name, message)
        return None
    return number


def credit_clean_factors(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check the finance-entered factors; (clean values, field errors in Chinese)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name in ("registered_capital", "annual_turnover"):
        if name in data:
            clean[name] = _clean_money(data[name], name, errors)
    if "finance_score" in data:
        clean["finance_score"] = _clean_int(
            data["finance_score"],
            "finance_score",
            errors,
            high=15,
            message=_("财务状况评分应在 0 到 15 之间。"),
        )
    if "payment_days" in data:
        days = _clean_int(
            data["payment_days"],
            "payment_days",
            errors,
            high=365,
            message=_("账期应在 0 到 365 天之间。"),
        )
        if days is None and "payment_days" not in errors:
            _error(errors, "payment_days", _("此项为必填项。"))
        clean["payment_days"] = days
    if "legal_record" in data:
        value = data["legal_record"] or Customer.LegalRecord.UNKNOWN
        if value not in Customer.LegalRecord.values:
            _error(errors, "legal_record", _("取值不在允许范围内。"))
        clean["legal_record"] = value
    if "cooperation_since" in data:
        since = data["cooperation_since"]
        if since in (None, ""):
            clean["cooperation_since"] = None
        elif isinstance(since, datetime) or not isinstance(since, date):
            try:
                since = date.fromisoformat(str(since))
            except ValueError:
                _error(errors, "cooperation_since", _("日期格式应为 YYYY-MM-DD。"))
                since = None
        if isinstance(since, date):
            if since > today_local():
                _error(errors, "cooperation_since", _("合作起始日不能晚于今天。"))
            clean["cooperation_since"] = since
    return clean, errors


def credit_clean_limit(value: Any, errors: dict[str, list[str]]) -> Decimal | None:
    """A manual limit: a non-negative amount, or None (back to the computed limit)."""
    if value is None or value == "":
        return None
    limit = _clean_money(value, "credit_limit", errors)
    if "credit_limit" in errors:
        errors["credit_limit"] = [
            _("信用额度不能为负数。") if message == _("不能为负数。") else message
            for message in errors["credit_limit"]
        ]
    return limit


def _require_manage(actor: User) -> None:
    if not actor.has_perm(MANAGE_PERM):
        raise Forbidden(_("您没有维护信用资料的权限。"))


def _apply_factors(*, actor: User, customer: Customer, clean: dict[str, Any], reason: str) -> bool:
    diff = model_diff(customer, clean)
    if not diff:
        return False
    for name in diff:
        setattr(customer, name, clean[name])
    customer.save(update_fields=[*diff, "updated_at"])
    CreditChange.objects.create(
        customer=customer,
        field="factors",
        old_value="",
        new_value=",".join(diff)[:64],
        reason=reason,
        figures={"changes": diff},
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        field="credit_factors",
        target=customer,
        changes=diff,
        note=reason,
    )
    return True


def _apply_limit(*, actor: User, customer: Customer, limit: Decimal | None, reason: str) -> bool:
    old_manual, old_limit = customer.credit_limit_manual, customer.credit_limit
    if limit is None:
        if not old_manual:
            return False
        customer.credit_limit_manual = False  # the evaluation that follows computes the limit
        new_value = _("按评分计算")
    else:
        if old_manual and old_limit == limit:
            return False
        customer.credit_limit_manual = True
        customer.credit_limit = limit
        new_value = _money(limit)
    customer.save(update_fields=["credit_limit_manual", "credit_limit", "updated_at"])
    CreditChange.objects.create(
        customer=customer,
        field="limit",
        old_value=_money(old_limit) + (" " + _("手工") if old_manual else ""),
        new_value=str(new_value)[:64],
        reason=reason,
        figures={"manual": limit is not None, "old_manual": old_manual},
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=customer,
        field="credit_limit",
        changes={
            "credit_limit": [_money(old_limit), _money(limit) if limit is not None else None],
            "credit_limit_manual": [old_manual, limit is not None],
        },
        note=reason,
    )
    return True


def _reevaluate(*, actor: User, customer: Customer, reason: str) -> Customer:
    credit_evaluate(customer_ids=[customer.pk], actor=actor, reason=reason)
    credit_exposure_refresh(customer_ids=[customer.pk], actor=actor)
    customer.refresh_from_db()
    return customer


@transaction.atomic
def credit_customer_update(
    *, actor: User, customer: Customer, data: dict[str, Any], reason: str = ""
) -> Customer:
    """Finance edits a customer's credit: factors and/or the manual limit (``credit_limit``:
    an amount sets it by hand, None returns to the computed limit). Every bad field is reported
    in one answer; then the customer is re-evaluated at once."""
    _require_manage(actor)
    reason = (reason or "").strip()[:300]
    factors = {name: value for name, value in data.items() if name in FACTOR_FIELDS}
    clean, errors = credit_clean_factors(factors)
    limit: Any = UNSET
    if "credit_limit" in data:
        limit = credit_clean_limit(data["credit_limit"], errors)
        if not reason and "credit_limit" not in errors:
            _error(errors, "reason", _("调整信用额度须填写原因。"))
    if errors:
        raise ApplicationError(_("提交的内容有误，请检查标出的字段。"), fields=errors)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    changed = _apply_factors(
        actor=actor, customer=customer, clean=clean, reason=reason or _("财务更新信用资料")
    )
    if limit is not UNSET:
        changed = (
            _apply_limit(actor=actor, customer=customer, limit=limit, reason=reason) or changed
        )
    if not changed:
        return customer
    return _reevaluate(actor=actor, customer=customer, reason=reason or _("信用资料变更后重新评估"))


def credit_update_factors(
    *, actor: User, customer: Customer, reason: str = "", **factors: Any
) -> Customer:
    """Finance enters registered capital, turnover, finance score, legal record, payment days,
    cooperation start (unknown = None); the customer is re-evaluated at once."""
    unknown = set(factors) - set(FACTOR_FIELDS)
    if unknown:
        raise TypeError(f"not a credit factor: {sorted(unknown)}")
    return credit_customer_update(actor=actor, customer=customer, data=factors, reason=reason)


def credit_set_limit(
    *, actor: User, customer: Customer, limit: Decimal | None, reason: str
) -> Customer:
    """A limit set by hand (kept by the evaluation); None returns to the computed limit."""
    return credit_customer_update(
        actor=actor, customer=customer, data={"credit_limit": limit}, reason=reason
    )


# --------------------------------------------------------------------------- policy update


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal_or_none(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def policy_validate(config: dict[str, Any]) -> dict[str, list[str]]:
    """Field errors (keys like ``grade_bounds.A``) for a merged config; empty when valid."""
    errors: dict[str, list[str]] = {}

    def points(path: str, value: Any, high: int) -> int | None:
        if not _is_int(value):
            _error(errors, path, _("必须是整数。"))
            return None
        if not 0 <= value <= high:
            _error(errors, path, _("应在 0 到 %(high)s 之间。") % {"high": high})
            return None
        return int(value)

    def section(name: str, keys: tuple[str, ...]) -> dict[str, Any]:
        value = config.get(name)
        if not isinstance(value, dict):
            _error(errors, name, _("必须是 JSON 对象。"))
            return {}
        return {key: value.get(key) for key in keys}

    factor_max = points("factor_max", config.get("factor_max"), 100)
    payment = section(
        "payment",
        ("max", "on_time", "late_30", "late_60", "worse", "window_days", "share_step_down"),
    )
    pay_max = points("payment.max", payment.get("max"), 100) if payment else None
    if factor_max is not None and pay_max is not None and pay_max + 4 * factor_max != 100:
        _error(errors, "factor_max", _("付款记录满分加四项各自满分须等于 100。"))
    if payment and pay_max is not None:
        bands = [
            points(f"payment.{k}", payment[k], pay_max)
            for k in ("on_time", "late_30", "late_60", "worse")
        ]
        if None not in bands and bands != sorted(bands, reverse=True):  # type: ignore[type-var]
            _error(errors, "payment", _("逾期越久得分应越低。"))
        window = payment.get("window_days")
        if not isinstance(window, int) or isinstance(window, bool) or not 30 <= window <= 3650:
            _error(errors, "payment.window_days", _("应在 30 到 3650 天之间。"))
        share = _decimal_or_none(payment.get("share_step_down"))
        if share is None or not 0 < share <= 1:
            _error(errors, "payment.share_step_down", _("应为大于 0、不超过 1 的小数。"))
    bounds = section("grade_bounds", ("A", "B", "C"))
    marks = (
        [points(f"grade_bounds.{g}", bounds.get(g), 100) for g in ("A", "B", "C")] if bounds else []
    )
    if marks and None not in marks and not marks[0] > marks[1] > marks[2]:  # type: ignore[operator]
        _error(errors, "grade_bounds", _("等级分数线须满足 A > B > C。"))
    high = factor_max if factor_max is not None else 100
    neutral = section("neutral", ("payment", "years", "volume", "finances", "legal"))
    for key, value in neutral.items():
        points(f"neutral.{key}", value, (pay_max or 100) if key == "payment" else high)
    legal = section("legal", ("clean", "minor", "lawsuit"))
    for key, value in legal.items():
        points(f"legal.{key}", value, high)
    for name in ("years_breaks", "volume_breaks"):
        breaks = config.get(name)
        if not isinstance(breaks, list) or not breaks:
            _error(errors, name, _("须为 [阈值, 分值] 的列表。"))
            continue
        previous: Decimal | None = None
        for index, item in enumerate(breaks):
            path = f"{name}.{index}"
            if not isinstance(item, list | tuple) or len(item) != 2:
                _error(errors, path, _("须为 [阈值, 分值]。"))
                continue
            threshold = _decimal_or_none(item[0])
            if threshold is None or threshold < 0:
                _error(errors, path, _("阈值须为非负数。"))
            elif previous is not None and threshold >= previous:
                _error(errors, path, _("阈值须从高到低排列。"))
            else:
                previous = threshold
            points(path, item[1], high)
    for name in ("limit_k", "limit_j"):
        factors = section(name, GRADES)
        for grade, value in factors.items():
            number = _decimal_or_none(value)
            if number is None or not 0 <= number <= 10:
                _error(errors, f"{name}.{grade}", _("应为 0 到 10 之间的系数。"))
    if config.get("lawsuit_caps_at") not in GRADES:
        _error(errors, "lawsuit_caps_at", _("取值不在允许范围内。"))
    return errors


def _number(value: Any) -> int | str:
    number = _decimal_or_none(value) or Decimal(0)
    return int(number) if number == number.to_integral_value() else str(number)


def _normalise(config: dict[str, Any]) -> dict[str, Any]:
    """Decimals stored as strings (JSON keeps them exact), whole years as ints."""
    for name in ("limit_k", "limit_j"):
        config[name] = {g: str(_decimal_or_none(v)) for g, v in config[name].items()}
    payment = dict(config["payment"])
    payment["share_step_down"] = str(_decimal_or_none(payment["share_step_down"]))
    config["payment"] = payment
    config["volume_breaks"] = [[str(_decimal_or_none(t)), p] for t, p in config["volume_breaks"]]
    config["years_breaks"] = [[_number(t), p] for t, p in config["years_breaks"]]
    return config


@transaction.atomic
def credit_policy_update(*, actor: User, config: dict[str, Any], reason: str = "") -> CreditPolicy:
    """Change the scorecard (sections given replace those keys; others stay). Every customer is
    re-evaluated after the commit, in the worker."""
    if not actor.has_perm(POLICY_PERM):
        raise Forbidden(_("您没有修改信用评分规则的权限。"))
    if not isinstance(config, dict):
        raise ApplicationError(
            _("提交的内容有误，请检查标出的字段。"), fields={"config": [_("必须是 JSON 对象。")]}
        )
    policy = CreditPolicy.objects.select_for_update().filter(pk=policy_get().pk).get()
    current = merge_policy(policy.config)
    errors: dict[str, list[str]] = {}
    merged = dict(current)
    for key, value in config.items():
        if key not in current:
            _error(errors, str(key)[:64], _("未知的参数。"))
        elif isinstance(current[key], dict):
            if not isinstance(value, dict):
                _error(errors, key, _("必须是 JSON 对象。"))
                continue
            extra = set(value) - set(current[key])
            for name in sorted(extra):
                _error(errors, f"{key}.{str(name)[:64]}", _("未知的参数。"))
            merged[key] = {**current[key], **value}
        else:
            merged[key] = value
    if not errors:
        errors = policy_validate(merged)
    if errors:
        raise ApplicationError(_("提交的内容有误，请检查标出的字段。"), fields=errors)
    merged = _normalise(merged)
    diff = {key: [current[key], merged[key]] for key in merged if merged[key] != current[key]}
    if not diff:
        return policy
    policy.config = merged
    policy.updated_by = actor
    policy.save(update_fields=["config", "updated_by", "updated_at"])
    note = (reason or "").strip()[:300] or _("修改信用评分规则")
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=policy,
        field="config",
        changes=diff,
        note=note,
    )

    def enqueue() -> None:
        from kefu.credit.tasks import credit_evaluate_task

        credit_evaluate_task(
            reason=_("信用评分规则变更：%(note)s") % {"note": note}, actor_id=actor.pk
        )

    transaction.on_commit(enqueue)
    return policy
