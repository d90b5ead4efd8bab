from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kefu.api.tokens import tokens_purge_expired


class Command(BaseCommand):
    help = "Delete API tokens that expired more than a day ago (also run daily by the worker)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Deleted {tokens_purge_expired()} expired API tokens.")
