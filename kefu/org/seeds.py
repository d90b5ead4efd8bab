"""The demo company's organisation: departments, teams and one login per role."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from kefu.core.seeding import SeedContext
from kefu.org.models import Department, Membership, Team, User
from kefu.org.roles import ROLE_BY_CODE, sync_roles

DEMO_PASSWORD = "kefu2026"  # noqa: S105 (printed at start-up; demo only)

DEPARTMENTS = [
    ("service", "客服部"),
    ("repair", "维修部"),
    ("sales", "销售部"),
    ("marketing", "市场部"),
    ("finance", "财务部"),
    ("quality", "品质部"),
    ("office", "总经办"),
    ("it", "信息部"),
]

TEAMS = [
    ("客服一组", "service"),
    ("客服二组", "service"),
    ("大客户服务组", "service"),
    ("维修一组", "repair"),
    ("华东销售组", "sales"),
    ("华南销售组", "sales"),
]

# username, name, role, department, teams (first is lead-free membership), is_staff
DEMO_STAFF = [
    ("agent", "王晓燕", "agent", "service", ["客服一组"]),
    ("agent2", "李娜", "agent", "service", ["客服二组"]),
    ("supervisor", "陈建国", "supervisor", "service", ["客服一组"]),
    ("manager", "刘芳", "manager", "service", []),
    ("gm", "赵志强", "gm", "office", []),
    ("engineer", "孙伟", "engineer", "repair", ["维修一组"]),
    ("sales", "周杰", "sales", "sales", ["华东销售组"]),
    ("finance", "吴静", "finance", "finance", []),
    ("quality", "郑海涛", "quality", "quality", []),
    ("admin", "钱磊", "admin", "it", []),
    ("auditor", "冯丽", "auditor", "office", []),
]


@transaction.atomic
def seed(ctx: SeedContext) -> None:
    sync_roles()
    departments = {}
    for code, name in DEPARTMENTS:
        departments[code], _ = Department.objects.get_or_create(code=code, defaults={"name": name})
    teams = {}
    for name, dept in TEAMS:
        teams[name], _ = Team.objects.get_or_create(
            name=name, defaults={"department": departments[dept]}
        )
    groups = {group.name: group for group in Group.objects.all()}
    staff = {}
    for username, display, role, dept, team_names in DEMO_STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, display_name=display, department=departments[dept])
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role == "admin"
            user.save()
            user.groups.add(groups[ROLE_BY_CODE[role].name])
            for index, team_name in enumerate(team_names):
                Membership.objects.create(
                    user=user, team=teams[team_name], is_lead=role == "supervisor" and index == 0
                )
        staff[username] = user
    ctx.shared["teams"] = teams
    ctx.shared["staff"] = staff
    ctx.out(f"  {len(staff)} staff, {len(teams)} teams, {len(departments)} departments")
