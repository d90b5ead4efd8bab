"""The screen pop in a real browser (Debian's headless Chromium, as kefu/web/tests).

An agent with extension 8001 sits on the home page. bench/cti_replay.py, the script the lead's
walk uses, signs and posts a ringing event to the live server: the caller's card appears
without a reload within about a second; the card of an unknown number offers 新建客户, which
opens the customer form with the number filled in. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from kefu.calls.models import AgentLine, Call, CallbackTask
from kefu.customers.tests.factories import CustomerFactory
from kefu.org.models import User
from kefu.web.tests.test_browser import browser, log_in, page, screenshot  # noqa: F401

pytestmark = pytest.mark.browser


def _replay_script() -> ModuleType:
    path = settings.BASE_DIR / "bench" / "cti_replay.py"
    spec = importlib.util.spec_from_file_location("cti_replay", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_ringing_call_pops_the_callers_card_without_a_reload(
    page: Page,  # noqa: F811 (the fixture imported above)
    live_server: LiveServer,
    make_user: Callable[..., User],
    org: dict[str, Any],
) -> None:
    replay = _replay_script()
    secret = settings.CTI_SECRET
    # given an agent with a phone line and a known customer calling from 13812345678
    agent = make_user("zhangsan", "agent", teams=("team_a",))
    AgentLine.objects.create(user=agent, extension="8001")
    CustomerFactory.create(
        name="杭州西湖电器有限公司", mobile="+8613812345678", serving_team=org["team_a"]
    )
    log_in(page, agent)
    page.evaluate("window.kefuMarker = 'no reload'")
    card = page.get_by_test_id("screen-pop-card")
    expect(card).to_have_count(0)
    common = ["--url", live_server.url, "--secret", secret, "--agent", "8001"]
    # when the PBX says the call rings on extension 8001
    started = time.monotonic()
    assert replay.main([*common, "--call-id", "BR-1", "--order", "ringing"]) == 0
    # then the card shows within about a second (1 s poll), on the same page
    expect(card).to_be_visible(timeout=3_000)
    elapsed = time.monotonic() - started
    expect(card.get_by_test_id("pop-customer")).to_have_text("杭州西湖电器有限公司")
    expect(card.get_by_test_id("pop-number")).to_have_text("138****5678")
    assert page.evaluate("window.kefuMarker") == "no reload"
    assert elapsed < 2.5, f"the pop took {elapsed:.2f} s"
    screenshot(page, "screen-pop-known.png")
    # when the call is answered and ends, retried and in the wrong order
    assert replay.main([*common, "--call-id", "BR-1", "--order", "hangup,answered", "--retry"]) == 0
    call = Call.objects.get(call_id="BR-1")
    assert call.outcome == Call.Outcome.ANSWERED
    assert call.talk_seconds is not None
    assert call.talk_seconds > 0
    # (the hang-up, first to arrive, opened a callback; the late answer withdrew it)
    assert list(CallbackTask.objects.values_list("status", flat=True)) == ["cancelled"]

    # when an unknown number rings on the same agent
    assert (
        replay.main([*common, "--call-id", "BR-2", "--caller", "13900001111", "--order", "ringing"])
        == 0
    )
    new_customer = page.get_by_test_id("pop-new-customer")
    expect(new_customer).to_be_visible(timeout=3_000)
    expect(page.get_by_test_id("pop-number")).to_have_text("139****1111")
    screenshot(page, "screen-pop-unknown.png")
    # then 新建客户 opens the customer form with the number filled in
    new_customer.click()
    expect(page.get_by_label("手机号", exact=True)).to_have_value("13900001111")
