from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.core.schedules import CREDIT_EVALUATE


@db_periodic_task(CREDIT_EVALUATE)  # type: ignore[untyped-decorator]
def credit_evaluate_nightly_task() -> int:
    from django.utils.translation import gettext as _

    from kefu.credit.services import credit_evaluate

    return credit_evaluate(reason=_("每日例行信用评估")).updated


@db_task()  # type: ignore[untyped-decorator]
def credit_evaluate_task(*, reason: str, actor_id: int | None = None) -> int:
    from kefu.credit.services import credit_evaluate
    from kefu.org.models import User

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    return credit_evaluate(actor=actor, reason=reason).updated
