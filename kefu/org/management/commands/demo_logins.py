from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kefu.org.models import User
from kefu.org.roles import ROLE_BY_CODE
from kefu.org.seeds import DEMO_PASSWORD, DEMO_STAFF


class Command(BaseCommand):
    help = "Print the demo logins, one per role."

    def handle(self, *args: Any, **options: Any) -> None:
        existing = set(
            User.objects.filter(username__in=[row[0] for row in DEMO_STAFF]).values_list(
                "username", flat=True
            )
        )
        if not existing:
            self.stdout.write("No demo logins (run: kefu seed --size demo).")
            return
        self.stdout.write("")
        self.stdout.write(
            "Kefu is starting on http://127.0.0.1:8000/  — demo logins "
            f"(password for all: {DEMO_PASSWORD})"
        )
        for username, name, role, _dept, teams in DEMO_STAFF:
            if username in existing:
                where = " / ".join(teams) if teams else ""
                self.stdout.write(f"  {username:<11} {ROLE_BY_CODE[role].name:<6} {name}  {where}")
        self.stdout.write("")
