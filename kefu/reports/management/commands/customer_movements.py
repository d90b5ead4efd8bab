from __future__ import annotations

import re
from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kefu.reports.movements import STATUSES, classify_customers


class Command(BaseCommand):
    help = (
        "Classify every customer's movement at the end of a month (churned, at risk, anomalous, "
        "rising, falling, new, won back) and print the counts and the time taken."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: last month)")
        parser.add_argument(
            "--list", type=int, default=0, help="also print up to N customers of each status"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = options["month"]
        if text:
            match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
            if not match or not 1 <= int(match.group(2)) <= 12:
                raise CommandError(f"--month must be YYYY-MM, not {text!r}")
            month = date(int(match.group(1)), int(match.group(2)), 1)
        else:
            today = timezone.localdate()
            month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
        result = classify_customers(month)
        counts = result.counts()
        self.stdout.write(f"Customer movements {month:%Y-%m}:")
        for status in STATUSES:
            self.stdout.write(f"  {status}: {counts[status]}")
        self.stdout.write(f"  stable: {result.stable}")
        self.stdout.write(f"  small: {result.small}")
        for status in STATUSES:
            for movement in result.by_status[status][: options["list"]]:
                self.stdout.write(
                    f"  [{status}] {movement.customer_id} {movement.name}: {movement.reason}"
                )
        self.stdout.write(f"Classified in {result.duration:.2f} s.")
