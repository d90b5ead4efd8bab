"""Credit for the demo company: finance has entered the scorecard factors of most companies
(deterministically, from ctx.rng), one or two have a lawsuit, a few are cash only; then every
customer is evaluated from its orders. The large size only evaluates (fast, bulk)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from kefu.core.seeding import SeedContext
from kefu.credit.services import credit_evaluate, credit_exposure_refresh
from kefu.customers.models import Customer

CAPITALS = (500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000, 50_000_000)


def seed(ctx: SeedContext) -> None:
    if ctx.size != "large":
        _demo_factors(ctx)
    summary = credit_evaluate(reason="演示数据初始信用评估")
    ctx.out(
        f"credit: {summary.customers} customers evaluated in {summary.seconds:.1f} s "
        f"({summary.grade_changes} grades, {summary.limit_changes} limits)"
    )
    if ctx.size != "large":
        ids = list(Customer.objects.filter(credit_limit__gt=0).values_list("id", flat=True))
        held = credit_exposure_refresh(customer_ids=ids)
        ctx.out(f"credit: {len(held)} orders held over the limit")


@transaction.atomic
def _demo_factors(ctx: SeedContext) -> None:
    rng = ctx.rng
    companies = list(Customer.objects.filter(kind=Customer.Kind.COMPANY).order_by("id"))
    changed: list[Customer] = []
    lawsuits = 0
    for index, customer in enumerate(companies):
        if rng.random() < 0.25:
            continue  # finance knows nothing yet: neutral scores
        # The customer seeder may have entered some factors already (and sets payment days
        # and cooperation dates to fit the orders): fill only what is still unknown.
        capital = customer.registered_capital or Decimal(rng.choice(CAPITALS))
        customer.registered_capital = capital
        if customer.annual_turnover is None:
            customer.annual_turnover = (capital * Decimal(rng.choice((2, 3, 5, 8)))).quantize(
                Decimal("1")
            )
        if customer.finance_score is None:
            customer.finance_score = rng.randint(5, 15)
        if customer.legal_record == Customer.LegalRecord.UNKNOWN:
            customer.legal_record = rng.choice(
                (Customer.LegalRecord.CLEAN,) * 6 + (Customer.LegalRecord.MINOR,)
            )
        if lawsuits < 2 and index % 97 == 13:
            customer.legal_record = Customer.LegalRecord.LAWSUIT
            lawsuits += 1
        if index % 61 == 7:  # cash only: finance set the limit to 0 by hand
            customer.credit_limit_manual = True
            customer.credit_limit = Decimal("0.00")
        changed.append(customer)
    Customer.objects.bulk_update(
        changed,
        [
            "registered_capital",
            "annual_turnover",
            "finance_score",
            "legal_record",
            "credit_limit_manual",
            "credit_limit",
        ],
        batch_size=500,
    )
    ctx.out(f"credit: factors entered for {len(changed)} companies ({lawsuits} with a lawsuit)")
