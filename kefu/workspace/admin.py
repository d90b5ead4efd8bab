from __future__ import annotations

from django.contrib import admin

from kefu.workspace.models import CannedReply, Macro


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin[CannedReply]):
    list_display = ("title", "scope", "team", "owner", "active")
    list_filter = ("scope", "active")
    search_fields = ("title",)


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin[Macro]):
    list_display = ("title", "scope", "team", "owner", "active", "transition_to")
    list_filter = ("scope", "active")
    search_fields = ("title",)
