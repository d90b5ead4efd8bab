from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exceptions import ApplicationError, Forbidden, NotFound
from kefu.customers.access import (
    address_get_for_user,
    asset_get_for_user,
    can_merge,
    can_reveal,
    contact_get_for_user,
    customer_get_for_user,
)
from kefu.customers.archive import panels_for, timeline_for
from kefu.customers.forms import AddressForm, AssetForm, ContactForm, CustomerForm, MergeForm
from kefu.customers.identifiers import mask_id_number
from kefu.customers.models import Customer, Tag
from kefu.customers.selectors import (
    CustomerFilters,
    address_list,
    asset_list,
    contact_list,
    customer_list,
)
from kefu.customers.services import (
    AddressInput,
    AssetInput,
    ContactInput,
    CustomerInput,
    DuplicateCustomer,
    address_create,
    address_delete,
    address_update,
    asset_create,
    asset_delete,
    asset_update,
    contact_create,
    contact_delete,
    contact_update,
    customer_create,
    customer_list_merge_candidates,
    customer_merge,
    customer_reveal,
    customer_update,
    customers_export_csv,
    merge_preview,
    sales_reps,
    warranty_status,
)
from kefu.org.access import assignable_teams
from kefu.org.models import User

PAGE_SIZE = 20
TIER_BADGES: dict[str, str] = {
    Customer.Tier.DIAMOND: "bg-purple text-purple-fg",
    Customer.Tier.GOLD: "bg-yellow text-yellow-fg",
    Customer.Tier.SILVER: "bg-secondary text-secondary-fg",
    Customer.Tier.ORDINARY: "bg-secondary-lt",
}
GRADE_BADGES = {"A": "bg-green-lt", "B": "bg-azure-lt", "C": "bg-orange-lt", "D": "bg-red-lt"}


def yuan(value: Decimal) -> str:
    """¥1,234.56 (the house format for money)."""
    return f"¥{value:,.2f}"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _forbidden(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/error.html", {"message": exc.message}, status=exc.status)


def _get(request: HttpRequest, customer_id: int, *, write: bool = False) -> Customer:
    try:
        return customer_get_for_user(user=_user(request), customer_id=customer_id, write=write)
    except NotFound:
        raise Http404(_("客户不存在。")) from None


def _clean_param(request: HttpRequest, name: str, limit: int = 100) -> str:
    return request.GET.get(name, "")[:limit].replace("\x00", "")


def _filters(request: HttpRequest) -> CustomerFilters:
    owner = _clean_param(request, "owner", 20)
    return CustomerFilters(
        q=_clean_param(request, "q"),
        kind=_choice(_clean_param(request, "kind"), Customer.Kind.values),
        tier=_choice(_clean_param(request, "tier"), Customer.Tier.values),
        credit_grade=_choice(_clean_param(request, "credit_grade"), Customer.CreditGrade.values),
        tag=_clean_param(request, "tag", 32),
        owner_id=int(owner) if owner.isdigit() and 0 < int(owner) < 2**63 else None,
        region=_clean_param(request, "region", 64),
        lifecycle_stage=_choice(_clean_param(request, "stage"), Customer.Stage.values),
    )


def _choice(value: str, allowed: list[str]) -> str:
    return value if value in allowed else ""


@login_required
def customer_list_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = _filters(request)
    try:
        customers = customer_list(user=user, filters=filters)
    except Forbidden as exc:
        return _forbidden(request, exc)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "q": filters.q,
        "filters": filters,
        "querystring": query.urlencode(),
        "filtered": any(
            [
                filters.kind,
                filters.tier,
                filters.credit_grade,
                filters.tag,
                filters.owner_id,
                filters.region,
                filters.lifecycle_stage,
            ]
        ),
        "kinds": Customer.Kind.choices,
        "tiers": Customer.Tier.choices,
        "grades": Customer.CreditGrade.choices,
        "stages": Customer.Stage.choices,
        "tags": Tag.objects.values_list("name", flat=True)[:200],
        "owners": sales_reps(),
        "tier_badges": TIER_BADGES,
        "can_add": user.has_perm("customers.add_customer"),
        "can_export": user.has_perm("customers.export_customers"),
        "can_reveal": can_reveal(user),
    }
    partial = bool(getattr(request, "htmx", False))  # set by django-htmx's middleware
    template = "customers/partials/_results.html" if partial else "customers/customer_list.html"
    return render(request, template, context)


