from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from kefu.core.seeding import make_context, seed_providers


class Command(BaseCommand):
    help = "Load the demo company (--size demo) or benchmark volumes (--size large)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--size", choices=["demo", "large"], default="demo")
        parser.add_argument("--seed", type=int, default=2026, help="same seed, same data")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the demo company exists"
        )
        parser.add_argument(
            "--skip",
            default="",
            help="comma-separated seeders to leave out (e.g. desk,calls): their app's data only",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from kefu.org.models import User

        if options["if_empty"] and User.objects.filter(username="manager").exists():
            self.stdout.write("Demo data already loaded; skipping (kefu seed --if-empty).")
            return
        started = time.monotonic()
        ctx = make_context(size=options["size"], seed=options["seed"], out=self.stdout.write)
        providers = seed_providers()
        skip = {label.strip() for label in options["skip"].split(",") if label.strip()}
        unknown = skip - {label for label, _seed in providers}
        if unknown:
            raise CommandError(f"unknown seeders: {', '.join(sorted(unknown))}")
        for label, seed in providers:
            if label in skip:
                continue
            step = time.monotonic()
            try:
                seed(ctx)
            except Exception as exc:
                raise CommandError(f"seeding {label} failed: {exc}") from exc
            self.stdout.write(f"  {label}: {time.monotonic() - step:.1f} s")
        if options["size"] == "large" and connection.vendor == "postgresql":
            # What autovacuum would do to a million new rows, only later: statistics for the
            # planner (until then it guesses, e.g. a full scan for a ticket queue's first page)
            # and the visibility map (until then a count by index still reads every row). As
            # pg_restore advises after any bulk load. VACUUM cannot run inside a transaction
            # (a test's), ANALYZE can.
            step = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
            self.stdout.write(f"  analyze: {time.monotonic() - step:.1f} s")
        elif options["size"] == "large":
            # SQLite keeps no statistics unless asked (kefu.core.statistics); the nightly job
            # would make them, this makes them now
            from kefu.core.statistics import planner_statistics_refresh

            step = time.monotonic()
            planner_statistics_refresh()
            self.stdout.write(f"  analyze: {time.monotonic() - step:.1f} s")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded ({options['size']}, seed {options['seed']}) "
                f"in {time.monotonic() - started:.1f} s"
            )
        )
