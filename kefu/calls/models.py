"""Phone calls from the PBX or cloud call center (呼叫中心): the raw events, the calls folded
from them (the KPIs of domain.md §2 read these), agents' lines, and callback tasks (留言/回呼)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel
from kefu.core.phones import mask_mobile


class AgentLine(TimeStampedModel):
    """An agent's phone line: the extension (分机号/工号) the PBX names in its events."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        on_delete=models.CASCADE,
        related_name="agent_line",
    )
    extension = models.CharField(_("分机号"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("坐席线路")
        verbose_name_plural = _("坐席线路")
        ordering = ["extension"]

    def __str__(self) -> str:
        return f"{self.extension} · {self.user}"


class Call(TimeStampedModel):
    """One call, folded from its events (CallEventLog) whatever order they arrived in."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("呼入")
        OUTBOUND = "outbound", _("呼出")

    class Status(models.TextChoices):
        RINGING = "ringing", _("振铃中")
        ANSWERED = "answered", _("通话中")
        ENDED = "ended", _("已结束")

    class Outcome(models.TextChoices):
        NONE = "", _("未结束")
        ANSWERED = "answered", _("已接听")
        ABANDONED = "abandoned", _("放弃")

    call_id = models.CharField(_("通话 ID"), max_length=64, unique=True)
    direction = models.CharField(
        _("方向"), max_length=16, choices=Direction.choices, default=Direction.INBOUND
    )
    # E.164 when the number is a CN mobile, otherwise the digits as the PBX sent them
    caller = models.CharField(_("主叫号码"), max_length=32, db_index=True)
    called = models.CharField(_("被叫号码"), max_length=32, blank=True)
    queue = models.CharField(_("队列"), max_length=64, blank=True, db_index=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    agent_ref = models.CharField(
        _("坐席标识"), max_length=64, blank=True
    )  # what the PBX sent (extension, 工号 or username), kept when no user matches
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.RINGING
    )
    # Exact timestamps from the PBX; the KPIs are derived from them (domain.md §2).
    offered_at = models.DateTimeField(_("进线时间"), db_index=True)
    ringing_at = models.DateTimeField(_("振铃时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("接听时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("挂断时间"), null=True, blank=True)
    wait_seconds = models.DecimalField(
        _("等待时长（秒）"), max_digits=10, decimal_places=3, null=True, blank=True
    )  # queue + ringing: to the answer, or to the hang-up of an abandoned call
    talk_seconds = models.DecimalField(
        _("通话时长（秒）"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    # From the hang-up event when the PBX reports them (AHT = talk + hold + ACW, domain.md §2).
    hold_seconds = models.DecimalField(
        _("保持时长（秒）"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    acw_seconds = models.DecimalField(
        _("话后处理时长（秒）"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    outcome = models.CharField(
        _("结果"), max_length=16, choices=Outcome.choices, default=Outcome.NONE, blank=True
    )
    out_of_hours = models.BooleanField(_("非工作时间"), default=False)
    ticket_id = models.PositiveBigIntegerField(
        _("工单 ID"), null=True, blank=True
    )  # set through kefu.calls.hooks when the call becomes a ticket
    callback = models.ForeignKey(
        "calls.CallbackTask",
        verbose_name=_("回呼任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )

    class Meta:
        verbose_name = _("通话")
        verbose_name_plural = _("通话")
        ordering = ["-offered_at", "-id"]
        permissions = [("view_all_calls", _("可查看全部通话与回呼任务"))]
        indexes = [
            models.Index(fields=["agent", "-offered_at"], name="call_agent_offered"),
            # the repeat-contact rate looks back 24/72 h from each answered call to the same number
            models.Index(fields=["caller", "offered_at"], name="call_caller_offered"),
            models.Index(fields=["ended_at"], name="call_ended"),  # AHT by hang-up time
        ]

    def __str__(self) -> str:
        return self.call_id

    @property
    def customer_number(self) -> str:
        return self.called if self.direction == self.Direction.OUTBOUND else self.caller

    @property
    def customer_number_masked(self) -> str:
        return mask_mobile(self.customer_number)


class CallEventLog(models.Model):
    """One event as the PBX sent it. (call_id, event) is unique: a retried event stores nothing."""

    class Event(models.TextChoices):
        RINGING = "ringing", _("振铃")
        ANSWERED = "answered", _("接听")
        HANGUP = "hangup", _("挂断")

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    call_ref = models.CharField(_("通话 ID"), max_length=64)
    event = models.CharField(_("事件"), max_length=16, choices=Event.choices)
    occurred_at = models.DateTimeField(_("发生时间"))
    payload = models.JSONField(_("原始内容"), default=dict)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("通话事件")
        verbose_name_plural = _("通话事件")
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call_ref", "event"], name="uniq_call_event")
        ]

    def __str__(self) -> str:
        return f"{self.call_ref} {self.event}"


class CallbackTask(TimeStampedModel):
    """A call to return (留言/回呼): an abandoned call, or one out of business hours."""

    class Reason(models.TextChoices):
        ABANDONED = "abandoned", _("未接来电")
        OUT_OF_HOURS = "out_of_hours", _("非工作时间来电（留言）")

    class Status(models.TextChoices):
        OPEN = "open", _("待回呼")
        DONE = "done", _("已回呼")
        FAILED = "failed", _("回呼失败")
        CANCELLED = "cancelled", _("已取消")

    number = models.CharField(_("回呼号码"), max_length=32, db_index=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callback_tasks",
    )
    reason = models.CharField(_("原因"), max_length=16, choices=Reason.choices)
    due_at = models.DateTimeField(_("回呼期限"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callback_tasks",
    )
    note = models.TextField(_("备注"), blank=True, max_length=2000)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("完成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("回呼任务")
        verbose_name_plural = _("回呼任务")
        ordering = ["due_at", "id"]
        constraints = [
            # one open task per number: a second missed call joins the first task
            models.UniqueConstraint(
                fields=["number"],
                condition=models.Q(status="open"),
                name="one_open_callback_per_number",
            )
        ]

    def __str__(self) -> str:
        return f"{mask_mobile(self.number)} · {self.get_reason_display()}"

    @property
    def number_masked(self) -> str:
        return mask_mobile(self.number)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