def _customer_form(request: HttpRequest, user: User, **kwargs: Any) -> CustomerForm:
    return CustomerForm(
        request.POST or None,
        teams=assignable_teams(user),
        owners=sales_reps(),
        can_set_code=user.has_perm("customers.change_customer"),
        **kwargs,
    )


def _input_from(form: CustomerForm, *, creating: bool) -> CustomerInput:
    data = form.cleaned_data
    code = data.get("code")
    return CustomerInput(
        name=data["name"],
        kind=data["kind"],
        code=code if "code" in form.changed_data or creating else None,
        mobile=data["mobile"],
        contact_name=data.get("contact_name") if creating else None,
        uscc=data["uscc"],
        # the edit form never shows the stored number: blank keeps it
        id_number=data["id_number"] if creating or data["id_number"] else None,
        region=data["region"],
        industry=data["industry"],
        source=data["source"],
        lifecycle_stage=data["lifecycle_stage"],
        owner_id=data["owner"],
        serving_team_id=data["serving_team"],
        tags=form.tag_names(),
        marketing_consent=data["marketing_consent"],
        marketing_consent_channel=data["marketing_consent_channel"],
        marketing_consent_evidence=data["marketing_consent_evidence"],
        marketing_opt_out=data["marketing_opt_out"],
        note=data["note"],
        force=bool(data.get("force")),
    )


# Another page may send a person to the new-customer form with some fields filled in: it puts
# {field: value} under this session key and redirects to customers:create.
CREATE_PREFILL_SESSION_KEY = "customers.create_prefill"
_PREFILL_FIELDS = ("name", "mobile", "contact_name", "region", "source", "note")


@login_required
def customer_create_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.has_perm("customers.add_customer"):
        return _forbidden(request, Forbidden(_("您没有新建客户的权限。")))
    initial = {"kind": "company", "lifecycle_stage": "active"}
    if request.method == "GET":
        # e.g. the screen pop's "新建客户" (kefu.calls): the caller's number, kept out of the URL
        prefill = request.session.pop(CREATE_PREFILL_SESSION_KEY, None)
        if isinstance(prefill, dict):
            initial.update(
                {key: str(prefill[key])[:64] for key in _PREFILL_FIELDS if key in prefill}
            )
    form = _customer_form(request, user, initial=initial)
    status = 200
    duplicate: DuplicateCustomer | None = None
    if request.method == "POST":
        if form.is_valid():
            try:
                customer = customer_create(actor=user, data=_input_from(form, creating=True))
            except DuplicateCustomer as exc:
                duplicate = exc
                status = 409
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
                status = 422
            else:
                messages.success(request, _("已新建客户“%(name)s”。") % {"name": customer.name})
                return redirect("customers:detail", customer_id=customer.pk)
        else:
            status = 422
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "creating": True, "duplicate": duplicate},
        status=status,
    )


@login_required
def customer_detail_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = _get(request, customer_id)
    except Forbidden as exc:
        return _forbidden(request, exc)
    today = timezone.localdate()
    assets = list(asset_list(customer=customer))
    for asset in assets:
        asset.warranty = warranty_status(asset, today=today)  # type: ignore[attr-defined]
    panels = []
    for item in panels_for(customer, user):
        panel = item["panel"]
        html = render_to_string(panel.template, item["context"], request=request)
        panels.append({"panel": panel, "html": mark_safe(html)})  # noqa: S308 (our templates)
    limit_positive = customer.credit_limit > 0
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "contacts": contact_list(customer=customer),
            "addresses": list(address_list(customer=customer)),
            "assets": assets,
            "tags": list(customer.tags.all()),
            "id_number_masked": mask_id_number(customer.id_number),
            "panels": panels,
            "timeline": timeline_for(customer, user),
            "tier_badge": TIER_BADGES.get(customer.tier, "bg-secondary-lt"),
            "grade_badge": GRADE_BADGES.get(customer.credit_grade, "bg-secondary-lt"),
            "credit_over_limit": limit_positive
            and customer.credit_exposure > customer.credit_limit,
            "credit": {
                "limit": yuan(customer.credit_limit),
                "exposure": yuan(customer.credit_exposure),
            },
            "credit_used_pct": (
                min(100, int(customer.credit_exposure * 100 / customer.credit_limit))
                if limit_positive
                else 0
            ),
            "can_reveal": can_reveal(user),
            "can_edit": user.has_perm("customers.change_customer"),
            "can_merge": can_merge(user) and customer.merged_into_id is None,
            # data-subject requests (PIPL art. 44-48): export everything held, or erase
            "can_handle_privacy": user.has_perm("customers.erase_personal_data"),
        },
    )


