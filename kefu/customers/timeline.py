"""The archive's own timeline events (客户档案事件), read from the audit log: the customer was
created, merged with another, or its contacts, addresses or assets changed.

One indexed query (audit events of this customer, newest first); the audit log already holds
only masked numbers, so nothing here needs the reveal permission.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.customers.archive import TimelineEvent, register_timeline_provider
from kefu.customers.models import Customer
from kefu.org.models import User

_PART_NAMES = {"contact": "联系人", "address": "地址", "asset": "设备"}
_ACTION_VERBS = {
    AuditEvent.Action.CREATE: "新增",
    AuditEvent.Action.UPDATE: "修改",
    AuditEvent.Action.DELETE: "删除",
}


def archive_events(customer: Customer, user: User, limit: int) -> list[TimelineEvent]:
    events = list(
        AuditEvent.objects.filter(
            object_type=Customer._meta.label_lower,
            object_id=str(customer.pk),
            action__in=list(_ACTION_VERBS),
        ).order_by("-created_at", "-id")[:limit]
    )
    answer: list[TimelineEvent] = []
    for event in events:
        title = _title(event)
        if title:
            answer.append(
                TimelineEvent(
                    at=event.created_at,
                    kind="archive",
                    title=title,
                    detail=_("操作人：%(who)s") % {"who": event.actor_name or _("系统")},
                    icon=_("档"),
                )
            )
    if not any(event.action == AuditEvent.Action.CREATE and not event.field for event in events):
        # customers made by seeders and imports have no create event: their creation still shows
        # (and when it is older than the newest ``limit`` events, timeline_for drops it)
        answer.append(
            TimelineEvent(at=customer.created_at, kind="archive", title=_("建档"), icon=_("档"))
        )
    return answer


def _title(event: AuditEvent) -> str:
    changes = event.changes if isinstance(event.changes, dict) else {}
    if event.field == "merge":
        return _("合并了重复客户“%(name)s”（编号 %(id)s）") % {
            "name": changes.get("merged_name", ""),
            "id": changes.get("merged", ""),
        }
    if event.field == "merged_into":
        return _("已合并到客户编号 %(id)s") % {"id": changes.get("merged_into", "")}
    if event.field in _PART_NAMES:
        return _("%(verb)s%(part)s") % {
            "verb": _(_ACTION_VERBS[AuditEvent.Action(event.action)]),
            "part": _(_PART_NAMES[event.field]),
        }
    if event.action == AuditEvent.Action.CREATE and not event.field:
        return _("建档")
    if event.action == AuditEvent.Action.UPDATE and not event.field:
        fields = [str(name) for name in changes][:5]
        labels = []
        for name in fields:
            try:
                labels.append(str(getattr(Customer._meta.get_field(name), "verbose_name", name)))
            except FieldDoesNotExist:  # a key that is no model field, such as "tags"
                labels.append(_("标签") if name == "tags" else name)
        return _("修改档案：%(fields)s") % {"fields": "、".join(labels)}
    return ""


def register() -> None:
    register_timeline_provider("archive", archive_events)
