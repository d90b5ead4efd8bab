from __future__ import annotations

from django.contrib import admin

from kefu.analytics.models import ServiceCost


@admin.register(ServiceCost)
class ServiceCostAdmin(admin.ModelAdmin[ServiceCost]):
    list_display = ["month", "category", "amount", "note", "updated_by", "updated_at"]
    list_filter = ["category"]
    date_hierarchy = "month"
    raw_id_fields = ["updated_by"]
    readonly_fields = ["updated_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