@login_required
def customer_edit_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = _get(request, customer_id, write=True)
    except Forbidden as exc:
        return _forbidden(request, exc)
    initial = {
        "name": customer.name,
        "kind": customer.kind,
        "code": customer.code or "",
        "mobile": customer.mobile_national,
        "uscc": customer.uscc,
        "region": customer.region,
        "industry": customer.industry,
        "source": customer.source,
        "lifecycle_stage": customer.lifecycle_stage,
        "owner": customer.owner_id or "",
        "tags": "，".join(customer.tags.values_list("name", flat=True)),
        "marketing_consent": customer.marketing_consent,
        "marketing_consent_channel": customer.marketing_consent_channel,
        "marketing_consent_evidence": customer.marketing_consent_evidence,
        "marketing_opt_out": customer.marketing_opt_out,
        "note": customer.note,
        "serving_team": customer.serving_team_id,
    }
    form = _customer_form(request, user, editing=True, initial=initial)
    if customer.id_number:
        form.fields["id_number"].help_text = _("已登记：%(masked)s；留空则不修改") % {
            "masked": mask_id_number(customer.id_number)
        }
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                customer_update(
                    actor=user, customer=customer, data=_input_from(form, creating=False)
                )
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已保存修改。"))
                return redirect("customers:detail", customer_id=customer.pk)
        status = 422
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "creating": False, "customer": customer},
        status=status,
    )


@login_required
@require_POST
def customer_reveal_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    user = _user(request)
    try:
        customer = _get(request, customer_id)
        contacts = customer_reveal(actor=user, customer=customer)
    except Forbidden as exc:
        return _forbidden(request, exc)
    return render(
        request,
        "customers/partials/_contacts.html",
        {
            "customer": customer,
            "contacts": contacts,
            "revealed": True,
            "can_reveal": True,
            "can_edit": user.has_perm("customers.change_customer"),
        },
    )


@login_required
@require_POST
def customer_export_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    q = request.POST.get("q", "")[:100].replace("\x00", "")
    try:
        customers = customer_list(user=user, q=q)
        content = customers_export_csv(
            actor=user, customers=customers.iterator(chunk_size=2000), query=q
        )
    except Forbidden as exc:
        return _forbidden(request, exc)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response


# --- merge -------------------------------------------------------------------------------


