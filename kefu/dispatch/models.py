"""Work orders (派工单): a ticket's piece of work sent to another department (维修部, 销售部,
物流, 财务 …), which accepts it, returns it with a reason, or completes it with a result. The
lifecycle lives in kefu.dispatch.workflow, the writes in kefu.dispatch.services."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel


class WorkOrderCounter(models.Model):
    """The last number given out on one day (Asia/Shanghai), upserted inside the dispatch
    transaction. Numbers only need to be unique (not gap-free): a rolled-back dispatch may give
    its number back or not, either is fine."""

    day = models.DateField(_("日期"), unique=True)
    last = models.PositiveIntegerField(_("当日最后编号"), default=0)

    class Meta:
        verbose_name = _("派工单编号计数器")
        verbose_name_plural = _("派工单编号计数器")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d} {self.last}"


class WorkOrder(TimeStampedModel):
    class Status(models.TextChoices):
        DISPATCHED = "dispatched", _("已派单")
        ACCEPTED = "accepted", _("已接单")
        COMPLETED = "completed", _("已完成")
        RETURNED = "returned", _("已退回")
        CANCELLED = "cancelled", _("已撤销")

    number = models.CharField(_("派工单号"), max_length=24, unique=True)
    ticket = models.ForeignKey(
        "desk.Ticket", verbose_name=_("工单"), on_delete=models.CASCADE, related_name="work_orders"
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("承办部门"),
        on_delete=models.PROTECT,
        related_name="work_orders",
    )
    instructions = models.TextField(_("派工说明"), max_length=2000)
    deadline = models.DateTimeField(_("完成时限"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DISPATCHED
    )
    result = models.TextField(_("处理结果"), blank=True, max_length=2000)
    # The last return or cancellation reason (every one of them stays in the events).
    reason = models.CharField(_("退回/撤销原因"), max_length=2000, blank=True)
    dispatch_count = models.PositiveSmallIntegerField(_("派单次数"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("派单人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dispatched_at = models.DateTimeField(_("派单时间"), default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接单人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("完成人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("退回人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    # Set (under the row's lock) when the overdue notice went out: the periodic task notifies
    # once per order; a re-dispatch with a new deadline clears it.
    overdue_notified_at = models.DateTimeField(_("逾期通知时间"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("派工单")
        verbose_name_plural = _("派工单")
        ordering = ["-id"]
        constraints = [
            # A retried dispatch (same Idempotency-Key from the same user) finds the first
            # order; the constraint, not a lookup, is what makes that hold under concurrency.
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="dispatch_workorder_idempotency",
            )
        ]
        indexes = [
            models.Index(fields=["ticket", "status"], name="dispatch_wo_ticket"),
            models.Index(fields=["department", "status", "deadline"], name="dispatch_wo_dept"),
            models.Index(fields=["status", "deadline"], name="dispatch_wo_status_deadline"),
            # the periodic overdue check reads only open orders not yet notified
            models.Index(
                fields=["deadline"],
                condition=Q(status__in=["dispatched", "accepted"], overdue_notified_at=None),
                name="dispatch_wo_overdue_check",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        """The department still owes the work (the ticket cannot close)."""
        return self.status in (self.Status.DISPATCHED, self.Status.ACCEPTED)

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.deadline < timezone.now()

    @property
    def overdue_display(self) -> str:
        """How long past its deadline an open order is, in words: "已逾期 25 分钟", "已逾期 3 小时",
        "已逾期 2 天 4 小时"; "" when it is not overdue."""
        if not self.is_overdue:
            return ""
        minutes = int((timezone.now() - self.deadline).total_seconds() // 60)
        hours, minutes = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        if days and hours:
            return _("已逾期 %(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
        if days:
            return _("已逾期 %(d)d 天") % {"d": days}
        if hours:
            return _("已逾期 %(h)d 小时") % {"h": hours}
        return _("已逾期 %(m)d 分钟") % {"m": max(minutes, 1)}

    @property
    def is_due_soon(self) -> bool:
        """Open, not overdue yet, and due within KEFU_WORKORDER_DUE_SOON_HOURS."""
        if not self.is_open:
            return False
        left = self.deadline - timezone.now()
        return timedelta(0) <= left <= timedelta(hours=settings.WORKORDER_DUE_SOON_HOURS)


class WorkOrderEvent(models.Model):
    """One step of a work order: who, when, from, to, the department it was with, the note
    (instructions, reason or result)."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField(
        _("原状态"), max_length=16, blank=True, choices=WorkOrder.Status.choices
    )
    to_status = models.CharField(_("新状态"), max_length=16, choices=WorkOrder.Status.choices)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("承办部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("派工单记录")
        verbose_name_plural = _("派工单记录")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["work_order", "created_at"], name="dispatch_event_wo")]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"
