"""Orders received from the company's sales system. The service department does not take
payment; it keeps what sales sends so tiering, credit and the monthly report can read it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import TimeStampedModel

ZERO = Decimal("0.00")


class Order(TimeStampedModel):
    source = models.CharField(_("来源系统"), max_length=32, default="erp")
    order_no = models.CharField(_("订单号"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    date = models.DateField(_("下单日期"))
    due_date = models.DateField(_("应付款日"), null=True, blank=True)
    paid_date = models.DateField(_("付款日"), null=True, blank=True)
    # Totals of the lines, denormalised at write time: tiering and the report aggregate
    # orders (millions of lines would be too slow to sum every night).
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2, default=ZERO)
    cost = models.DecimalField(_("成本（元）"), max_digits=14, decimal_places=2, default=ZERO)
    # sha256 of the normalised content: a re-sent identical order is a no-op.
    content_hash = models.CharField(max_length=64, editable=False)
    credit_hold = models.BooleanField(
        _("超额度待审"), default=False
    )  # exposure passed the limit when it arrived (挂起待审), set by kefu.credit
    credit_hold_cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "order_no"], name="uniq_order_per_source")
        ]
        indexes = [
            models.Index(fields=["customer", "date"], name="order_customer_date"),
            models.Index(fields=["date"], name="order_date"),
            models.Index(fields=["order_no"], name="order_no"),
        ]
        permissions = [("import_orders", _("可导入订单"))]

    def __str__(self) -> str:
        return self.order_no

    @property
    def gross_profit(self) -> Decimal:
        return self.amount - self.cost

    @property
    def is_paid(self) -> bool:
        return self.paid_date is not None


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(_("行号"))
    product = models.CharField(_("产品"), max_length=100)
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2)
    cost = models.DecimalField(_("成本（元）"), max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        verbose_name = _("订单行")
        verbose_name_plural = _("订单行")
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="uniq_order_line_no")
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"
