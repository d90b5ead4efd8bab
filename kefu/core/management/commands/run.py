from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kefu.cli import run_server
from kefu.core.env import env_int


class Command(BaseCommand):
    help = "Serve Kefu with gunicorn and a Huey task worker (as in production)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument(
            "--threads",
            type=int,
            default=env_int("KEFU_WEB_THREADS", 1),
            help="threads per worker process (gunicorn's gthread worker when above 1; the "
            "default 1 is its sync worker, which measured faster here: bench/README.md)",
        )
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")

    def handle(self, *args: Any, **options: Any) -> None:
        code = run_server(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            threads=max(1, options["threads"]),
            with_worker=not options["no_worker"],
        )
        if code not in (0, -15):
            raise CommandError(f"server exited with {code}")
