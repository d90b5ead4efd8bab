from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "kefu.api"
    label = "api"
    verbose_name = _("接口")

    def ready(self) -> None:
        """A token held by a process (kefu.api.tokens) is read afresh after any change to a
        user (deactivated, renamed, deleted) or to a token (deleted, its expiry edited)."""
        from django.db.models.signals import post_delete, post_save

        from kefu.api.models import ApiToken
        from kefu.api.tokens import bump_users_version
        from kefu.org.models import User

        for model in (User, ApiToken):
            post_save.connect(
                bump_users_version, sender=model, dispatch_uid=f"users-{model.__name__}"
            )
            post_delete.connect(
                bump_users_version, sender=model, dispatch_uid=f"users-del-{model.__name__}"
            )
