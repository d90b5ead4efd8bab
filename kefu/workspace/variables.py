"""Variables of canned replies and macros: ``{客户名称}`` or its English alias
``{customer_name}``, from an explicit whitelist. The syntax is deliberately small: a name in
single braces, nothing else (no expressions, no attribute access), so a reply cannot reach
anything but these values. ``{{`` and ``}}`` write a literal brace.

An unknown name is refused when the text is saved (``template_check``), never silently left
in a reply to a customer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from kefu.desk.models import Ticket
    from kefu.org.models import User

# {name} where name has no braces or spaces; {{ and }} are escapes (matched first).
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\s]{1,30})\}")


def _customer_name(ticket: Ticket, user: User) -> str:
    return ticket.customer.name if ticket.customer_id and ticket.customer else ""


def _contact_name(ticket: Ticket, user: User) -> str:
    if ticket.contact_id and ticket.contact is not None and ticket.contact.name:
        return ticket.contact.name
    if ticket.customer_id and ticket.customer is not None:
        contact = (
            ticket.customer.contacts.exclude(name="")
            .order_by("-is_primary", "id")
            .values_list("name", flat=True)
            .first()
        )
        if contact:
            return contact
        return ticket.customer.name
    return ""


def _agent_name(ticket: Ticket, user: User) -> str:
    return user.display_name or user.get_username()


def _resolution_due(ticket: Ticket, user: User) -> str:
    if ticket.resolution_due is None:
        return ""
    return timezone.localtime(ticket.resolution_due).strftime("%Y-%m-%d %H:%M")


def _today(ticket: Ticket, user: User) -> str:
    return timezone.localdate().strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Variable:
    name: str  # the Chinese name staff type
    alias: str  # the English alias
    label: Promise
    value: Callable[[Ticket, User], str]


VARIABLES: tuple[Variable, ...] = (
    Variable("客户名称", "customer_name", gettext_lazy("客户名称"), _customer_name),
    Variable("联系人", "contact_name", gettext_lazy("联系人姓名"), _contact_name),
    Variable("工单号", "ticket_number", gettext_lazy("工单号"), lambda t, u: t.number),
    Variable("主题", "subject", gettext_lazy("工单主题"), lambda t, u: t.subject),
    Variable("坐席", "agent_name", gettext_lazy("当前坐席姓名"), _agent_name),
    Variable("解决时限", "resolution_due", gettext_lazy("解决时限"), _resolution_due),
    Variable("今天", "today", gettext_lazy("今天的日期"), _today),
)
_BY_NAME: dict[str, Variable] = {
    key: variable for variable in VARIABLES for key in (variable.name, variable.alias)
}


def template_check(text: str) -> list[str]:
    """The error messages for ``text`` (empty when it is fine): each unknown variable once,
    and an unmatched brace."""
    errors: list[str] = []
    unknown: list[str] = []
    for match in _TOKEN.finditer(text):
        name = match.group(1)
        if name is not None and name not in _BY_NAME and name not in unknown:
            unknown.append(name)
    if unknown:
        allowed = "、".join(f"{{{v.name}}}" for v in VARIABLES)
        errors.append(
            _("不认识的变量：%(names)s。可用的变量：%(allowed)s（也可用英文名）。")
            % {"names": "、".join(f"{{{name}}}" for name in unknown), "allowed": allowed}
        )
    rest = _TOKEN.sub("", text)
    if "{" in rest or "}" in rest:
        errors.append(_("花括号不成对：变量写作 {客户名称}；要写花括号本身，请写 {{ 或 }}。"))
    return errors


def template_render(text: str, *, ticket: Ticket, user: User) -> str:
    """The text with each variable's value for this ticket and user (a missing value is
    empty). Values are computed once each, and only those the text uses."""
    cache: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        written = match.group(0)
        if written in ("{{", "}}"):
            return written[0]
        variable = _BY_NAME.get(match.group(1))
        if variable is None:
            return written  # not saved through template_check; shown as written
        if variable.name not in cache:
            cache[variable.name] = variable.value(ticket, user)
        return cache[variable.name]

    return _TOKEN.sub(replace, text)
