from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kefu.core.exceptions import ApplicationError
from kefu.tiering.services import tiers_recompute


class Command(BaseCommand):
    help = (
        "Recompute every customer's tier under the active rule set (also run nightly by the "
        "worker, 02:30). --now applies the rules at once, without the two-quarter downgrade delay."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--now",
            action="store_true",
            help="no hysteresis: downgrades apply at once (a manager's explicit recompute)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = tiers_recompute(hysteresis=not options["now"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Evaluated {result.evaluated} customers: {result.upgraded} upgraded, "
            f"{result.downgraded} downgraded, {result.unchanged} unchanged, "
            f"{result.pending_downgrades} downgrades pending; {result.duration:.2f} s."
        )
