"""Mail in and out of the desk: one row per message fetched by IMAP (InboundMail) and one per
public reply sent by SMTP (OutboundMail), so that a message fetched twice is processed once, a
reply retried is sent once, and the staff page can show what failed and why."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel


class MailboxState(TimeStampedModel):
    """Where fetching stopped in one IMAP folder: the UIDs above ``last_uid`` are new. UIDs are
    only meaningful under one UIDVALIDITY; when the server changes it, fetching starts over and
    the InboundMail keys make the second pass harmless."""

    account = models.CharField(_("邮箱账号"), max_length=255, unique=True)  # user@host/folder
    uid_validity = models.BigIntegerField(_("UIDVALIDITY"), default=0)
    last_uid = models.BigIntegerField(_("已取到的最大 UID"), default=0)
    last_run_at = models.DateTimeField(_("上次收信"), null=True, blank=True)
    # A fetch holds the mailbox until then (one fetch at a time; a crashed one's lease ends).
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(_("上次错误"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("收信邮箱状态")
        verbose_name_plural = _("收信邮箱状态")
        ordering = ["account"]

    def __str__(self) -> str:
        return self.account


class InboundMail(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        PROCESSED = "processed", _("已处理")
        FAILED = "failed", _("失败")

    class Outcome(models.TextChoices):
        NEW_TICKET = "new_ticket", _("新建工单")
        REPLY = "reply", _("追加到工单")

    # The Message-ID without its angle brackets, or "sha256:<hex>" of the raw bytes when the
    # message has none (or one too long to index): the unique key that makes a second fetch
    # of the same message a no-op.
    message_key = models.CharField(_("邮件键"), max_length=255, unique=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    account = models.CharField(_("邮箱账号"), max_length=255, blank=True)
    uid_validity = models.BigIntegerField(null=True, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    from_address = models.CharField(_("发件人"), max_length=254, blank=True)
    from_name = models.CharField(_("发件人姓名"), max_length=200, blank=True)
    subject = models.CharField(_("主题"), max_length=500, blank=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sent_at = models.DateTimeField(_("发信时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("处理次数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    ticket = models.ForeignKey(
        "desk.Ticket",
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_mails",
    )
    comment = models.ForeignKey(
        "desk.TicketComment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("收到的邮件")
        verbose_name_plural = _("收到的邮件")
        ordering = ["-id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="mail_inbound_ticket")]

    def __str__(self) -> str:
        return self.subject or self.message_key


class OutboundMail(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    # One row per public reply: the unique comment is what makes a retried task send once.
    comment = models.OneToOneField(
        "desk.TicketComment",
        verbose_name=_("回复"),
        on_delete=models.CASCADE,
        related_name="outbound_mail",
    )
    ticket = models.ForeignKey(
        "desk.Ticket",
        verbose_name=_("工单"),
        on_delete=models.CASCADE,
        related_name="outbound_mails",
    )
    to_address = models.CharField(_("收件人"), max_length=254)
    subject = models.CharField(_("主题"), max_length=500)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("发出的邮件")
        verbose_name_plural = _("发出的邮件")
        ordering = ["-id"]
        permissions = [("view_mail_log", _("可查看邮件收发记录"))]

    def __str__(self) -> str:
        return self.subject
