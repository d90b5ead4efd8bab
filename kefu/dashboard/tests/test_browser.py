"""The dashboard in a real browser (Debian's headless Chromium through Playwright, as
kefu/web/tests): the supervisor opens it, the charts are drawn, a ticket is opened in the
database and the open count changes without a reload (the refresh shortened to 1 s); a bar of
the ageing chart and the open count lead to the tickets behind them.

Screenshots at 1366×768 and 1920×1080 land in var/ (dashboard-1366.png, dashboard-1920.png and
the full pages *-full.png) for people to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from kefu.desk.models import Ticket
from kefu.org.models import User
from kefu.web.tests.test_browser import browser, log_in  # noqa: F401

pytestmark = pytest.mark.browser

SHOTS = Path(django_settings.BASE_DIR) / "var"


def _page(browser: Browser, live_server: LiveServer, width: int, height: int) -> Page:  # noqa: F811
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}, locale="zh-CN"
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png")
    page.screenshot(path=SHOTS / f"{name}-full.png", full_page=True)


def test_the_dashboard_draws_its_charts_and_refreshes_in_place(
    browser: Browser,  # noqa: F811
    live_server: LiveServer,
    supervisor: User,
    org: dict[str, Any],
    desk: dict[str, Ticket],
    settings: Any,
) -> None:
    # given the refresh shortened to a second
    settings.KEFU_DASHBOARD_REFRESH_S = 1
    page = _page(browser, live_server, 1366, 768)
    log_in(page, supervisor)

    # when the supervisor opens 服务看板 from the navigation
    page.locator('a[data-nav="dashboard"]').click()
    expect(page).to_have_url(f"{live_server.url}/dashboard/")

    # then both charts are drawn: every open ticket of team A by state (T1 T2 T3 T4 T7), the
    # backlog (T4 is resolved, waiting to be closed) by age
    for chart in ("chart-status", "chart-age"):
        expect(page.get_by_test_id(chart).locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("chart-status")).to_have_attribute("data-drawn", "5")
    expect(page.get_by_test_id("chart-age")).to_have_attribute("data-drawn", "4")
    open_count = page.locator('[data-figure="tickets.open.count"]')
    expect(open_count).to_have_text("5")
    expect(page.get_by_test_id("urgent-rows").locator("tr")).to_have_count(2)
    page.evaluate("window.kefuNotReloaded = true")

    # when a ticket of team A is opened meanwhile
    Ticket.objects.create(
        number="GD20261126-000099",
        type="inquiry",
        channel="web",
        status="new",
        subject="新来的咨询",
        team=org["team_a"],
    )

    # then the count and the charts follow without a reload
    expect(open_count).to_have_text("6")
    expect(page.get_by_test_id("chart-status")).to_have_attribute("data-drawn", "6")
    assert page.evaluate("window.kefuNotReloaded") is True
    _shoot(page, "dashboard-1366")

    # and the open count leads to the six tickets
    page.get_by_test_id("figure-tickets.open").click()
    expect(page).to_have_url(f"{live_server.url}/tickets/?queue=open&team={org['team_a'].pk}")
    expect(page.get_by_text("共 6 张工单")).to_be_visible()

    # at 1920×1080 too
    wide = _page(browser, live_server, 1920, 1080)
    log_in(wide, supervisor)
    wide.goto("/dashboard/")
    expect(wide.get_by_test_id("chart-age")).to_have_attribute("data-drawn", "5")
    _shoot(wide, "dashboard-1920")

    # a bar leads to its tickets: the ageing chart's first bar, opened within a day (at least
    # the ticket just opened; the fixture's ages are relative to its own moment)
    wide.wait_for_timeout(1500)  # a refresh has drawn the latest counts
    counts = wide.evaluate(
        "fetch('/dashboard/data/').then(r => r.json()).then(d => d.tickets.by_age.counts)"
    )
    assert counts[0] >= 1
    box = wide.get_by_test_id("chart-age").bounding_box()
    assert box is not None
    # the first of five bars: a tenth of the plot's width (grid left 48, right 16) in, just
    # above the axis (grid bottom 48)
    wide.mouse.click(box["x"] + 48 + (box["width"] - 64) / 10, box["y"] + box["height"] - 52)
    team = org["team_a"].pk
    expect(wide).to_have_url(
        f"{live_server.url}/tickets/?queue=open&unresolved=1&age=lt1d&team={team}"
    )
    expect(wide.get_by_text(f"共 {counts[0]} 张工单")).to_be_visible()
