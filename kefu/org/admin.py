from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from kefu.org.models import Department, Membership, Team, User


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ("username", "display_name", "department", "is_active", "is_superuser")
    list_filter = ("department", "groups", "is_active")
    search_fields = ("username", "display_name", "employee_no")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Kefu", {"fields": ("display_name", "employee_no", "department")}),
    )
    inlines = (MembershipInline,)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ("code", "name")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("name", "department")
    list_filter = ("department",)
