from __future__ import annotations

from django.db.models import Q, QuerySet

from kefu.audit.models import AuditEvent


def audit_event_list(
    *, action: str = "", object_type: str = "", actor: str = "", q: str = ""
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if action:
        events = events.filter(action=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if actor:
        events = events.filter(actor_name=actor)
    if q:
        events = events.filter(Q(object_repr__icontains=q) | Q(object_id=q) | Q(note__icontains=q))
    return events
