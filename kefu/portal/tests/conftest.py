"""Fixtures of the portal tests: SMS kept in memory, a known customer, a browser client and
a helper that posts the public form with its commit callbacks run (notices go out then)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from kefu.customers.models import Contact, Customer
from kefu.portal import sms

GOOD_FORM = {
    "type": "repair",
    "name": "李四",
    "mobile": "138 1234 5678",
    "email": "",
    "company": "",
    "subject": "空调漏水",
    "description": "办公室的空调一直在滴水，请派人上门。",
}


@pytest.fixture(autouse=True)
def _portal_settings(settings: Any) -> Iterator[None]:
    settings.SMS_BACKEND = "locmem"
    settings.PORTAL_RATE = "5/h"
    settings.PORTAL_URL = "https://kefu.example.com"
    settings.COMPANY_NAME = "海尔空调"
    settings.NOTICE_CHANNELS = ["sms", "email"]
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def customer(org: dict[str, Any]) -> Customer:
    customer = Customer.objects.create(
        name="上海海尔空调有限公司", serving_team=org["team_a"], mobile="+8613812345678"
    )
    Contact.objects.create(
        customer=customer,
        name="王五",
        mobile="+8613812345678",
        email="wangwu@haier.example.com",
        is_primary=True,
    )
    return customer


@pytest.fixture
def browser() -> Client:
    return Client()


@pytest.fixture
def submit(browser: Client, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    def post(ip: str = "203.0.113.7", files: list[Any] | None = None, **fields: Any) -> Any:
        data = {**GOOD_FORM, **fields}
        if files:
            data["files"] = files
        with django_capture_on_commit_callbacks(execute=True):
            return browser.post("/support/", data, REMOTE_ADDR=ip)

    return post
