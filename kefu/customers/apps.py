from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kefu.customers"
    label = "customers"
    verbose_name = _("客户档案")

    def ready(self) -> None:
        import kefu.customers.search_signals  # noqa: F401 (connects the search index receivers)
        from kefu.customers.timeline import register

        register()  # the archive's own timeline events (created, merged, contact changes)
