from __future__ import annotations

from django.contrib import admin

from kefu.mail.models import MailboxState


@admin.register(MailboxState)
class MailboxStateAdmin(admin.ModelAdmin[MailboxState]):
    """An operator may set last_uid back to fetch a range again (the keys prevent doubles)."""

    list_display = ["account", "uid_validity", "last_uid", "last_run_at", "last_error"]
    readonly_fields = ["last_run_at", "last_error"]
