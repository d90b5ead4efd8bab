"""The roles of a service department, as Django groups with permissions.

Roles are declared here once and synced into auth.Group after every migrate, so a fresh install
and an upgraded one agree. What a role may *see* (its data scope) follows from permissions too:

* ``customers.view_all_customers``        — every customer (manager, GM, finance, quality, admin)
* ``customers.view_department_customers`` — customers served by any team of the user's department
* otherwise                               — customers served by the user's own teams,
                                            or owned by them

An admin may add permissions to a group in the Django admin; sync only adds what is declared
here and removes nothing, so local grants survive upgrades.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    code: str
    name: str  # the auth.Group name (Chinese, as staff say it)
    label: Promise
    permissions: tuple[str, ...]


_CUSTOMER_WRITE = ("customers.view_customer", "customers.add_customer", "customers.change_customer")
# Reading orders, tier rules and credit goes with reading customers (scope follows the customer).
_ARCHIVE_READ = ("orders.view_order", "tiering.view_tierruleset", "credit.view_creditchange")
_ORDERS_IMPORT = ("orders.add_order", "orders.change_order", "orders.import_orders")
# The working calendar page (notices, company days) and the SLA data in 系统管理.
_SLA_ADMIN = (
    "sla.manage_calendar",
    *(
        f"sla.{action}_{model}"
        for model in (
            "calendarday",
            "holidaynotice",
            "businesshours",
            "slapolicy",
            "complaintdeadline",
        )
        for action in ("view", "add", "change", "delete")
    ),
)
# Phone: an agent sees their own calls and the callback tasks that are theirs or unassigned.
_CALLS = ("calls.view_call", "calls.view_callbacktask", "calls.change_callbacktask")
_CALLS_ALL = (*_CALLS, "calls.view_all_calls")

_ROUTING_READ = (
    "routing.view_routing_board",
    "routing.view_routingrule",
    "routing.view_skill",
    "routing.view_agentskill",
)
_ROUTING_MANAGE = tuple(
    f"routing.{action}_{model}"
    for model in ("skill", "agentskill", "routingrule")
    for action in ("add", "change", "delete")
)

# Tickets: the lifecycle's trigger roles (kefu.desk.workflow) are these permissions.
_TICKETS_WORK = ("desk.view_ticket", "desk.add_ticket", "desk.change_ticket", "desk.work_ticket")

# Analytics: the monthly service costs (cost per contact) and the monthly report.
_SERVICE_COSTS = tuple(
    f"analytics.{action}_servicecost" for action in ("view", "add", "change", "delete")
)
_REPORTS_MANAGE = (
    "reports.view_monthlyreport",
    "reports.generate_monthlyreport",
    "reports.view_reportsettings",
    "reports.change_reportsettings",
)

ROLES: tuple[Role, ...] = (
    Role(
        "agent",
        "客服专员",
        _("客服专员"),
        (*_CUSTOMER_WRITE, *_ARCHIVE_READ, *_CALLS, *_TICKETS_WORK, "routing.set_own_presence"),
    ),
    Role(
        "supervisor",
        "客服主管",
        _("客服主管"),
        (
            *_CUSTOMER_WRITE,
            *_ARCHIVE_READ,
            *_CALLS_ALL,
            *_TICKETS_WORK,
            "desk.supervise_ticket",
            "customers.view_department_customers",
            "customers.reveal_contact",
            "customers.export_customers",
            "customers.merge_customers",
            "routing.set_own_presence",
            *_ROUTING_READ,
            "analytics.view_kpis",
            "reports.view_monthlyreport",
        ),
    ),
    Role(
        "manager",
        "客服经理",
        _("客服经理"),
        (
            *_CUSTOMER_WRITE,
            *_ARCHIVE_READ,
            *_ORDERS_IMPORT,
            *_CALLS_ALL,
            *_TICKETS_WORK,
            "desk.supervise_ticket",
            "desk.manage_ticket",
            "desk.manage_webhooks",
            "mail.view_mail_log",
            "customers.view_all_customers",
            "customers.reveal_contact",
            "customers.export_customers",
            "customers.delete_customer",
            "customers.import_customers",
            "customers.merge_customers",
            "customers.erase_personal_data",
            "customers.manage_credit",
            "tiering.add_tierruleset",
            "tiering.change_tierruleset",
            "tiering.recompute_tiers",
            "credit.change_creditpolicy",
            "audit.view_auditevent",
            *_SLA_ADMIN,
            "routing.set_own_presence",
            "routing.view_all_agents",
            *_ROUTING_READ,
            *_ROUTING_MANAGE,
            "analytics.view_kpis",
            *_SERVICE_COSTS,
            *_REPORTS_MANAGE,
        ),
    ),
    Role(
        "gm",
        "总经理",
        _("总经理"),
        (
            "customers.view_customer",
            "customers.view_all_customers",
            "customers.reveal_contact",
            *_ARCHIVE_READ,
            "routing.view_routing_board",
            "routing.view_all_agents",
            "desk.view_ticket",
            "desk.change_ticket",
            "desk.gm_ticket",
            "analytics.view_kpis",
            "reports.view_monthlyreport",
        ),
    ),
    Role(
        "engineer",
        "维修工程师",
        _("维修工程师"),
        ("customers.view_customer", "desk.view_ticket"),
    ),
    Role(
        "sales",
        "销售",
        _("销售"),
        (
            *_CUSTOMER_WRITE,
            *_ARCHIVE_READ,
            "desk.view_ticket",
            "desk.add_ticket",
            "reports.view_monthlyreport",  # the report's action lists are for sales
        ),
    ),
    Role(
        "finance",
        "财务",
        _("财务"),
        (
            "customers.view_customer",
            "customers.view_all_customers",
            "customers.manage_credit",
            "credit.change_creditpolicy",
            *_ARCHIVE_READ,
            "desk.view_ticket",
            "desk.change_ticket",
            "desk.finance_ticket",
            *_SERVICE_COSTS,
            "reports.view_monthlyreport",
        ),
    ),
    Role(
        "quality",
        "品质",
        _("品质"),
        (
            "customers.view_customer",
            "customers.view_all_customers",
            *_ARCHIVE_READ,
            "desk.view_ticket",
            "desk.change_ticket",
            "desk.quality_ticket",
        ),
    ),
    Role(
        "admin",
        "系统管理员",
        _("系统管理员"),
        (
            *_CUSTOMER_WRITE,
            *_ORDERS_IMPORT,
            "orders.view_order",
            "customers.view_all_customers",
            "customers.import_customers",
            "org.view_user",
            "org.add_user",
            "org.change_user",
            "org.view_team",
            "org.add_team",
            "org.change_team",
            "org.view_department",
            "org.add_department",
            "org.change_department",
            *_SLA_ADMIN,
            "calls.view_agentline",
            "calls.add_agentline",
            "calls.change_agentline",
            "calls.delete_agentline",
            "desk.manage_webhooks",
            "mail.view_mail_log",
        ),
    ),
    Role("auditor", "审计员", _("审计员"), ("audit.view_auditevent",)),
)

ROLE_BY_CODE = {role.code: role for role in ROLES}


def sync_roles() -> None:
    """Give every role group the permissions declared above (those that exist so far)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role.name)
        match = Q(pk__in=[])
        for dotted in role.permissions:
            app_label, codename = dotted.split(".", 1)
            match |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*Permission.objects.filter(match))


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    # post_migrate fires once per app that has models, in INSTALLED_APPS order, each time after
    # that app's permissions are created: the last firing sees every permission, so sync then,
    # once. (Syncing on every firing cost 23 runs of ~30 queries after every migrate and every
    # test database flush.)
    from django.apps import apps

    using = kwargs.get("using", "default")
    if using != "default":
        return
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender is not with_models[-1]:
        return
    sync_roles()


def user_role_codes(user: Any) -> list[str]:
    names = {group.name for group in user.groups.all()}
    return [role.code for role in ROLES if role.name in names]
