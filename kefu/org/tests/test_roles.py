"""Role groups get their permissions after every migrate (and every test database flush),
synced once per migrate rather than once per app."""

from __future__ import annotations

from unittest import mock

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management.sql import emit_post_migrate_signal

from kefu.org import roles


@pytest.mark.django_db
def test_post_migrate_syncs_the_roles_once_with_every_permission() -> None:
    # given role groups that have lost their permissions
    for group in Group.objects.all():
        group.permissions.clear()
    # when migrate's post_migrate signal fires (once for each of the ~23 apps with models)
    with mock.patch.object(roles, "sync_roles", wraps=roles.sync_roles) as sync:
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    # then the roles were synced once, after the last app's permissions existed
    assert sync.call_count == 1
    agent = Group.objects.get(name=roles.ROLE_BY_CODE["agent"].name)
    granted = {
        f"{app}.{code}"
        for app, code in agent.permissions.values_list("content_type__app_label", "codename")
    }
    assert granted == set(roles.ROLE_BY_CODE["agent"].permissions)
    auditor = Group.objects.get(name=roles.ROLE_BY_CODE["auditor"].name)
    assert list(auditor.permissions.values_list("codename", flat=True)) == ["view_auditevent"]


def test_only_the_last_firing_on_the_default_database_syncs() -> None:
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    with mock.patch.object(roles, "sync_roles") as sync:
        roles.sync_roles_after_migrate(with_models[0], using="default")
        roles.sync_roles_after_migrate(with_models[-1], using="other")
        assert sync.call_count == 0
        roles.sync_roles_after_migrate(with_models[-1], using="default")
        assert sync.call_count == 1
