from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TieringConfig(AppConfig):
    name = "kefu.tiering"
    verbose_name = _("客户分层")
