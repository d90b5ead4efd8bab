"""The customer pages in a real browser: Playwright (sync API) driving Debian's headless Chromium
against pytest-django's live_server.

An agent logs in, opens 客户, creates a customer, sees it with the masked mobile, finds it again
with the htmx search (by name and by the last four digits), and switches the shell to English.
A bad mobile is refused with the field error in Chinese, and nothing is created.

Full-page screenshots land in test-artifacts/ (gitignored) for people to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from kefu.customers.models import Customer
from kefu.org.models import User

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
BASE_DIR = Path(settings.BASE_DIR)
VENDOR_BUILT = BASE_DIR / "kefu" / "static" / "vendor" / ".built"
ARTIFACTS = BASE_DIR / "test-artifacts"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} "
            "(install it with: sudo apt-get install -y chromium fonts-noto-cjk)"
        )
    if not VENDOR_BUILT.exists():
        pytest.skip(
            f"browser tests need the vendored CSS/JS ({VENDOR_BUILT} missing): run `make assets`"
        )
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls (make a
    # user, count customers) are still plain synchronous code, so tell Django not to refuse them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright: Playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, locale="zh-CN"
    )
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def log_in(page: Page, user: User, *, shot: str = "") -> None:
    page.goto("/login/")
    if shot:
        screenshot(page, shot)
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(f"pw-{user.username}")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_test_id("current-user")).to_have_text(user.username)


def search(page: Page, text: str) -> None:
    """Type into the search box and wait for htmx to swap in the results (no page load)."""
    box = page.locator("#customer-search")
    with page.expect_response(
        lambda response: (
            "/customers/?q=" in response.url
            and response.request.headers.get("hx-request") == "true"
        )
    ) as answer:
        box.fill(text)
    assert answer.value.ok
    expect(page).to_have_url(re.compile(r"[?&]q="))  # hx-push-url: the search can be shared


def test_an_agent_creates_a_customer_and_finds_it_again(
    page: Page, make_user: Callable[..., User], org: dict[str, Any]
) -> None:
    # given an agent of team A, who already serves another customer
    agent = make_user("zhangsan", "agent", teams=("team_a",))
    Customer.objects.create(
        name="北京另一家贸易有限公司", mobile="+8613900001111", serving_team=org["team_a"]
    )
    # when the agent logs in
    log_in(page, agent, shot="login.png")
    # then the shell shows the 客户 section, which lists the customers
    nav = page.locator('a[data-nav="customers"]')
    expect(nav).to_have_text("客户")
    nav.click()
    expect(page.get_by_role("heading", name="客户档案")).to_be_visible()
    # when the agent creates a customer
    page.get_by_test_id("new-customer").click()
    page.get_by_label("客户名称", exact=True).fill("杭州浏览器测试科技有限公司")
    page.get_by_label("手机号", exact=True).fill("13812345678")
    page.get_by_label("地区", exact=True).fill("浙江省杭州市")
    page.get_by_role("button", name="保存").click()
    # then the detail page shows the name and only the masked mobile
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    expect(page.get_by_test_id("customer-name")).to_contain_text("杭州浏览器测试科技有限公司")
    expect(page.get_by_test_id("contact-mobile")).to_have_text("138****5678")
    expect(page.locator("body")).not_to_contain_text("13812345678")
    screenshot(page, "customer-detail.png")
    # when the agent goes back to the list and searches part of the name
    page.get_by_role("link", name="客户档案").click()
    table = page.get_by_test_id("customer-table")
    expect(table).to_contain_text("北京另一家贸易有限公司")
    search(page, "浏览器测试")
    # then the results show the new customer, and only it
    expect(table).to_contain_text("杭州浏览器测试科技有限公司")
    expect(table).not_to_contain_text("北京另一家贸易有限公司")
    expect(table).to_contain_text("138****5678")
    screenshot(page, "customer-list.png")
    # and the last four digits of the mobile find it too
    search(page, "5678")
    expect(table).to_contain_text("杭州浏览器测试科技有限公司")
    expect(table).not_to_contain_text("北京另一家贸易有限公司")
    # when the agent switches the interface to English
    page.locator('select[name="language"]').select_option("en")
    # then the page comes back in English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator('a[data-nav="customers"]')).to_have_text("Customers")
    expect(page.get_by_test_id("customer-table")).to_contain_text("杭州浏览器测试科技有限公司")
    screenshot(page, "customer-list-en.png")
    page.get_by_role("link", name="杭州浏览器测试科技有限公司").click()
    expect(page.get_by_test_id("contact-mobile")).to_have_text("138****5678")
    screenshot(page, "customer-detail-en.png")


def test_a_bad_mobile_is_refused_in_chinese_and_nothing_is_created(
    page: Page, make_user: Callable[..., User]
) -> None:
    # given a logged-in agent on the new-customer form
    agent = make_user("lisi", "agent", teams=("team_a",))
    log_in(page, agent)
    page.goto("/customers/")
    page.get_by_test_id("new-customer").click()
    # when the mobile is not a mobile number
    page.get_by_label("客户名称", exact=True).fill("号码填错的客户")
    page.get_by_label("手机号", exact=True).fill("12345")
    page.get_by_role("button", name="保存").click()
    # then the form comes back with the error at the field, in Chinese
    error = page.locator('[data-field-error="mobile"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("不是有效的")
    expect(error).to_contain_text("12345")
    expect(page.get_by_role("alert")).to_contain_text("提交的内容有误")
    expect(page.get_by_label("客户名称", exact=True)).to_have_value("号码填错的客户")
    screenshot(page, "customer-form-error.png")
    # and nothing was created
    assert not Customer.objects.exists()
