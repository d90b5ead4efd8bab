from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kefu.org.models import User
from kefu.org.roles import ROLE_BY_CODE, user_role_codes
from kefu.web.nav import items_for, nav_for, widgets_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    section = match.namespace if match else ""
    roles = [str(ROLE_BY_CODE[code].label) for code in user_role_codes(user)]
    return {
        "nav_items": items_for(user),
        "nav_entries": nav_for(user),
        "nav_section": section,
        "user_roles": roles,
        "topbar_widgets": widgets_for(user),
    }
