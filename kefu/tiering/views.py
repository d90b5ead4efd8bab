"""/tiers/: rule sets, the recompute button, recent changes; the pin form of the archive panel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.customers.access import customer_get_for_user
from kefu.customers.models import Customer
from kefu.org.models import Team, User
from kefu.tiering.archive import tier_panel_context
from kefu.tiering.forms import PinForm, RuleSetForm
from kefu.tiering.models import TierRuleSet
from kefu.tiering.selectors import (
    require_tier_view,
    rule_set_get,
    rule_set_list,
    tier_change_list,
)
from kefu.tiering.services import (
    tier_pin,
    tier_rule_set_activate,
    tier_rule_set_create,
    tier_rule_set_update,
    tier_unpin,
    tiers_recompute,
)

RECENT = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


@login_required
def tier_index_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        rule_sets = list(rule_set_list(user=user))
        changes = list(tier_change_list(user=user)[:RECENT])
    except Forbidden as exc:
        return _refused(request, exc)
    tiers = dict(
        Customer.objects.filter(merged_into__isnull=True)
        .order_by()
        .values_list("tier")
        .annotate(n=Count("id"))
    )
    return render(
        request,
        "tiering/tier_index.html",
        {
            "rule_sets": rule_sets,
            "changes": changes,
            "tier_counts": [(label, tiers.get(value, 0)) for value, label in Customer.Tier.choices],
            "can_recompute": user.has_perm("tiering.recompute_tiers"),
            "can_change": user.has_perm("tiering.change_tierruleset"),
            "can_add": user.has_perm("tiering.add_tierruleset"),
        },
    )


def _teams() -> list[Team]:
    return list(Team.objects.select_related("department").order_by("department__name", "name"))


@login_required
def rule_set_create_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.has_perm("tiering.add_tierruleset"):
        return _refused(request, Forbidden(_("您没有维护分层规则的权限。")))
    template = TierRuleSet.objects.filter(is_active=True).first()
    initial = RuleSetForm.initial_for(template) if template else {}
    initial["name"] = ""
    form = RuleSetForm(request.POST or None, teams=_teams(), initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                rule_set = tier_rule_set_create(actor=user, data=form.to_input())
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已新建分层规则，启用后生效。"))
                return redirect("tiering:rule_set", rule_set_id=rule_set.pk)
        status = 422
    return render(
        request, "tiering/rule_set_form.html", {"form": form, "creating": True}, status=status
    )


@login_required
def rule_set_edit_view(request: HttpRequest, rule_set_id: int) -> HttpResponse:
    user = _user(request)
    try:
        rule_set = rule_set_get(user=user, rule_set_id=rule_set_id)
    except NotFound:
        raise Http404(_("分层规则不存在。")) from None
    except Forbidden as exc:
        return _refused(request, exc)
    can_change = user.has_perm("tiering.change_tierruleset")
    if request.method == "POST" and not can_change:
        return _refused(request, Forbidden(_("您没有维护分层规则的权限。")))
    form = RuleSetForm(
        request.POST or None, teams=_teams(), initial=RuleSetForm.initial_for(rule_set)
    )
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                tier_rule_set_update(actor=user, rule_set=rule_set, data=form.to_input())
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已保存分层规则；点“立即重算”后客户等级按新规则调整。"))
                return redirect("tiering:rule_set", rule_set_id=rule_set.pk)
        status = 422
    return render(
        request,
        "tiering/rule_set_form.html",
        {"form": form, "creating": False, "rule_set": rule_set, "can_change": can_change},
        status=status,
    )


@login_required
@require_POST
def rule_set_activate_view(request: HttpRequest, rule_set_id: int) -> HttpResponse:
    user = _user(request)
    try:
        rule_set = rule_set_get(user=user, rule_set_id=rule_set_id)
        tier_rule_set_activate(actor=user, rule_set=rule_set)
    except NotFound:
        raise Http404(_("分层规则不存在。")) from None
    except ApplicationError as exc:
        return _refused(request, exc)
    messages.success(request, _("已启用“%(name)s”。") % {"name": rule_set.name})
    return redirect("tiering:index")


@login_required
@require_POST
def recompute_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        result = tiers_recompute(actor=user, hysteresis=False)
    except ApplicationError as exc:
        if getattr(request, "htmx", False):
            return render(
                request,
                "tiering/partials/_recompute_result.html",
                {"error": exc.message},
                status=exc.status,
            )
        return _refused(request, exc)
    if getattr(request, "htmx", False):
        return render(request, "tiering/partials/_recompute_result.html", {"result": result})
    messages.success(
        request,
        _(
            "重算完成：%(evaluated)s 位客户，升级 %(up)s，降级 %(down)s，"
            "不变 %(same)s，用时 %(s)s 秒。"
        )
        % {
            "evaluated": result.evaluated,
            "up": result.upgraded,
            "down": result.downgraded,
            "same": result.unchanged,
            "s": result.duration,
        },
    )
    return redirect("tiering:index")


def _panel(
    request: HttpRequest, customer: Customer, form: PinForm | None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    customer.refresh_from_db(fields=["tier"])
    context = {"customer": customer, "user": user, **tier_panel_context(customer, user)}
    if form is not None:
        context["pin_form"] = form
    return render(request, "tiering/partials/_archive_panel.html", context, status=status)


@login_required
@require_POST
def pin_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = customer_get_for_user(user=user, customer_id=customer_id)
    except NotFound:
        raise Http404(_("客户不存在。")) from None
    except Forbidden as exc:
        return _refused(request, exc)
    form = PinForm(request.POST)
    htmx = bool(getattr(request, "htmx", False))
    if form.is_valid():
        try:
            tier_pin(
                actor=user,
                customer=customer,
                tier=form.cleaned_data["tier"],
                reason=form.cleaned_data["reason"],
                expires_on=form.cleaned_data["expires_on"],
            )
        except Forbidden as exc:
            return _refused(request, exc)
        except ApplicationError as exc:
            form.add_service_errors(exc.fields or {"__all__": [exc.message]})
        else:
            if htmx:
                return _panel(request, customer, None)
            messages.success(request, _("已人工指定客户等级。"))
            return redirect("customers:detail", customer_id=customer.pk)
    if htmx:
        return _panel(request, customer, form, status=422)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return redirect("customers:detail", customer_id=customer.pk)


@login_required
@require_POST
def unpin_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = customer_get_for_user(user=user, customer_id=customer_id)
        tier_unpin(actor=user, customer=customer, reason=request.POST.get("reason", "")[:200])
    except NotFound:
        raise Http404(_("客户不存在。")) from None
    except Forbidden as exc:
        return _refused(request, exc)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    if getattr(request, "htmx", False):
        return _panel(request, customer, None)
    return redirect("customers:detail", customer_id=customer.pk)


@login_required
def tier_panel_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The archive panel alone (htmx refresh)."""
    user = _user(request)
    try:
        require_tier_view(user)
        customer = customer_get_for_user(user=user, customer_id=customer_id)
    except NotFound:
        raise Http404(_("客户不存在。")) from None
    except Forbidden as exc:
        return _refused(request, exc)
    return _panel(request, customer, None)
