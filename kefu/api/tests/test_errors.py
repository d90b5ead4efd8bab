"""Every API error has one shape, {"error": {"code", "message", "fields"}}; pages count right."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import ApiClient
from kefu.api.models import ApiToken
from kefu.customers.models import Customer
from kefu.customers.tests.factories import CustomerFactory
from kefu.org.models import User

ApiAs = Callable[[User | None], ApiClient]


def assert_error(response: Any, status: int, code: str) -> dict[str, list[str]]:
    """The response is the one error shape with this status and code; returns its fields."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"].strip()
    assert isinstance(body["error"]["fields"], dict)
    return dict(body["error"]["fields"])


@pytest.fixture
def customer_a(org: dict[str, Any]) -> Customer:
    return CustomerFactory.create(name="上海示例科技有限公司", serving_team=org["team_a"])


# --- 400 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/customers"), ("patch", "/api/v1/customers/{id}")],
)
@pytest.mark.parametrize("body", ['{"name": "半截', "not json at all", "{'name': 'x'}"])
def test_a_body_that_is_not_json_is_a_400(
    agent: User, api_as: ApiAs, customer_a: Customer, method: str, path: str, body: str
) -> None:
    api = api_as(agent)
    send = getattr(api.client, method)
    # when
    response = send(
        path.format(id=customer_a.pk), body, content_type="application/json", headers=api.headers
    )
    # then
    assert_error(response, 400, "malformed")
    assert "JSON" in response.json()["error"]["message"]
    assert Customer.objects.count() == 1


def test_a_form_encoded_body_is_a_400_not_a_silent_empty_create(agent: User, api_as: ApiAs) -> None:
    api = api_as(agent)
    response = api.client.post("/api/v1/customers", {"name": "表单客户"}, headers=api.headers)
    assert_error(response, 400, "malformed")
    assert not Customer.objects.exists()


# --- 401 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer kf_not-a-real-token", "Token kf_x", "Basic YTpi"],
)
def test_a_missing_or_invalid_token_is_a_401(
    client: Client, org: dict[str, Any], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api/v1/customers", headers=headers)
    assert_error(response, 401, "unauthenticated")


def test_an_expired_token_is_a_401(client: Client, agent: User, api_as: ApiAs) -> None:
    # given a token that worked
    api = api_as(agent)
    assert api.get("/api/v1/customers").status_code == 200
    # when it expires
    ApiToken.objects.filter(user=agent).update(expires_at=timezone.now() - timedelta(seconds=1))
    # then
    assert_error(api.get("/api/v1/customers"), 401, "unauthenticated")


def test_a_401_leaks_nothing_about_the_resource(agent: User, customer_a: Customer) -> None:
    client = Client()
    existing = client.get(f"/api/v1/customers/{customer_a.pk}")
    missing = client.get("/api/v1/customers/987654")
    assert existing.json() == missing.json()
    assert_error(existing, 401, "unauthenticated")


# --- 403 ---------------------------------------------------------------------------------


def test_an_action_the_role_may_not_take_is_a_403(
    agent: User, api_as: ApiAs, customer_a: Customer
) -> None:
    response = api_as(agent).post(f"/api/v1/customers/{customer_a.pk}/reveal")
    assert_error(response, 403, "forbidden")


def test_a_role_without_customer_access_gets_a_403_on_the_list(
    auditor: User, api_as: ApiAs
) -> None:
    assert_error(api_as(auditor).get("/api/v1/customers"), 403, "forbidden")


# --- 404 ---------------------------------------------------------------------------------


def test_a_missing_customer_is_a_404(agent: User, api_as: ApiAs) -> None:
    assert_error(api_as(agent).get("/api/v1/customers/987654"), 404, "not_found")


def test_a_customer_outside_the_callers_scope_looks_exactly_like_a_missing_one(
    outsider: User, api_as: ApiAs, customer_a: Customer
) -> None:
    api = api_as(outsider)
    hidden = api.get(f"/api/v1/customers/{customer_a.pk}")
    missing = api.get(f"/api/v1/customers/{customer_a.pk + 1000}")
    assert_error(hidden, 404, "not_found")
    assert hidden.json() == missing.json()


@pytest.mark.parametrize(
    "path", ["/api/v1/nope", "/api/v1/customers/1/nope", "/api/v2/customers", "/api/"]
)
def test_an_unknown_api_path_is_a_json_404(agent: User, api_as: ApiAs, path: str) -> None:
    response = api_as(agent).get(path)
    assert_error(response, 404, "not_found")
    assert path in response.json()["error"]["message"]


def test_an_unknown_api_path_is_a_404_even_without_a_token(client: Client, db: None) -> None:
    assert_error(client.get("/api/v1/nope"), 404, "not_found")


# --- 422 ---------------------------------------------------------------------------------


def test_every_invalid_field_is_named_in_a_422(agent: User, api_as: ApiAs) -> None:
    # when
    response = api_as(agent).post(
        "/api/v1/customers",
        {"name": "", "kind": "robot", "region": "地" * 65, "note": "a\x00b"},
    )
    # then
    fields = assert_error(response, 422, "invalid")
    assert set(fields) == {"name", "kind", "region", "note"}
    for messages in fields.values():
        assert messages
        assert all(isinstance(message, str) and message for message in messages)
    assert fields["kind"] == ["取值不在允许范围内。"]
    assert not Customer.objects.exists()


def test_a_missing_required_field_is_named(agent: User, api_as: ApiAs) -> None:
    fields = assert_error(api_as(agent).post("/api/v1/customers", {}), 422, "invalid")
    assert fields == {"name": ["此项为必填项。"]}


def test_a_field_the_service_rejects_is_named_too(agent: User, api_as: ApiAs) -> None:
    response = api_as(agent).post("/api/v1/customers", {"name": "某客户", "mobile": "010-12345678"})
    fields = assert_error(response, 422, "invalid")
    assert list(fields) == ["mobile"]
    assert "010-12345678" in fields["mobile"][0]


def test_a_patch_with_a_bad_field_is_a_422_and_changes_nothing(
    agent: User, api_as: ApiAs, customer_a: Customer
) -> None:
    response = api_as(agent).patch(
        f"/api/v1/customers/{customer_a.pk}", {"region": "北京市", "mobile": "12345"}
    )
    assert list(assert_error(response, 422, "invalid")) == ["mobile"]
    customer_a.refresh_from_db()
    assert customer_a.region == "上海市"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"kind": "robot"}, "kind"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_list_parameters_are_a_422_naming_the_parameter(
    agent: User, api_as: ApiAs, params: dict[str, Any], field: str
) -> None:
    fields = assert_error(api_as(agent).get("/api/v1/customers", **params), 422, "invalid")
    assert list(fields) == [field]


