from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kefu.credit.services import credit_evaluate


class Command(BaseCommand):
    help = (
        "Re-evaluate credit grades, scores, limits and exposure (also run nightly by the worker). "
        "Without --customer every customer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customer", type=int, action="append", dest="customer_ids")
        parser.add_argument("--reason", default="手工运行信用评估（evaluate_credit）")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = credit_evaluate(customer_ids=options["customer_ids"], reason=options["reason"])
        self.stdout.write(
            f"Evaluated {summary.customers} customers in {summary.seconds:.1f} s: "
            f"{summary.updated} updated, {summary.grade_changes} grade changes, "
            f"{summary.limit_changes} limit changes."
        )
