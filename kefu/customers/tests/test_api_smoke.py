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
