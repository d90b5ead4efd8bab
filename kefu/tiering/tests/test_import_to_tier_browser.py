"""From an order file to a tier, in a real browser (Debian's headless Chromium, as kefu/web/tests).

A 客服经理 uploads an order file with bad rows: nothing is imported and exactly those rows are
reported. They fix the file and import it, recompute the tiers, and the archive page shows the
customer's new tier with the reason and the figures. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, expect

from kefu.customers.models import Customer
from kefu.customers.tests.factories import CustomerFactory
from kefu.orders.models import Order
from kefu.org.models import User
from kefu.tiering.models import TierRuleSet
from kefu.web.tests.test_browser import browser, log_in, page, screenshot  # noqa: F401

pytestmark = pytest.mark.browser

HEADER = "订单号,客户编码,下单日期,应付款日,付款日,产品,数量,金额,成本"


def order_file(rows: list[str]) -> FilePayload:
    content = "\n".join([HEADER, *rows]) + "\n"
    return {"name": "orders.csv", "mimeType": "text/csv", "buffer": content.encode("utf-8")}


def upload(tab: Page, file: FilePayload) -> None:
    tab.goto("/orders/import/")
    tab.set_input_files("#import-file", files=[file])
    tab.get_by_role("button", name="上传并导入").click()


def test_a_manager_imports_orders_and_sees_the_customer_move_tier(
    page: Page,  # noqa: F811 (the fixture imported above)
    make_user: Callable[..., User],
    org: dict[str, Any],
) -> None:
    # given the default rule set (live-server tests flush the database after them, rows of
    # data migrations included, so an earlier one in this process may have removed it)
    if not TierRuleSet.objects.filter(is_active=True).exists():
        import_module("kefu.tiering.migrations.0002_fill_default_rule_set").create_default(
            apps, None
        )
    # and a manager and two customers known to the sales system, both 普通 so far
    manager = make_user("wangwu", "manager", teams=("team_a",))
    big = CustomerFactory.create(
        name="宁波甬江机电有限公司", code="C-BR-001", serving_team=org["team_a"]
    )
    small = CustomerFactory.create(
        name="温州小商品贸易行", code="C-BR-002", serving_team=org["team_a"]
    )
    # finance rated both B (a new customer's neutral grade C would cap the tier at 银)
    Customer.objects.filter(pk__in=[big.pk, small.pk]).update(credit_grade="B")
    day = (timezone.localdate() - timedelta(days=30)).isoformat()
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    good_rows = [
        f"SO-BR-0001,C-BR-001,{day},{due},,工业空调 KFR-120,10,60000.00,40000.00",
        f"SO-BR-0001,C-BR-001,{day},{due},,安装服务,1,5000.00,1000.00",
        f"SO-BR-0002,C-BR-002,{day},{due},,净水器 RO-50,2,3000.00,2400.00",
    ]
    log_in(page, manager)

    # when the manager uploads a file with a negative quantity and an unknown customer code
    upload(
        page,
        order_file(
            [
                good_rows[0],
                f"SO-BR-0001,C-BR-001,{day},{due},,安装服务,-1,5000.00,1000.00",
                f"SO-BR-0003,C-NOBODY,{day},{due},,净水器 RO-50,1,1500.00,1200.00",
            ]
        ),
    )
    # then the file is rejected whole, with exactly those two rows and their reasons
    job = page.get_by_test_id("import-job")
    expect(job).to_have_attribute("data-status", "rejected")
    errors = page.get_by_test_id("import-errors").locator("tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("3")
    expect(errors.nth(0)).to_contain_text("数量")
    expect(errors.nth(1)).to_contain_text("4")
    expect(errors.nth(1)).to_contain_text("C-NOBODY")
    screenshot(page, "orders-import-rejected.png")
    assert Order.objects.count() == 0

    # when the manager uploads the corrected file
    upload(page, order_file(good_rows))
    # then both orders are imported
    expect(page.get_by_test_id("import-job")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("import-result")).to_contain_text("2")
    screenshot(page, "orders-import-done.png")
    assert Order.objects.count() == 2

    # and the archive still shows the old tier until the tiers are recomputed
    page.goto(f"/customers/{big.pk}/")
    expect(page.get_by_test_id("tier-badge")).to_have_text("普通")

    # when the manager recomputes the tiers now
    page.goto("/tiers/")
    with page.expect_response(
        lambda response: "/tiers/recompute" in response.url and response.request.method == "POST",
        timeout=30_000,
    ) as answer:
        page.get_by_test_id("recompute").click()
    assert answer.value.ok
    expect(page.get_by_text("重算完成")).to_be_visible()

    # then the big customer is 钻石 on its archive page, with the reason and the figures
    page.goto(f"/customers/{big.pk}/")
    expect(page.get_by_test_id("tier-badge")).to_have_text("钻石")
    expect(page.get_by_test_id("tier-reason")).to_contain_text("近12个月毛利 ¥24,000.00")
    expect(page.get_by_test_id("tier-changes")).to_contain_text("钻石")
    screenshot(page, "archive-after-tier-recompute.png")
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.tier, small.tier) == ("diamond", "ordinary")
