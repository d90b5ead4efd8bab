"""System administration of the desk: webhook subscriptions (with their delivery log) are set
up here; tickets are read-only here (they change only through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kefu.desk.models import Ticket, WebhookDelivery, WebhookSubscription
from kefu.org.admin import AuditedAdmin


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(AuditedAdmin):
    list_display = ("url", "events", "active", "updated_at")
    list_filter = ("active",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("desk.manage_webhooks")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("desk.manage_webhooks")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("desk.manage_webhooks")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("desk.manage_webhooks")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("desk.manage_webhooks")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = ("event", "subscription", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("desk.manage_webhooks")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("desk.manage_webhooks")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    list_display = ("number", "type", "status", "priority", "customer", "assignee", "created_at")
    list_filter = ("type", "status", "priority")
    search_fields = ("number",)
    readonly_fields = [f.name for f in Ticket._meta.fields]
    show_full_result_count = False  # a million tickets: no COUNT(*) per page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