def test_a_page_size_of_exactly_100_is_accepted(agent: User, api_as: ApiAs) -> None:
    assert api_as(agent).get("/api/v1/customers", page_size=100).status_code == 200


@pytest.mark.parametrize("customer_id", ["0", "-1", "9223372036854775808"])
def test_an_out_of_range_id_is_a_422_naming_the_id(
    agent: User, api_as: ApiAs, customer_id: str
) -> None:
    response = api_as(agent).get(f"/api/v1/customers/{customer_id}")
    assert list(assert_error(response, 422, "invalid")) == ["customer_id"]


# --- 429 ---------------------------------------------------------------------------------


def test_too_many_token_requests_are_a_429(client: Client, agent: User) -> None:
    def attempt() -> Any:
        return client.post(
            "/api/v1/auth/token",
            {"username": "agent", "password": "guess"},
            content_type="application/json",
        )

    for _ in range(30):
        assert attempt().status_code == 401
    assert_error(attempt(), 429, "throttled")


# --- pages -------------------------------------------------------------------------------


@pytest.fixture
def twenty_five_of_team_a(org: dict[str, Any]) -> list[int]:
    return [CustomerFactory.create(serving_team=org["team_a"]).pk for _ in range(25)]


def test_every_page_reports_the_total_and_the_pages_cover_each_customer_once(
    agent: User, api_as: ApiAs, twenty_five_of_team_a: list[int], org: dict[str, Any]
) -> None:
    # given 25 of team A and 3 of team B the agent must not count
    for _ in range(3):
        CustomerFactory.create(serving_team=org["team_b"])
    api = api_as(agent)
    # when
    pages = [api.get("/api/v1/customers", page=n, page_size=10).json() for n in (1, 2, 3)]
    # then
    assert [page["count"] for page in pages] == [25, 25, 25]
    assert [len(page["items"]) for page in pages] == [10, 10, 5]
    seen = [item["id"] for page in pages for item in page["items"]]
    assert sorted(seen) == sorted(twenty_five_of_team_a)


def test_a_page_beyond_the_end_is_empty_with_the_right_count(
    agent: User, api_as: ApiAs, twenty_five_of_team_a: list[int]
) -> None:
    response = api_as(agent).get("/api/v1/customers", page=4, page_size=10)
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 25}


def test_a_page_far_beyond_the_end_is_empty_too(
    agent: User, api_as: ApiAs, twenty_five_of_team_a: list[int]
) -> None:
    response = api_as(agent).get("/api/v1/customers", page=100_000, page_size=100)
    assert response.json() == {"items": [], "count": 25}


@pytest.mark.parametrize(("total", "page_size"), [(0, 10), (5, 10), (10, 10), (11, 10)])
def test_the_count_on_the_first_page_is_the_total(
    agent: User, api_as: ApiAs, org: dict[str, Any], total: int, page_size: int
) -> None:
    for _ in range(total):
        CustomerFactory.create(serving_team=org["team_a"])
    body = api_as(agent).get("/api/v1/customers", page_size=page_size).json()
    assert body["count"] == total
    assert len(body["items"]) == min(total, page_size)


def test_the_count_follows_the_search(
    agent: User, api_as: ApiAs, twenty_five_of_team_a: list[int], org: dict[str, Any]
) -> None:
    for n in range(12):
        CustomerFactory.create(name=f"杭州样例{n}号", serving_team=org["team_a"])
    CustomerFactory.create(name="杭州样例 B 组", serving_team=org["team_b"])
    body = api_as(agent).get("/api/v1/customers", q="杭州样例", page=2, page_size=5).json()
    assert body["count"] == 12
    assert len(body["items"]) == 5
