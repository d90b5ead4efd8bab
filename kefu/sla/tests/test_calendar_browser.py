"""A manager enters next year's State Council notice in a real browser (headless Chromium, as
kefu/web/tests): the calendar warns about the uncovered year, a bad make-up day is refused on
the form with nothing saved, the corrected notice shows on the year's calendar. Screenshots
land in test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kefu.org.models import User
from kefu.sla.models import CalendarDay, HolidayNotice
from kefu.web.tests.test_browser import browser, log_in, page, screenshot  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_manager_enters_a_notice_for_an_uncovered_year(
    page: Page,  # noqa: F811 (the fixture imported above)
    make_user: Callable[..., User],
) -> None:
    # given a manager looking at 2031, a year no holiday data covers
    log_in(page, make_user("zhaoliu", "manager"))
    page.locator('[data-nav-group="settings"]').click()  # the 设置 menu of the top bar
    page.get_by_role("link", name="工作日历").click()
    page.goto("/sla/calendar/?year=2031")
    expect(page.get_by_test_id("coverage-warning")).to_contain_text(
        "2031 年的法定节假日安排尚未录入"
    )
    screenshot(page, "sla-calendar-uncovered.png")

    # when they enter the notice with a make-up day on a Monday
    page.get_by_test_id("enter-notice").click()
    page.locator("#id_period_6_start").fill("2031-10-01")
    page.locator("#id_period_6_end").fill("2031-10-07")
    page.locator("#id_makeup_0_day").fill("2031-09-29")
    page.get_by_role("button", name="保存通知").click()
    # then the form says why and nothing is saved
    expect(page.locator('[data-field-error="makeup_0_day"]')).to_have_text(
        "2031-09-29 是工作日（周一至周五），调休上班日只能是周六或周日。"
    )
    screenshot(page, "sla-notice-refused.png")
    assert HolidayNotice.objects.count() == 0
    assert CalendarDay.objects.count() == 0

    # when they correct it to the Sunday before
    page.locator("#id_makeup_0_day").fill("2031-09-28")
    page.get_by_role("button", name="保存通知").click()
    # then the calendar of 2031 shows the week off and the make-up Sunday
    expect(page.get_by_role("alert").first).to_contain_text("已录入 2031 年节假日安排，共 8 天。")
    expect(page.locator('[data-date="2031-10-03"]')).to_have_attribute("data-workday", "0")
    expect(page.locator('[data-date="2031-09-28"]')).to_have_attribute("data-workday", "1")
    expect(page.get_by_text("2031 年的法定节假日安排尚未录入")).to_have_count(0)
    screenshot(page, "sla-calendar-2031.png")