@login_required
def customer_merge_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Pick the duplicate (search), see what moves, confirm with a reason."""
    user = _user(request)
    try:
        survivor = _get(request, customer_id)
        if not can_merge(user):
            raise Forbidden(_("您没有合并客户的权限。"))
    except Forbidden as exc:
        return _forbidden(request, exc)
    q = _clean_param(request, "q")
    candidates = customer_list_merge_candidates(user=user, survivor=survivor, q=q) if q else []
    raw = request.POST.get("duplicate") or request.GET.get("duplicate", "")
    duplicate = None
    if raw.isdigit() and 0 < int(raw) < 2**63:
        try:
            duplicate = customer_get_for_user(user=user, customer_id=int(raw))
        except NotFound:
            duplicate = None
    form = MergeForm(request.POST or None, initial={"duplicate": duplicate.pk if duplicate else ""})
    status = 200
    if request.method == "POST":
        if form.is_valid() and duplicate is not None:
            try:
                moved = customer_merge(
                    actor=user,
                    survivor=survivor,
                    duplicate=duplicate,
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(
                    request,
                    _("已把“%(dup)s”合并到本客户，转移记录 %(n)d 条。")
                    % {"dup": duplicate.name, "n": sum(moved.values())},
                )
                return redirect("customers:detail", customer_id=survivor.pk)
        elif duplicate is None:
            form.add_error(None, _("请选择要合并的重复客户。"))
        status = 422
    preview = (
        merge_preview(survivor=survivor, duplicate=duplicate)
        if duplicate is not None and duplicate.pk != survivor.pk
        else None
    )
    return render(
        request,
        "customers/customer_merge.html",
        {
            "customer": survivor,
            "q": q,
            "candidates": candidates,
            "duplicate": duplicate,
            "preview": preview,
            "form": form,
        },
        status=status,
    )


def _detail_url(customer_id: int, anchor: str) -> str:
    return f"{reverse('customers:detail', args=[customer_id])}#{anchor}"


# --- contacts, addresses, assets ----------------------------------------------------------

_PARTS: dict[str, dict[str, Any]] = {
    "contact": {
        "title_new": "新增联系人",
        "title_edit": "修改联系人",
        "form": ContactForm,
        "get": contact_get_for_user,
        "create": contact_create,
        "update": contact_update,
        "delete": contact_delete,
        "input": ContactInput,
        "anchor": "contacts-card",
    },
    "address": {
        "title_new": "新增地址",
        "title_edit": "修改地址",
        "form": AddressForm,
        "get": address_get_for_user,
        "create": address_create,
        "update": address_update,
        "delete": address_delete,
        "input": AddressInput,
        "anchor": "addresses-card",
    },
    "asset": {
        "title_new": "新增设备",
        "title_edit": "修改设备",
        "form": AssetForm,
        "get": asset_get_for_user,
        "create": asset_create,
        "update": asset_update,
        "delete": asset_delete,
        "input": AssetInput,
        "anchor": "assets-card",
    },
}


def _part_initial(part: str, obj: Any) -> dict[str, Any]:
    if part == "contact":
        return {
            "name": obj.name,
            "title": obj.title,
            "role": obj.role,
            "mobile": obj.mobile_masked,
            "email": obj.email,
            "is_primary": obj.is_primary,
        }
    if part == "address":
        return {
            "kind": obj.kind,
            "region": obj.region,
            "detail": obj.detail,
            "is_default": obj.is_default,
        }
    return {
        "product_model": obj.product_model,
        "serial_number": obj.serial_number,
        "purchase_date": obj.purchase_date,
        "warranty_end": obj.warranty_end,
        "address": obj.address_id or "",
        "note": obj.note,
    }


def _part_input(part: str, form: Any, obj: Any) -> Any:
    data = dict(form.cleaned_data)
    if part == "contact" and obj is not None and data["mobile"] == obj.mobile_masked:
        data["mobile"] = None  # the masked number came back unchanged: keep the stored one
    if part == "asset":
        data["address_id"] = data.pop("address")
        clear = [name for name in ("purchase_date", "warranty_end") if data[name] is None]
        return AssetInput(**data, clear=clear)
    return _PARTS[part]["input"](**data)


@login_required
def customer_part_view(
    request: HttpRequest, customer_id: int, part: str, part_id: int | None = None
) -> HttpResponse:
    """Add or edit a contact, an address or an asset of the customer (one page each)."""
    user = _user(request)
    spec = _PARTS[part]
    try:
        customer = _get(request, customer_id, write=True)
        obj = None
        if part_id is not None:
            obj = spec["get"](
                user=user, customer_id=customer.pk, **{f"{part}_id": part_id}, write=True
            )
    except NotFound:
        raise Http404(_("记录不存在。")) from None
    except Forbidden as exc:
        return _forbidden(request, exc)
    extra = {"addresses": list(address_list(customer=customer))} if part == "asset" else {}
    initial = _part_initial(part, obj) if obj is not None else {}
    form = spec["form"](request.POST or None, initial=initial, **extra)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = _part_input(part, form, obj)
            try:
                if obj is None:
                    spec["create"](actor=user, customer=customer, data=data)
                else:
                    spec["update"](actor=user, **{part: obj}, data=data)
            except ApplicationError as exc:
                form.add_service_errors(exc.fields or {"__all__": [exc.message]})
            else:
                messages.success(request, _("已保存。"))
                return redirect(_detail_url(customer.pk, spec["anchor"]))
        status = 422
    title = _(spec["title_new"] if obj is None else spec["title_edit"])
    return render(
        request,
        "customers/customer_part_form.html",
        {"customer": customer, "form": form, "title": title, "part": part, "obj": obj},
        status=status,
    )


@login_required
@require_POST
def customer_part_delete_view(
    request: HttpRequest, customer_id: int, part: str, part_id: int
) -> HttpResponse:
    user = _user(request)
    spec = _PARTS[part]
    try:
        obj = spec["get"](user=user, customer_id=customer_id, **{f"{part}_id": part_id}, write=True)
        spec["delete"](actor=user, **{part: obj})
    except NotFound:
        raise Http404(_("记录不存在。")) from None
    except Forbidden as exc:
        return _forbidden(request, exc)
    messages.success(request, _("已删除。"))
    return redirect(_detail_url(customer_id, spec["anchor"]))
