"""Who may do what to a customer of team A: every role, the superuser and an anonymous caller,
against every customer endpoint of the API and of the web pages.

Outside the caller's scope is 404 (ids don't leak); inside the scope without the permission is
403; without a login the API answers 401 and a page redirects to /login/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import ApiClient
from kefu.audit.models import AuditEvent
from kefu.customers.models import Customer
from kefu.customers.tests.factories import CustomerFactory
from kefu.org.models import User
from kefu.org.roles import ROLES

# Each persona's role and teams. agent_b is an agent of team B, the same department as team A.
PERSONAS: dict[str, tuple[str | None, tuple[str, ...], str]] = {
    "agent_a": ("agent", ("team_a",), "service"),
    "agent_b": ("agent", ("team_b",), "service"),
    "supervisor": ("supervisor", ("team_a",), "service"),
    "manager": ("manager", (), "service"),
    "gm": ("gm", (), "service"),
    "engineer": ("engineer", ("team_repair",), "repair"),
    "sales": ("sales", ("team_sales",), "sales"),
    "finance": ("finance", (), "service"),
    "quality": ("quality", (), "service"),
    "admin": ("admin", (), "service"),
    "auditor": ("auditor", (), "service"),
    "superuser": (None, (), "service"),
    "anonymous": (None, (), "service"),
}

ENDPOINTS: dict[str, tuple[str, str]] = {
    "api_list": ("GET", "/api/v1/customers"),
    "api_create": ("POST", "/api/v1/customers"),
    "api_detail": ("GET", "/api/v1/customers/{id}"),
    "api_patch": ("PATCH", "/api/v1/customers/{id}"),
    "api_reveal": ("POST", "/api/v1/customers/{id}/reveal"),
    "ui_list": ("GET", "/customers/"),
    "ui_new": ("GET", "/customers/new/"),
    "ui_detail": ("GET", "/customers/{id}/"),
    "ui_edit": ("GET", "/customers/{id}/edit/"),
    "ui_reveal": ("POST", "/customers/{id}/reveal/"),
    "ui_export": ("POST", "/customers/export/"),
    "ui_audit": ("GET", "/audit/"),
}

# The status each persona gets from each endpoint, for one customer served by team A.
EXPECTED_TABLE = """
persona     api_list api_create api_detail api_patch api_reveal ui_list ui_new ui_detail ui_edit ui_reveal ui_export ui_audit
agent_a     200      201        200        200       403        200     200    200       200     403       403       403
agent_b     200      201        404        404       404        200     200    404       404     404       403       403
supervisor  200      201        200        200       200        200     200    200       200     200       200       403
manager     200      201        200        200       200        200     200    200       200     200       200       200
gm          200      403        200        403       200        200     403    200       403     200       403       403
engineer    200      403        404        404       404        200     403    404       404     404       403       403
sales       200      201        404        404       404        200     200    404       404     404       403       403
finance     200      403        200        403       403        200     403    200       403     403       403       403
quality     200      403        200        403       403        200     403    200       403     403       403       403
admin       200      201        200        200       403        200     200    200       200     403       403       403
auditor     403      403        403        403       403        403     403    403       403     403       403       200
superuser   200      201        200        200       200        200     200    200       200     200       200       200
anonymous   401      401        401        401       401        302     302    302       302     302       302       302
"""  # noqa: E501 (a table reads best on one line a row)


def _parse(table: str) -> dict[tuple[str, str], int]:
    header, *rows = [line.split() for line in table.strip().splitlines()]
    return {
        (row[0], column): int(status)
        for row in rows
        for column, status in zip(header[1:], row[1:], strict=True)
    }


EXPECTED = _parse(EXPECTED_TABLE)

# Who finds the team A customer in the list (those who get 200 from the list, above).
SEES_IT_IN_THE_LIST = {
    "agent_a",
    "supervisor",
    "manager",
    "gm",
    "finance",
    "quality",
    "admin",
    "superuser",
}


@pytest.fixture
def persona(make_user: Callable[..., User], org: dict[str, Any]) -> Callable[[str], User | None]:
    def make(name: str) -> User | None:
        role, teams, department = PERSONAS[name]
        if name == "anonymous":
            return None
        if name == "superuser":
            return User.objects.create_superuser(
                username="root", password="pw-root", department=org[department]
            )
        return make_user(name, role, teams=teams, department=department)

    return make


@pytest.fixture
def customer_a(org: dict[str, Any]) -> Customer:
    return CustomerFactory.create(
        name="上海示例科技有限公司", serving_team=org["team_a"], region="上海市"
    )


def _audited_changes() -> int:
    """Audit events other than the sign-ins the test itself makes."""
    signing_in = [AuditEvent.Action.LOGIN, AuditEvent.Action.TOKEN]
    return AuditEvent.objects.exclude(action__in=signing_in).count()


def _call(user: User | None, endpoint: str, customer: Customer) -> Any:
    method, template = ENDPOINTS[endpoint]
    path = template.format(id=customer.pk)
    if endpoint.startswith("api_"):
        api = ApiClient(user)
        if method == "GET":
            return api.get(path)
        if method == "PATCH":
            return api.patch(path, {"region": "北京市"})
        if endpoint == "api_create":
            return api.post(path, {"name": "新客户", "mobile": "13900001111"})
        return api.post(path)
    client = Client()
    if user is not None:
        client.force_login(user)
    if method == "GET":
        return client.get(path)
    return client.post(path, {"q": ""})


def test_the_matrix_covers_every_role_and_every_endpoint() -> None:
    assert {role for role, _teams, _dept in PERSONAS.values()} - {None} == {r.code for r in ROLES}
    assert {persona for persona, _endpoint in EXPECTED} == set(PERSONAS)
    assert {endpoint for _persona, endpoint in EXPECTED} == set(ENDPOINTS)
    assert len(EXPECTED) == len(PERSONAS) * len(ENDPOINTS)


@pytest.mark.parametrize(
    ("who", "endpoint"),
    list(EXPECTED),
    ids=[f"{who}-{endpoint}" for who, endpoint in EXPECTED],
)
def test_each_caller_gets_the_expected_answer_from_each_endpoint(
    persona: Callable[[str], User | None], customer_a: Customer, who: str, endpoint: str
) -> None:
    # given
    user = persona(who)
    events_before = _audited_changes()
    # when
    response = _call(user, endpoint, customer_a)
    # then
    expected = EXPECTED[(who, endpoint)]
    assert response.status_code == expected, response.content[:300]
    if expected == 302:
        assert response["Location"].startswith("/login/?next=")
    if expected in (401, 403, 404) and endpoint.startswith("api_"):
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    if expected >= 300:
        # a refusal changes nothing and reveals nothing
        customer_a.refresh_from_db()
        assert customer_a.region == "上海市"
        assert Customer.objects.count() == 1
        assert _audited_changes() == events_before
        assert "13800" not in response.content.decode()


@pytest.mark.parametrize("who", [p for p in PERSONAS if EXPECTED[(p, "api_list")] == 200])
def test_the_api_list_holds_the_customer_only_for_those_who_may_see_it(
    persona: Callable[[str], User | None], customer_a: Customer, who: str
) -> None:
    body = ApiClient(persona(who)).get("/api/v1/customers").json()
    ids = [item["id"] for item in body["items"]]
    assert (customer_a.pk in ids) is (who in SEES_IT_IN_THE_LIST)
    assert body["count"] == len(ids)


@pytest.mark.parametrize("who", [p for p in PERSONAS if EXPECTED[(p, "ui_list")] == 200])
def test_the_web_list_holds_the_customer_only_for_those_who_may_see_it(
    persona: Callable[[str], User | None], customer_a: Customer, who: str
) -> None:
    client = Client()
    user = persona(who)
    assert user is not None
    client.force_login(user)
    page = client.get("/customers/").context["page"]
    assert (customer_a in page.object_list) is (who in SEES_IT_IN_THE_LIST)
    assert ("上海示例科技有限公司" in client.get("/customers/").content.decode()) is (
        who in SEES_IT_IN_THE_LIST
    )


# --- scope in detail ---------------------------------------------------------------------


def test_lists_and_searches_count_only_the_callers_teams(
    make_user: Callable[..., User], org: dict[str, Any], client: Client
) -> None:
    # given 3 customers of team A and 2 of team B, all with 示例 in the name
    for n in range(3):
        CustomerFactory.create(name=f"示例 A{n}", serving_team=org["team_a"])
    b_customers = [
        CustomerFactory.create(name=f"示例 B{n}", serving_team=org["team_b"]) for n in range(2)
    ]
    agent = make_user("agent_a", "agent", teams=("team_a",))
    api = ApiClient(agent)
    client.force_login(agent)
    b_number = b_customers[0].mobile_national
    # when / then: the API list and search
    assert api.get("/api/v1/customers").json()["count"] == 3
    found = api.get("/api/v1/customers", q="示例").json()
    assert (found["count"], sorted(i["name"] for i in found["items"])) == (
        3,
        ["示例 A0", "示例 A1", "示例 A2"],
    )
    assert api.get("/api/v1/customers", q="示例 B").json() == {"items": [], "count": 0}
    assert api.get("/api/v1/customers", q=b_number).json()["count"] == 0
    assert api.get("/api/v1/customers", q=b_number[-4:]).json()["count"] == 0
    # and the web list and search
    assert client.get("/customers/").context["page"].paginator.count == 3
    assert client.get("/customers/", {"q": "示例"}).context["page"].paginator.count == 3
    assert client.get("/customers/", {"q": b_number}).context["page"].paginator.count == 0


def test_sales_see_the_customers_they_own_and_those_of_their_team(
    make_user: Callable[..., User], org: dict[str, Any], customer_a: Customer
) -> None:
    # given
    sales = make_user("sales", "sales", teams=("team_sales",), department="sales")
    owned = CustomerFactory.create(name="我负责的客户", serving_team=org["team_a"], owner=sales)
    of_team = CustomerFactory.create(name="本组的客户", serving_team=org["team_sales"])
    api = ApiClient(sales)
    # when
    listed = api.get("/api/v1/customers").json()
    # then
    assert sorted(item["name"] for item in listed["items"]) == ["我负责的客户", "本组的客户"]
    assert api.get(f"/api/v1/customers/{owned.pk}").status_code == 200
    assert api.get(f"/api/v1/customers/{of_team.pk}").status_code == 200
    assert api.get(f"/api/v1/customers/{customer_a.pk}").status_code == 404


def test_a_supervisor_sees_every_team_of_the_department_and_no_other(
    make_user: Callable[..., User], org: dict[str, Any], customer_a: Customer
) -> None:
    # given
    of_team_b = CustomerFactory.create(serving_team=org["team_b"])
    of_repair = CustomerFactory.create(serving_team=org["team_repair"])
    supervisor = make_user("supervisor", "supervisor", teams=("team_a",))
    api = ApiClient(supervisor)
    # then
    listed = {item["id"] for item in api.get("/api/v1/customers").json()["items"]}
    assert listed == {customer_a.pk, of_team_b.pk}
    assert api.get(f"/api/v1/customers/{of_repair.pk}").status_code == 404


def test_a_supervisor_of_another_department_does_not_see_team_a(
    make_user: Callable[..., User], org: dict[str, Any], customer_a: Customer
) -> None:
    repair_lead = make_user("repair_lead", "supervisor", department="repair")
    of_repair = CustomerFactory.create(serving_team=org["team_repair"])
    api = ApiClient(repair_lead)
    assert api.get(f"/api/v1/customers/{customer_a.pk}").status_code == 404
    assert [i["id"] for i in api.get("/api/v1/customers").json()["items"]] == [of_repair.pk]


def test_an_engineer_sees_no_service_customer(
    make_user: Callable[..., User], org: dict[str, Any], customer_a: Customer
) -> None:
    CustomerFactory.create(serving_team=org["team_b"])
    engineer = make_user("engineer", "engineer", teams=("team_repair",), department="repair")
    assert ApiClient(engineer).get("/api/v1/customers").json() == {"items": [], "count": 0}


def test_a_user_without_any_role_sees_nothing(
    make_user: Callable[..., User], customer_a: Customer, client: Client
) -> None:
    nobody = make_user("nobody", None, teams=("team_a",))
    assert ApiClient(nobody).get("/api/v1/customers").status_code == 403
    client.force_login(nobody)
    assert client.get(f"/customers/{customer_a.pk}/").status_code == 403


def test_a_deactivated_agent_loses_the_web_pages(
    make_user: Callable[..., User], customer_a: Customer, client: Client
) -> None:
    agent = make_user("agent_a", "agent", teams=("team_a",))
    client.force_login(agent)
    assert client.get(f"/customers/{customer_a.pk}/").status_code == 200
    User.objects.filter(pk=agent.pk).update(is_active=False)
    response = client.get(f"/customers/{customer_a.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
