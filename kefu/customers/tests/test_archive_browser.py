"""The archive page in a real browser (Debian's headless Chromium, as kefu/web/tests): a
supervisor opens a customer with a credit alert, panels' place, contacts, an asset and tags, and
reveals the contacts' numbers; full-page screenshots land in test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from kefu.customers.models import Address, Asset, Customer, Tag
from kefu.customers.tests.factories import CustomerFactory
from kefu.org.models import User
from kefu.web.tests.test_browser import browser, log_in, page, screenshot  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_supervisor_reads_the_archive_page_and_reveals_the_numbers(
    page: Page,  # noqa: F811 (the fixture imported above)
    make_user: Callable[..., User],
    org: dict[str, Any],
) -> None:
    # given a diamond customer over its credit limit, with an asset, an address and tags
    supervisor = make_user("lisi", "supervisor", teams=("team_a",))
    customer = CustomerFactory.create(
        name="杭州示例电器有限公司",
        code="ERP-0042",
        uscc="91350100M000100Y43",
        region="浙江省杭州市",
        industry="家电零售",
        source="展会",
        mobile="+8613812345678",
        serving_team=org["team_a"],
    )
    Customer.objects.filter(pk=customer.pk).update(
        tier="diamond",
        credit_grade="B",
        credit_score=72,
        credit_limit=Decimal("50000.00"),
        credit_exposure=Decimal("61234.50"),
        marketing_consent=True,
        marketing_consent_at=timezone.now(),
        marketing_consent_channel="门店纸质表单",
    )
    address = Address.objects.create(
        customer=customer, kind="site", region="浙江省杭州市", detail="西湖区文一路 1 号"
    )
    today = timezone.localdate()
    Asset.objects.create(
        customer=customer,
        product_model="KFR-35GW",
        serial_number="SN20250310001",
        purchase_date=today - timedelta(days=200),
        warranty_end=today + timedelta(days=165),
        address=address,
    )
    customer.tags.add(Tag.objects.create(name="重点客户"), Tag.objects.create(name="经销商"))
    # when
    log_in(page, supervisor)
    page.goto(f"/customers/{customer.pk}/")
    # then
    expect(page.get_by_test_id("tier-badge")).to_have_text("钻石")
    expect(page.get_by_test_id("archive-credit-alert")).to_be_visible()
    expect(page.get_by_test_id("credit-exposure")).to_have_text("¥61,234.50")
    expect(page.get_by_test_id("contact-mobile").first).to_have_text("138****5678")
    expect(page.get_by_test_id("warranty")).to_have_text("保内")
    expect(page.get_by_test_id("timeline")).to_contain_text("建档")
    screenshot(page, "customer-archive.png")
    page.get_by_test_id("reveal").click()
    expect(page.get_by_test_id("contact-mobile").first).to_have_text("13812345678")
    # and the merge page is one click away
    page.get_by_test_id("merge-link").click()
    expect(page.get_by_role("heading", name="合并重复客户")).to_be_visible()
    screenshot(page, "customer-merge.png")
