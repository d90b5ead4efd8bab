from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _bump_on_new_user(sender: Any, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    """A new user (its id may be one a deleted user had), or a change of department (the data
    scope follows it); a login's last_login save changes neither."""
    if created or update_fields is None or "department" in update_fields:
        from kefu.org.backends import bump_permissions_version

        bump_permissions_version()


class OrgConfig(AppConfig):
    name = "kefu.org"
    label = "org"
    verbose_name = _("组织与人员")

    def ready(self) -> None:
        from kefu.org.roles import sync_roles_after_migrate

        # After every migrate the role groups carry exactly the permissions roles.py declares.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="kefu.org.sync_roles")
        self._invalidate_cached_permissions_on_role_changes()

    @staticmethod
    def _invalidate_cached_permissions_on_role_changes() -> None:
        """kefu.org.backends caches each user's permissions; any change to who holds which
        permission, and any new or deleted user or group (ids may be reused), bumps the
        cache's version."""
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from kefu.org.backends import bump_permissions_version
        from kefu.org.models import Department, Membership, Team, User

        for through in (
            User.groups.through,
            User.user_permissions.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(
                bump_permissions_version, sender=through, dispatch_uid=f"perms-{through.__name__}"
            )
        for model in (User, Group, Permission):
            post_delete.connect(
                bump_permissions_version, sender=model, dispatch_uid=f"perms-del-{model.__name__}"
            )
        post_save.connect(_bump_on_new_user, sender=User, dispatch_uid="perms-new-user")
        # Group names are cached too (kefu.org.access.group_names): a rename bumps.
        post_save.connect(bump_permissions_version, sender=Group, dispatch_uid="perms-save-Group")
        # The data scope (kefu.org.access.user_scope) is cached under the same version.
        for scoped in (Membership, Team, Department):
            for signal in (post_save, post_delete):
                signal.connect(
                    bump_permissions_version,
                    sender=scoped,
                    dispatch_uid=f"scope-{signal is post_save}-{scoped.__name__}",
                )
