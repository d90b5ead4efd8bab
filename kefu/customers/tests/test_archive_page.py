"""The 360° archive page: header badges, the credit alert rule, contacts, addresses, assets with
their warranty status, tags, consent, registered panels and the timeline."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kefu.customers import archive
from kefu.customers.archive import ArchivePanel, TimelineEvent
from kefu.customers.models import Address, Asset, Customer, Tag
from kefu.customers.tests.factories import CustomerFactory
from kefu.org.models import User

TEST_TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def customer(org: dict[str, Any]) -> Customer:
    customer = CustomerFactory.create(
        name="杭州示例电器有限公司", code="ERP-77", serving_team=org["team_a"]
    )
    Customer.objects.filter(pk=customer.pk).update(tier="diamond", credit_grade="A")
    customer.refresh_from_db()
    return customer


@pytest.fixture
def registry() -> Iterator[None]:
    """Panels and providers registered by a test leave with it."""
    panels, timeline = dict(archive._PANELS), dict(archive._TIMELINE)
    yield
    archive._PANELS.clear()
    archive._PANELS.update(panels)
    archive._TIMELINE.clear()
    archive._TIMELINE.update(timeline)


def _page(client: Client, user: User, customer: Customer) -> str:
    client.force_login(user)
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _set_credit(customer: Customer, *, limit: str, exposure: str) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        credit_limit=Decimal(limit), credit_exposure=Decimal(exposure)
    )


def test_the_header_shows_name_code_tier_and_credit(
    agent: User, customer: Customer, client: Client
) -> None:
    page = _page(client, agent, customer)
    assert "杭州示例电器有限公司" in page
    assert 'data-testid="customer-code">ERP-77<' in page
    assert "钻石</span>" in page
    assert "bg-purple" in page
    assert "信用 A" in page


@pytest.mark.parametrize(
    ("limit", "exposure", "alert"),
    [
        ("10000.00", "12000.50", True),
        ("10000.00", "10000.00", False),
        ("0.00", "5000.00", False),  # cash-only: no limit to pass
    ],
)
def test_the_credit_alert_shows_only_when_exposure_passes_a_positive_limit(
    agent: User, customer: Customer, client: Client, limit: str, exposure: str, alert: bool
) -> None:
    _set_credit(customer, limit=limit, exposure=exposure)
    page = _page(client, agent, customer)
    assert ('data-testid="archive-credit-alert"' in page) is alert
    if alert:
        assert "当前占用 ¥12,000.50，信用额度 ¥10,000.00。" in page


def test_contacts_are_masked_assets_show_warranty_and_tags_and_consent_show(
    agent: User, customer: Customer, client: Client
) -> None:
    today = timezone.localdate()
    address = Address.objects.create(customer=customer, region="杭州市", detail="文一路 1 号")
    Asset.objects.create(
        customer=customer,
        product_model="KF-35GW",
        serial_number="SN-IN",
        purchase_date=today - timedelta(days=200),
        warranty_end=today + timedelta(days=165),
        address=address,
    )
    Asset.objects.create(
        customer=customer,
        product_model="KF-72LW",
        serial_number="SN-OUT",
        purchase_date=today - timedelta(days=800),
        warranty_end=today - timedelta(days=1),
    )
    customer.tags.add(Tag.objects.create(name="重点客户"))
    Customer.objects.filter(pk=customer.pk).update(
        marketing_consent=True,
        marketing_consent_at=timezone.now(),
        marketing_consent_channel="门店纸质表单",
    )
    page = _page(client, agent, customer)
    assert customer.mobile_masked in page
    assert customer.mobile_national not in page
    assert "保内" in page
    assert "保外" in page
    assert "文一路 1 号" in page
    assert "重点客户" in page
    assert "门店纸质表单" in page


def test_registered_panels_and_timeline_events_appear_on_the_page(
    agent: User,
    customer: Customer,
    client: Client,
    settings: Any,
    registry: None,
) -> None:
    # given a context that plugs in a panel and a timeline provider
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], TEST_TEMPLATES]
    settings.TEMPLATES = templates
    archive.register_panel(
        ArchivePanel(
            key="test",
            title="测试",
            template="customers_test/panel.html",
            context=lambda customer, user: {"figure": "¥42.00"},
            wide=True,
        )
    )
    archive.register_panel(
        ArchivePanel(
            key="hidden",
            title="不可见",
            template="customers_test/panel.html",
            context=lambda customer, user: {"figure": "SECRET"},
            allowed=lambda user: False,
        )
    )
    archive.register_timeline_provider(
        "test",
        lambda customer, user, limit: [
            TimelineEvent(at=timezone.now(), kind="test", title="工单 T-1 已创建", icon="单")
        ],
    )
    # when
    page = _page(client, agent, customer)
    # then
    assert "测试面板：杭州示例电器有限公司 ¥42.00" in page
    assert 'class="col-12" data-panel="test"' in page
    assert "SECRET" not in page
    assert "工单 T-1 已创建" in page
    assert "建档" in page  # the archive's own provider: the customer's creation


def test_the_archive_timeline_lists_contact_changes_from_the_audit_log(
    agent: User, customer: Customer, client: Client
) -> None:
    client.force_login(agent)
    response = client.post(
        f"/customers/{customer.pk}/contacts/new/",
        {"name": "赵六", "role": "finance", "mobile": "13700001234"},
    )
    assert response.status_code == 302
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "新增联系人" in page
    assert "赵六" in page
    assert "137****1234" in page


def test_the_part_pages_edit_and_delete_an_asset_with_field_errors(
    agent: User, customer: Customer, client: Client
) -> None:
    client.force_login(agent)
    bad = client.post(
        f"/customers/{customer.pk}/assets/new/",
        {"product_model": "KF-1", "purchase_date": "2025-05-01", "warranty_end": "2025-04-01"},
    )
    assert bad.status_code == 422
    assert "保修截止日不能早于购买日期" in bad.content.decode()
    assert not Asset.objects.exists()
    good = client.post(
        f"/customers/{customer.pk}/assets/new/",
        {"product_model": "KF-1", "purchase_date": "2025-05-01", "warranty_end": "2026-04-30"},
    )
    assert good.status_code == 302
    asset = Asset.objects.get()
    edited = client.post(
        f"/customers/{customer.pk}/assets/{asset.pk}/edit/",
        {"product_model": "KF-2", "purchase_date": "2025-05-01", "warranty_end": ""},
    )
    assert edited.status_code == 302
    asset.refresh_from_db()
    assert (asset.product_model, asset.warranty_end) == ("KF-2", None)
    assert client.post(f"/customers/{customer.pk}/assets/{asset.pk}/delete/").status_code == 302
    assert not Asset.objects.exists()


def test_an_outsider_gets_404_from_the_part_pages(
    outsider: User, customer: Customer, client: Client
) -> None:
    address = Address.objects.create(customer=customer, detail="1 号")
    client.force_login(outsider)
    assert client.get(f"/customers/{customer.pk}/addresses/new/").status_code == 404
    assert client.get(f"/customers/{customer.pk}/addresses/{address.pk}/edit/").status_code == 404
    deleted = client.post(f"/customers/{customer.pk}/addresses/{address.pk}/delete/")
    assert deleted.status_code == 404
    assert Address.objects.exists()


def test_the_edit_form_keeps_an_id_number_it_does_not_show(
    agent: User, org: dict[str, Any], client: Client
) -> None:
    person = CustomerFactory.create(
        name="张三", kind="person", id_number="11010519491231002X", serving_team=org["team_a"]
    )
    client.force_login(agent)
    form = client.get(f"/customers/{person.pk}/edit/")
    assert "11010519491231002X" not in form.content.decode()
    assert "110105********002X" in form.content.decode()
    saved = client.post(
        f"/customers/{person.pk}/edit/",
        {
            "name": "张三",
            "kind": "person",
            "mobile": person.mobile_national,
            "lifecycle_stage": "active",
            "tags": "老客户，VIP",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    person.refresh_from_db()
    assert person.id_number == "11010519491231002X"
    assert sorted(person.tags.values_list("name", flat=True)) == ["VIP", "老客户"]


def test_only_who_may_handle_personal_data_requests_sees_the_link_to_them(
    agent: User, manager: User, customer: Customer, client: Client
) -> None:
    assert 'data-testid="privacy-link"' not in _page(client, agent, customer)
    assert f'href="/privacy/customers/{customer.pk}/"' in _page(client, manager, customer)
