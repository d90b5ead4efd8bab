"""Tickets (工单) of every type, their comments, attachments, transitions, approvals,
notifications and webhooks. The lifecycles live in kefu.desk.workflow, the writes in
kefu.desk.services."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Lookup, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel


class TicketCounter(models.Model):
    """The last number given out on one day (Asia/Shanghai). Incremented inside the create
    transaction, so numbers are unique and gap-free: a rolled-back create rolls the counter back
    with it, and the row lock (PostgreSQL) or the write lock (SQLite IMMEDIATE) serialises
    concurrent creates on the same day."""

    day = models.DateField(_("日期"), unique=True)
    last = models.PositiveIntegerField(_("当日最后编号"), default=0)

    class Meta:
        verbose_name = _("工单编号计数器")
        verbose_name_plural = _("工单编号计数器")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d} {self.last}"


# The statuses in which a ticket's work has ended, of any type, and the others, in which it is
# open. kefu.desk.workflow derives both from the lifecycles (a test keeps them equal to these).
ENDED_TICKET_STATUSES = (
    "arbitration",
    "cancelled",
    "closed",
    "dismissed",
    "rejected",
    "withdrawn",
)
OPEN_TICKET_STATUSES = (
    "new",
    "open",
    "in_progress",
    "pending_customer",
    "transferred",
    "resolved",
    "reopened",
    "registered",
    "acknowledged",
    "assessed",
    "investigating",
    "proposed",
    "approved",
    "responded",
    "executing",
    "follow_up",
    "escalated",
    "submitted",
    "docs_review",
    "liability_determined",
    "confirmed",
    "settling",
    "filed",
    "accepted",
    "evidence",
    "decided",
    "enforced",
)
# The open tickets' partial indexes (below), as PostgreSQL has them.
NOT_ENDED = ~Q(status__in=ENDED_TICKET_STATUSES)
_CODE = re.compile(r"[a-z_]+")


class _InLiterals(Lookup[str]):
    """``column IN ('a', 'b')`` with the values written into the SQL, not bound: SQLite takes a
    partial index only when the query's terms equal the index's, and its index conditions hold
    literals (bound parameters never match them). For this module's own status codes only."""

    prepare_rhs = False

    def __init__(self, lhs: Any, rhs: tuple[str, ...]) -> None:
        if not all(_CODE.fullmatch(value) for value in rhs):
            raise ValueError("status codes only")
        super().__init__(lhs, rhs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        values = ", ".join(f"'{value}'" for value in self.rhs)
        return f"{lhs} IN ({values})", list(params)


def open_tickets_q() -> Q:
    """Open tickets (work not ended), in the form each database's planner serves best.

    PostgreSQL: NOT IN the six ended statuses, as its partial indexes on open tickets are
    written (migration desk 0012). The planner uses a partial index only after proving the
    query implies its condition, item by item: against the 27 open statuses that proof cost
    about 1 ms of planning per query and index, against these six 0.2 ms.
    SQLite: IN the 27 open statuses, written into the SQL as its partial indexes are (in the
    IN form there; a NOT IN took the open queue from 11 to 220 ms at 1M tickets): with bound
    parameters its planner never takes them (the team queue 82 → 0.3 ms at 1M tickets).
    """
    if connection.vendor == "postgresql":
        return NOT_ENDED
    return Q(_InLiterals(F("status"), OPEN_TICKET_STATUSES))


class Ticket(models.Model):
    class Type(models.TextChoices):
        INQUIRY = "inquiry", _("咨询")
        COMPLAINT = "complaint", _("投诉")
        ORDER = "order", _("下单")
        CLAIM = "claim", _("理赔")
        ARBITRATION = "arbitration", _("仲裁")
        REPAIR = "repair", _("报修")
        SUGGESTION = "suggestion", _("建议")

    class Channel(models.TextChoices):
        PHONE = "phone", _("电话/400热线")
        WEB = "web", _("网页表单")
        EMAIL = "email", _("邮件")
        WECHAT = "wechat", _("微信")
        SMS = "sms", _("短信")
        WALKIN = "walkin", _("到店")
        VISIT = "visit", _("上门拜访")

    class Priority(models.TextChoices):
        LOW = "low", _("低（P4）")
        NORMAL = "normal", _("普通（P3）")
        HIGH = "high", _("高（P2）")
        URGENT = "urgent", _("紧急（P1）")

    class Status(models.TextChoices):
        # domain.md §4.1 (inquiry, order, suggestion, repair)
        NEW = "new", _("新建")
        OPEN = "open", _("已受理")
        IN_PROGRESS = "in_progress", _("处理中")
        PENDING_CUSTOMER = "pending_customer", _("等待客户")
        TRANSFERRED = "transferred", _("已转派")
        RESOLVED = "resolved", _("已解决")
        REOPENED = "reopened", _("已重开")
        CLOSED = "closed", _("已关闭")
        CANCELLED = "cancelled", _("已取消")
        # §4.2 complaint
        REGISTERED = "registered", _("已登记")
        ACKNOWLEDGED = "acknowledged", _("已确认受理")
        ASSESSED = "assessed", _("已定级")
        INVESTIGATING = "investigating", _("调查中")
        PROPOSED = "proposed", _("已出方案")
        APPROVED = "approved", _("方案已审批")
        RESPONDED = "responded", _("已答复客户")
        EXECUTING = "executing", _("执行中")
        FOLLOW_UP = "follow_up", _("回访中")
        ESCALATED = "escalated", _("已升级")
        ARBITRATION = "arbitration", _("已转仲裁")
        WITHDRAWN = "withdrawn", _("客户撤诉")
        # §4.4 claim
        SUBMITTED = "submitted", _("已提交")
        DOCS_REVIEW = "docs_review", _("资料审核")
        LIABILITY_DETERMINED = "liability_determined", _("已判定责任")
        REJECTED = "rejected", _("已拒赔")
        CONFIRMED = "confirmed", _("客户已确认")
        SETTLING = "settling", _("结算中")
        # §4.5 arbitration
        FILED = "filed", _("已立案申请")
        ACCEPTED = "accepted", _("已受理")
        DISMISSED = "dismissed", _("不予受理")
        EVIDENCE = "evidence", _("举证中")
        DECIDED = "decided", _("已裁决")
        ENFORCED = "enforced", _("已执行")

    class ComplaintLevel(models.TextChoices):
        GENERAL = "general", _("一般")
        SERIOUS = "serious", _("严重")
        MAJOR = "major", _("重大")

    class Liability(models.TextChoices):
        OURS = "ours", _("我方")
        SUPPLIER = "supplier", _("供应商")
        CARRIER = "carrier", _("承运商")
        CUSTOMER = "customer", _("客户")
        NONE = "none", _("无责")

    class RootCause(models.TextChoices):
        PRODUCT = "product", _("产品质量")
        DELIVERY = "delivery", _("物流运输")
        INSTALLATION = "installation", _("安装维修")
        SERVICE = "service", _("服务态度")
        BILLING = "billing", _("价格与账务")
        OTHER = "other", _("其他")

    class Proposal(models.TextChoices):
        REFUND = "refund", _("退款")
        REPLACEMENT = "replacement", _("换货")
        CREDIT_NOTE = "credit_note", _("红字发票")
        DEDUCTION = "deduction", _("下单抵扣")
        REPAIR = "repair", _("维修")
        APOLOGY = "apology", _("致歉说明")

    class Recovery(models.TextChoices):
        NONE = "", _("无")
        OPEN = "open", _("追偿中")
        RECOVERED = "recovered", _("已追回")
        WAIVED = "waived", _("放弃追偿")

    number = models.CharField(_("工单号"), max_length=20, unique=True)
    type = models.CharField(_("类型"), max_length=16, choices=Type.choices)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    priority = models.CharField(
        _("优先级"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices)
    subject = models.CharField(_("主题"), max_length=200)
    body = models.TextField(_("描述"), blank=True, max_length=10000)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("关联订单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    asset = models.ForeignKey(
        "customers.Asset",
        verbose_name=_("设备"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        "org.Team",
        verbose_name=_("班组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    tier = models.CharField(_("建单时客户等级"), max_length=16, blank=True)
    # SLA (kefu.sla through its contract): due times, and the check points of the periodic
    # task (80 % → warn the assignee, due → supervisor, 2 × target → manager).
    first_response_due = models.DateTimeField(_("首次响应时限"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("解决时限"), null=True, blank=True)
    close_due = models.DateTimeField(_("结案时限"), null=True, blank=True)  # complaints
    response_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_escalate_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_escalate_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The earliest check point still ahead on a running clock; NULL when no clock runs (paused,
    # stopped, closed, or every check point passed). The periodic task reads only this index.
    sla_next_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_policy_id = models.IntegerField(_("SLA 策略"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    paused_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)
    paused_total = models.DurationField(_("累计暂停（工作时间）"), default=timedelta)
    response_warned = models.BooleanField(_("响应已预警"), default=False)
    response_breached = models.BooleanField(_("响应已超时"), default=False)
    response_escalated = models.BooleanField(_("响应超时已升级"), default=False)
    resolution_warned = models.BooleanField(_("解决已预警"), default=False)
    resolution_breached = models.BooleanField(_("解决已超时"), default=False)
    resolution_escalated = models.BooleanField(_("解决超时已升级"), default=False)
    sla_breached = models.BooleanField(_("已超时"), default=False)
    reopen_count = models.PositiveSmallIntegerField(_("重开次数"), default=0)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("关联工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    # The customer's serving team, copied here (and kept in step when the customer moves team)
    # so that "tickets my teams may see" is an indexed test on the ticket itself, not a join
    # to the customer for each of a million rows.
    customer_team = models.ForeignKey(
        "org.Team",
        verbose_name=_("客户所属班组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        editable=False,
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged",
    )
    # Complaint (§4.2), claim (§4.4) and arbitration (§4.5) fields.
    complaint_level = models.CharField(
        _("投诉级别"), max_length=8, choices=ComplaintLevel.choices, blank=True
    )
    escalation_level = models.PositiveSmallIntegerField(_("升级层级"), default=1)  # L1..L4
    responsible_department = models.ForeignKey(
        "org.Department",
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    root_cause = models.CharField(
        _("原因分类"), max_length=16, choices=RootCause.choices, blank=True
    )
    liability = models.CharField(
        _("责任判定"), max_length=16, choices=Liability.choices, blank=True
    )
    proposal = models.CharField(_("处理方案"), max_length=16, choices=Proposal.choices, blank=True)
    compensation_amount = models.DecimalField(
        _("赔偿金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    proposal_round = models.PositiveSmallIntegerField(default=0, editable=False)
    recovery_status = models.CharField(
        _("追偿"), max_length=16, choices=Recovery.choices, blank=True, default=""
    )
    recovery_outcome = models.CharField(_("处理结果/追偿结果"), max_length=500, blank=True)
    decision = models.TextField(_("裁决及理由"), blank=True, max_length=5000)
    idempotency_key = models.CharField(max_length=100, blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Not auto_now_add: seeders and imports give the real time of a call or an email.
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-id"]
        permissions = [
            ("work_ticket", _("可处理工单（坐席）")),
            ("supervise_ticket", _("可主管审批工单")),
            ("manage_ticket", _("可经理审批工单")),
            ("finance_ticket", _("可财务审批工单")),
            ("quality_ticket", _("可品质判定工单")),
            ("gm_ticket", _("可总经理审批工单")),
            ("manage_webhooks", _("可管理工单 Webhook")),
        ]
        constraints = [
            # A retried create (same Idempotency-Key from the same user) finds the first ticket;
            # the constraint, not a lookup, is what makes that hold under concurrency.
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="desk_ticket_idempotency",
            )
        ]
        indexes = [
            models.Index(fields=["status", "team", "assignee"], name="desk_ticket_queue"),
            models.Index(fields=["customer", "created_at"], name="desk_ticket_customer"),
            models.Index(fields=["team", "-id"], name="desk_ticket_team_id"),
            models.Index(fields=["customer_team", "-id"], name="desk_ticket_customer_team_id"),
            models.Index(fields=["assignee", "-id"], name="desk_ticket_assignee_id"),
            models.Index(
                fields=["sla_next_check_at"],
                condition=Q(sla_next_check_at__isnull=False),
                name="desk_ticket_sla_check",
            ),
            models.Index(
                fields=["-id"], condition=Q(sla_breached=True), name="desk_ticket_breached"
            ),
            # The workspace's queues (kefu.workspace): every open ticket newest first (all
            # open, unassigned, breached, the tab counts), the running clocks not yet breached
            # (at risk), and each agent's resolutions by time (the live load's "resolved
            # today"). The open tickets' index carries the columns the visibility scope and
            # the dashboard's open figures read (PostgreSQL INCLUDE): a queue's first page with
            # its capped count (3 → 0.5 ms at 1M tickets) and the dashboard's counts by status,
            # agent, age and SLA state (5 → 2.7 ms) are read off the index alone. Every one of
            # these columns is indexed elsewhere already, so no update loses HOT for it.
            models.Index(
                fields=["-id"],
                condition=NOT_ENDED,
                include=[
                    "status",
                    "team",
                    "customer_team",
                    "assignee",
                    "created_by",
                    "customer",
                    "created_at",
                    "resolved_at",
                    "sla_breached",
                    "sla_next_check_at",
                    "response_warned",
                    "resolution_warned",
                ],
                name="desk_ticket_open",
            ),
            models.Index(
                fields=["-id"],
                condition=Q(sla_next_check_at__isnull=False, sla_breached=False),
                name="desk_ticket_running",
            ),
            models.Index(
                fields=["-id"],
                condition=Q(sla_next_check_at__isnull=False, sla_breached=False)
                & (Q(response_warned=True) | Q(resolution_warned=True)),
                name="desk_ticket_warned",
            ),
            # the unassigned queue: open tickets nobody holds, newest first
            models.Index(
                fields=["-id"],
                condition=NOT_ENDED & Q(assignee__isnull=True),
                name="desk_ticket_unassigned",
            ),
            # "my team's" queue: a team's open tickets newest first, straight off the index
            # (28 ms → 1 ms at 1M tickets on PostgreSQL)
            models.Index(
                fields=["team", "-id"],
                condition=NOT_ENDED,
                name="desk_ticket_team_open",
            ),
            models.Index(
                fields=["assignee", "resolved_at"],
                condition=Q(resolved_at__isnull=False),
                name="desk_ticket_assignee_resolved",
            ),
            # The KPI layer (kefu.analytics.kpis): tickets by creation and by resolution time,
            # FCR's look-back and look-ahead for the same customer and type, and the SLA
            # denominator's "open ones that fell due in the period".
            models.Index(fields=["created_at"], name="desk_ticket_created"),
            models.Index(
                fields=["resolved_at"],
                condition=Q(resolved_at__isnull=False),
                name="desk_ticket_resolved",
            ),
            models.Index(fields=["customer", "type", "created_at"], name="desk_ticket_cust_type"),
            models.Index(fields=["resolution_due"], name="desk_ticket_resolution_due"),
            models.Index(fields=["first_response_due"], name="desk_ticket_response_due"),
            models.Index(
                fields=["first_responded_at"],
                condition=Q(first_responded_at__isnull=False),
                name="desk_ticket_responded",
            ),
            # the backlog at a past moment: the unresolved by creation time (the others are
            # found through desk_ticket_resolved)
            models.Index(
                fields=["created_at"],
                condition=Q(resolved_at__isnull=True),
                name="desk_ticket_unresolved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


class TicketSearchGram(models.Model):
    """Character bigrams of a ticket's subject: 2-character Chinese search (投诉, 漏水) needs
    them, trigram indexes need 3 characters. Written with the ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    gram = models.CharField(max_length=2)

    class Meta:
        indexes = [models.Index(fields=["gram", "ticket"], name="desk_ticket_gram")]
        constraints = [models.UniqueConstraint(fields=["ticket", "gram"], name="uniq_ticket_gram")]

    def __str__(self) -> str:
        return self.gram


class TicketTransition(models.Model):
    """One step of a ticket's lifecycle: who, when, from, to, note."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="transitions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField(
        _("原状态"), max_length=24, blank=True, choices=Ticket.Status.choices
    )
    to_status = models.CharField(_("新状态"), max_length=24, choices=Ticket.Status.choices)
    note = models.TextField(_("说明"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工单状态变更")
        verbose_name_plural = _("工单状态变更")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="desk_transition_ticket")]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class TicketApproval(models.Model):
    """A sign-off on a proposal (claims and complaints: amount thresholds) or on an arbitration
    decision (the panel). A proposal's round number ties the sign-offs to the proposal they
    approved: a new proposal needs new sign-offs."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="approvals")
    stage = models.CharField(max_length=16)  # the target status signed for: approved, decided
    round = models.PositiveSmallIntegerField(default=0)
    role = models.CharField(_("角色"), max_length=16)  # supervisor, manager, finance, …
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("意见"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工单审批")
        verbose_name_plural = _("工单审批")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "stage", "round", "role"], name="uniq_ticket_signoff"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.stage} {self.role}"

    @property
    def role_label(self) -> str:
        """The role the approver signed as, in words (客服主管), for the ticket page."""
        from kefu.desk.workflow import ROLE_LABELS

        label = ROLE_LABELS.get(self.role)
        return str(label) if label is not None else self.role


class TicketComment(models.Model):
    """An internal note (staff only) or a public reply (the customer sees it)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("内容"), max_length=10000)
    public = models.BooleanField(_("回复客户"), default=False)
    # The customer wrote it (web portal, email, SMS): author is then empty.
    from_customer = models.BooleanField(_("客户来信"), default=False)
    via = models.CharField(
        _("来源渠道"), max_length=16, blank=True, default="", choices=Ticket.Channel.choices
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工单评论")
        verbose_name_plural = _("工单评论")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="desk_comment_ticket")]

    def __str__(self) -> str:
        return self.body[:40]


def _attachment_path(instance: TicketAttachment, filename: str) -> str:
    # The stored name is not the user's: no path tricks, no clashes.
    import uuid

    now = timezone.localtime()
    return f"tickets/{now:%Y/%m}/{uuid.uuid4().hex}"


class TicketAttachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        TicketComment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("文件"), upload_to=_attachment_path, max_length=200)
    filename = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工单附件")
        verbose_name_plural = _("工单附件")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class Notification(models.Model):
    """A message to one member of staff (the bell): SLA warnings, escalations, major
    complaints, approvals waiting."""

    class Kind(models.TextChoices):
        SLA_WARNING = "sla_warning", _("即将超时")
        SLA_BREACH = "sla_breach", _("已超时")
        SLA_ESCALATION = "sla_escalation", _("严重超时")
        ESCALATION = "escalation", _("投诉升级")
        MAJOR_COMPLAINT = "major_complaint", _("重大投诉")
        APPROVAL = "approval", _("待审批")
        ASSIGNED = "assigned", _("分派给您")
        CUSTOMER_REPLY = "customer_reply", _("客户回复")
        WORK_ORDER = "work_order", _("派工单")
        WORK_ORDER_OVERDUE = "work_order_overdue", _("派工单逾期")
        NOTICE_FAILED = "notice_failed", _("通知发送失败")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    message = models.CharField(_("内容"), max_length=300)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at", "-id"], name="desk_notification_user")]

    def __str__(self) -> str:
        return self.message


class WebhookSubscription(TimeStampedModel):
    class Event(models.TextChoices):
        CREATED = "ticket.created", _("工单创建")
        UPDATED = "ticket.updated", _("工单更新")
        BREACHED = "ticket.breached", _("工单超时")

    url = models.URLField(_("接收地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=128)
    events = models.JSONField(_("事件"), default=list)  # a list of Event values
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("Webhook 订阅")
        verbose_name_plural = _("Webhook 订阅")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one subscriber, with every attempt's outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("失败")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("事件"), max_length=32)
    payload = models.JSONField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Webhook 投递")
        verbose_name_plural = _("Webhook 投递")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id}"


ZERO = Decimal("0.00")
