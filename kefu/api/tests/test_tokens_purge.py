from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from kefu.api.models import ApiToken
from kefu.api.tasks import tokens_purge_expired_task
from kefu.api.tokens import token_issue, token_user
from kefu.org.models import User


def test_purge_deletes_only_tokens_expired_over_a_day_ago(agent: User) -> None:
    # given a live token, one expired an hour ago and one expired three days ago
    live = token_issue(user=agent)
    recent = token_issue(user=agent)
    old = token_issue(user=agent)
    tokens = list(ApiToken.objects.order_by("id"))
    ApiToken.objects.filter(pk=tokens[1].pk).update(expires_at=timezone.now() - timedelta(hours=1))
    ApiToken.objects.filter(pk=tokens[2].pk).update(expires_at=timezone.now() - timedelta(days=3))
    # when the nightly job runs (Huey is in immediate mode in tests)
    tokens_purge_expired_task()
    # then only the long-expired token is gone, and expired tokens never authenticate
    assert ApiToken.objects.count() == 2
    assert token_user(live) == agent
    assert token_user(recent) is None
    assert token_user(old) is None


def test_purge_command_is_idempotent(agent: User, capsys: object) -> None:
    token_issue(user=agent)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(days=2))
    call_command("purge_expired_tokens")
    call_command("purge_expired_tokens")
    assert ApiToken.objects.count() == 0
