"""Shared test fixtures: personas for every role, API clients, and the CI strictness rule.

Under KEFU_CI_STRICT=1 (set by .ci/run) a test that skips because the machine lacks
something (Chromium, PostgreSQL) fails instead: in CI every test runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from kefu.api.tokens import token_issue
from kefu.org.models import Department, Membership, Team, User
from kefu.org.roles import ROLE_BY_CODE

STRICT = os.environ.get("KEFU_CI_STRICT") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and call.excinfo is not None:
        reason = str(call.excinfo.value)
        report.outcome = "failed"
        report.longrepr = f"KEFU_CI_STRICT=1: skips are failures in CI ({reason})"


@pytest.fixture
def org(db: None) -> dict[str, Any]:
    service = Department.objects.create(code="service", name="客服部")
    repair = Department.objects.create(code="repair", name="维修部")
    sales = Department.objects.create(code="sales", name="销售部")
    return {
        "service": service,
        "repair": repair,
        "sales": sales,
        "team_a": Team.objects.create(name="客服一组", department=service),
        "team_b": Team.objects.create(name="客服二组", department=service),
        "team_repair": Team.objects.create(name="维修一组", department=repair),
        "team_sales": Team.objects.create(name="华东销售组", department=sales),
    }


@pytest.fixture
def make_user(org: dict[str, Any]) -> Callable[..., User]:
    def make(
        username: str,
        role: str | None = None,
        *,
        teams: tuple[str, ...] = (),
        department: str = "service",
    ) -> User:
        user = User.objects.create_user(
            username=username,
            password="pw-" + username,
            display_name=username,
            department=org[department],
        )
        if role:
            user.groups.add(Group.objects.get(name=ROLE_BY_CODE[role].name))
        for key in teams:
            Membership.objects.create(user=user, team=org[key])
        return user

    return make


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user("agent", "agent", teams=("team_a",))


@pytest.fixture
def supervisor(make_user: Callable[..., User]) -> User:
    return make_user("supervisor", "supervisor", teams=("team_a",))


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager", "manager")


@pytest.fixture
def outsider(make_user: Callable[..., User]) -> User:
    """An agent of another team: sees none of team A's customers."""
    return make_user("outsider", "agent", teams=("team_b",))


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user("auditor", "auditor", department="service")


class ApiClient:
    """A test client that speaks JSON with a bearer token."""

    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token_issue(user=user)}"} if user else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(path, data, content_type="application/json", headers=self.headers)

    def patch(self, path: str, data: Any = None) -> Any:
        return self.client.patch(path, data, content_type="application/json", headers=self.headers)


@pytest.fixture
def api_as() -> Callable[[User | None], ApiClient]:
    return ApiClient
