from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "kefu.mail"
    label = "mail"
    verbose_name = _("邮件")

    def ready(self) -> None:
        from kefu.core.sweeps import register_sweeper
        from kefu.desk.panels import DetailPanel, register_detail_panel
        from kefu.desk.signals import comment_added
        from kefu.mail.selectors import ticket_mail_panel
        from kefu.mail.services import on_comment_added, outbound_sweep
        from kefu.web.nav import NavItem, register

        # An agent's public reply goes to the customer by email (after commit).
        comment_added.connect(on_comment_added, dispatch_uid="mail-outbound")
        # Replies a dead worker left "sending", or whose task was lost: kefu sweep_notices.
        register_sweeper("mail.outbound", outbound_sweep)
        register_detail_panel(
            DetailPanel("mail", "mail/partials/_ticket_mail.html", ticket_mail_panel, order=50)
        )
        register(
            NavItem(
                "mail",
                _("邮件收发"),
                "mail:log",
                lambda user: user.has_perm("mail.view_mail_log"),
                order=85,
            )
        )
