from __future__ import annotations

from django.contrib import admin

from kefu.org.admin import AuditedAdmin
from kefu.routing.models import AgentPresence, AgentSkill, PresenceLog, RoutingRule, Skill


@admin.register(Skill)
class SkillAdmin(AuditedAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(AgentSkill)
class AgentSkillAdmin(AuditedAdmin):
    list_display = ("user", "skill", "level")
    list_filter = ("skill", "level")
    autocomplete_fields = ("user",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedAdmin):
    """Edits here are checked like the page's (a team or a skill, known codes) by the model's
    constraints and choices; the rule cache reloads on save."""

    list_display = (
        "order",
        "name",
        "is_active",
        "ticket_type",
        "product",
        "region_prefix",
        "tier",
        "required_skill",
        "team",
        "strategy",
    )
    list_display_links = ("name",)
    list_filter = ("is_active", "strategy", "ticket_type", "tier", "team")
    exclude = ("updated_by",)


@admin.register(AgentPresence)
class AgentPresenceAdmin(admin.ModelAdmin[AgentPresence]):
    list_display = ("user", "status", "since", "note", "last_routed_at")
    list_filter = ("status",)
    readonly_fields = ("user", "status", "since", "note", "last_routed_at")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(PresenceLog)
class PresenceLogAdmin(admin.ModelAdmin[PresenceLog]):
    list_display = ("user", "status", "started_at", "ended_at")
    list_filter = ("status",)
    date_hierarchy = "started_at"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
