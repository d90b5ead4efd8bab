from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "kefu.org"
    label = "org"
    verbose_name = _("组织与人员")

    def ready(self) -> None:
        from kefu.org.roles import sync_roles_after_migrate

        # After every migrate the role groups carry exactly the permissions roles.py declares.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="kefu.org.sync_roles")
