from __future__ import annotations

from collections.abc import Callable

from conftest import ApiClient
from kefu.org.models import User


def test_agent_creates_and_finds_customer(
    agent: User, api_as: Callable[[User | None], ApiClient]
) -> None:
    api = api_as(agent)
    created = api.post(
        "/api/v1/customers",
        {
            "name": "上海示例科技有限公司",
            "kind": "company",
            "mobile": "13812345678",
            "region": "上海市",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["mobile"] == "138****5678"
    found = api.get("/api/v1/customers", q="示例")
    assert found.json()["count"] == 1
    assert found.json()["items"][0]["id"] == body["id"]


def test_api_reports_every_bad_field_in_one_answer(
    agent: User, api_as: Callable[[User | None], ApiClient]
) -> None:
    # given a create with an empty name and a landline where a mobile belongs
    response = api_as(agent).post("/api/v1/customers", {"name": "", "mobile": "021-12345678"})
    # then both fields are named, in Chinese, and nothing is created
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"name", "mobile"}
    assert "手机号码" in fields["mobile"][0]
    assert api_as(agent).get("/api/v1/customers").json()["count"] == 0
