from __future__ import annotations

from django.contrib import admin

from kefu.calls.models import AgentLine


@admin.register(AgentLine)
class AgentLineAdmin(admin.ModelAdmin[AgentLine]):
    list_display = ["extension", "user", "updated_at"]
    search_fields = ["extension", "user__username", "user__display_name"]
    raw_id_fields = ["user"]
