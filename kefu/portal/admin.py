"""The notices' log, read-only (a failed one shows its error): they change only through
kefu.portal.notices. Recipients are shown masked."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.portal.models import CustomerNotice


@admin.register(CustomerNotice)
class CustomerNoticeAdmin(admin.ModelAdmin[CustomerNotice]):
    list_display = (
        "ticket",
        "kind",
        "round",
        "channel",
        "masked_recipient",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "kind", "channel")
    exclude = ("recipient",)
    readonly_fields = [
        f.name for f in CustomerNotice._meta.fields if f.name not in ("recipient", "id")
    ]
    list_select_related = ("ticket",)

    @admin.display(description=_("接收人"))
    def masked_recipient(self, obj: CustomerNotice) -> str:
        return obj.recipient_masked

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
