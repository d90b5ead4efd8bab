"""Shared test fixtures: personas for every role, API clients, and the CI strictness rule.

Under KEFU_CI_STRICT=1 (set by .ci/run) a test that skips because the machine lacks
something (Chromium, PostgreSQL) fails instead: in CI every test runs.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from django.test import Client
from django.utils import translation

from kefu.api.tokens import token_issue
from kefu.core import versioned
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


_AUDIT_TRIGGERS = importlib.import_module("kefu.audit.migrations.0003_append_only_trigger")


@contextmanager
def _audit_triggers_suspended(connection: BaseDatabaseWrapper) -> Iterator[None]:
    def run(postgresql: list[str], sqlite: list[str]) -> None:
        statements = {"postgresql": postgresql, "sqlite": sqlite}.get(connection.vendor, [])
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    trigger = "audit_auditevent_append_only"
    run([f"ALTER TABLE audit_auditevent DISABLE TRIGGER {trigger}"], _AUDIT_TRIGGERS.SQLITE_DOWN)
    try:
        yield
    finally:
        run([f"ALTER TABLE audit_auditevent ENABLE TRIGGER {trigger}"], _AUDIT_TRIGGERS.SQLITE_UP)


@pytest.fixture(scope="session", autouse=True)
def _flush_past_audit_triggers() -> Iterator[None]:
    """Tests that run outside a transaction (``transaction=True``, ``live_server``) end with a
    flush, which the audit log's append-only triggers refuse (a DELETE on SQLite, a TRUNCATE on
    PostgreSQL). Let that flush, and only it, through; the triggers are back right after."""
    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
        with _audit_triggers_suspended(self.connection):
            original(self, sql_list)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseDatabaseOperations, "execute_sql_flush", execute_sql_flush)
        patch.setattr(PostgresOperations, "sql_flush", _postgres_flush_by_delete)
        yield


_POSTGRES_TRUNCATE = PostgresOperations.sql_flush


def _postgres_flush_by_delete(
    self: PostgresOperations,
    style: Any,
    tables: list[str],
    *,
    reset_sequences: bool = False,
    allow_cascade: bool = False,
) -> list[str]:
    """The flush after a transactional test, on PostgreSQL: DELETE the rows of the tables that
    have any, instead of one TRUNCATE of all ~70 tables. TRUNCATE gives every table a new file
    and took 0.8 s on an idle machine and 2.5-4 s under the suite's load, some 45 times a run;
    a test leaves rows in a handful of small tables, and one query finds which. Django's
    foreign keys are DEFERRABLE INITIALLY DEFERRED, and the flush runs in one transaction, so
    the order of the DELETEs does not matter. (Neither TRUNCATE without RESTART IDENTITY nor
    DELETE resets sequences; when a flush asks for that, it gets Django's own statements.)"""
    if reset_sequences or not tables:
        return _POSTGRES_TRUNCATE(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    quote = self.quote_name
    probe = " UNION ALL ".join(
        # the table names are Django's own, from introspection, and quoted
        f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})"  # noqa: S608
        for table in tables
    )
    with self.connection.cursor() as cursor:
        cursor.execute(probe, tables)
        filled = [row[0] for row in cursor.fetchall()]
    return [f"DELETE FROM {quote(table)}" for table in filled]  # noqa: S608


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: rate-limit counters (POST /api/v1/auth/token allows
    30 a minute per address) must not carry over from the tests before, nor a screen pop
    (the "calls" cache) left for a user id the next test's user gets again."""
    for each in caches.all():
        each.clear()
    versioned.forget_local()  # the process's copies made under the last test's tokens


@pytest.fixture(autouse=True)
def _default_language() -> None:
    """Each test starts in the default language: a request that asked for English
    (Accept-Language: en) leaves it active in the thread, and the next test on that worker
    would read English messages."""
    translation.activate(settings.LANGUAGE_CODE)


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
def scope_people(make_user: Callable[..., User]) -> dict[str, User]:
    """One person per kind of data scope: an agent of team A, a supervisor of team B, a
    manager (everything) and an agent in no team (only what is theirs)."""
    return {
        "agent": make_user("zhangsan", "agent", teams=("team_a",)),
        "supervisor": make_user("lisi", "supervisor", teams=("team_b",)),
        "manager": make_user("wangwu", "manager"),
        "nobody": make_user("zhaoliu", "agent"),
    }


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


@pytest.fixture
def superuser(org: dict[str, Any]) -> User:
    return User.objects.create_superuser(
        username="root",
        password="pw-root",  # noqa: S106 (a test persona)
        display_name="root",
        department=org["service"],
    )


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
