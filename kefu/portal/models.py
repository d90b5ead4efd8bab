"""The customer portal's own records: who asked through the web form, the per-ticket status
links (stored only as hashes) and the notices the customer was sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel
from kefu.core.phones import mask_mobile, mask_name


def mask_email(email: str) -> str:
    """zhang.san@example.com → zh***@example.com; the domain stays (it says which company)."""
    if not email:
        return ""
    local, _at, domain = email.partition("@")
    shown = local[:2] if len(local) > 3 else local[:1]
    return f"{shown}***@{domain}" if domain else f"{shown}***"


class TicketRequester(TimeStampedModel):
    """The person who filed a ticket through the public form, as they gave themselves: an
    unknown sender has no customer record, so this is the only place their name and contact
    live (and where the notices go). Kept for matched customers too: the person who wrote may
    not be the customer's primary contact."""

    ticket = models.OneToOneField(
        "desk.Ticket", verbose_name=_("工单"), on_delete=models.CASCADE, related_name="requester"
    )
    name = models.CharField(_("姓名"), max_length=64)
    mobile = models.CharField(_("手机"), max_length=16, blank=True)  # E.164
    email = models.EmailField(_("邮箱"), blank=True)
    company = models.CharField(_("单位"), max_length=100, blank=True)
    matched = models.BooleanField(_("已匹配客户"), default=False)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("网页提交人")
        verbose_name_plural = _("网页提交人")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name_masked

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)

    @property
    def mobile_masked(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def email_masked(self) -> str:
        return mask_email(self.email)


class TicketAccess(models.Model):
    """A customer's link to one ticket's status page. The token itself is never stored, only
    its SHA-256: a database dump does not open anyone's ticket. One live link per ticket; a new
    one revokes the old (the constraint holds that under concurrency)."""

    ticket = models.ForeignKey(
        "desk.Ticket", verbose_name=_("工单"), on_delete=models.CASCADE, related_name="accesses"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("客户查询链接")
        verbose_name_plural = _("客户查询链接")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(revoked_at__isnull=True),
                name="portal_one_live_access_per_ticket",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.created_at:%Y-%m-%d %H:%M}"


class CustomerNotice(TimeStampedModel):
    """One message to the customer about one ticket: registered or resolved, by SMS or email.
    Unique per (ticket, kind, round, channel), so a retried task or a repeated signal never
    sends a second one; ``round`` is the ticket's reopen count when the notice was due (0 for
    "registered" and the first "resolved"; a ticket reopened and resolved again is announced
    again, once per round). The status and the last error say what happened."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("受理通知")
        RESOLVED = "resolved", _("解决通知")

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        EMAIL = "email", _("邮件")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    ticket = models.ForeignKey(
        "desk.Ticket", verbose_name=_("工单"), on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    round = models.PositiveSmallIntegerField(_("轮次"), default=0)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("接收人"), max_length=254)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    # The text as sent, except the status link's token (shown as "…"): the link opens the
    # ticket, and only its hash is kept anywhere.
    body = models.TextField(_("内容"), max_length=2000)
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    # When the current (or last) sender claimed the row: a row still "sending" long after it
    # lost its worker, and the sweeper's conditional UPDATE keys on it (kefu.portal.notices).
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("客户通知")
        verbose_name_plural = _("客户通知")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind", "round", "channel"],
                name="portal_one_notice_per_kind_round_channel",
            )
        ]
        indexes = [
            # the sweeper's scan: the few rows still sending or pending
            models.Index(
                fields=["status", "claimed_at"],
                name="portal_notice_unsent",
                condition=Q(status__in=["pending", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.round} {self.channel}"

    @property
    def recipient_masked(self) -> str:
        if self.channel == self.Channel.SMS:
            return mask_mobile(self.recipient)
        return mask_email(self.recipient)
