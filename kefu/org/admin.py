from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.db.models import Model
from django.forms import Form
from django.http import HttpRequest

from kefu.audit.models import AuditEvent
from kefu.audit.services import audit_record
from kefu.org.models import Department, Membership, Team, User


class AuditedAdmin(admin.ModelAdmin[Any]):
    """Changes made in 系统管理 are written to Kefu's audit log too, not only Django's admin log."""

    def save_model(self, request: HttpRequest, obj: Model, form: Form, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user if isinstance(request.user, User) else None,
                action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                target=obj,
                changes={"fields": list(getattr(form, "changed_data", []))},
                note="admin",
            )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        with transaction.atomic():
            audit_record(
                actor=request.user if isinstance(request.user, User) else None,
                action=AuditEvent.Action.DELETE,
                target=obj,
                note="admin",
            )
            super().delete_model(request, obj)


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin[User]):
    list_display = ("username", "display_name", "department", "is_active", "is_superuser")
    list_filter = ("department", "groups", "is_active")
    search_fields = ("username", "display_name", "employee_no")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Kefu", {"fields": ("display_name", "employee_no", "department")}),
    )
    inlines = (MembershipInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A system administrator manages staff and roles but cannot mint superusers or
        # hand out single permissions outside the role model.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions", "last_login", "date_joined"]
        return readonly


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("code", "name")


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "department")
    list_filter = ("department",)
