"""Calls on the customer archive's timeline (registered in CallsConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.calls.models import Call
from kefu.customers.archive import TimelineEvent
from kefu.customers.models import Customer
from kefu.org.models import User


def call_timeline(customer: Customer, user: User, limit: int) -> list[TimelineEvent]:
    if not user.has_perm("calls.view_call"):
        return []
    events = []
    for call in Call.objects.filter(customer=customer).select_related("agent")[:limit]:
        if call.outcome == Call.Outcome.ABANDONED:
            title = _("未接来电")
        elif call.direction == Call.Direction.OUTBOUND:
            title = _("呼出电话")
        else:
            title = _("来电")
        detail = _("号码 %(number)s") % {"number": call.customer_number_masked}
        if call.agent:
            detail += _("，坐席 %(agent)s") % {"agent": call.agent}
        if call.talk_seconds is not None:
            detail += _("，通话 %(s)s 秒") % {"s": int(call.talk_seconds)}
        events.append(
            TimelineEvent(
                at=call.offered_at,
                kind="call",
                title=title,
                detail=detail,
                icon=_("话"),
                extra={"call_id": call.pk, "outcome": call.outcome},
            )
        )
    return events
