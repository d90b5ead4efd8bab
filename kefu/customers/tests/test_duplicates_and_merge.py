"""Duplicate detection on create (same mobile, USCC, or name + region; no leak outside the
caller's scope) and the merge that moves every related record to the survivor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from conftest import ApiClient
from kefu.audit.models import AuditEvent
from kefu.core.exceptions import Conflict, Forbidden
from kefu.customers.models import Address, Asset, Contact, Customer, CustomerSearchGram, Tag
from kefu.customers.services import (
    CustomerInput,
    customer_create,
    customer_merge,
)
from kefu.customers.tests.factories import CustomerFactory
from kefu.orders.models import Order
from kefu.org.models import User
from kefu.tiering.models import CustomerTierState, TierChange

ApiAs = Callable[[User | None], ApiClient]
USCC = "91350100M000100Y43"


@pytest.fixture
def existing(org: dict[str, Any]) -> Customer:
    return CustomerFactory.create(
        name="上海示例科技有限公司",
        region="上海市",
        uscc=USCC,
        mobile="+8613812345678",
        serving_team=org["team_a"],
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"name": "另一家", "mobile": "13812345678"}, "手机号相同"),
        ({"name": "另一家", "uscc": USCC}, "统一社会信用代码相同"),
        ({"name": "上海示例科技有限公司", "region": "上海市"}, "名称和地区相同"),
    ],
)
def test_a_likely_duplicate_is_refused_with_409_listing_the_candidate(
    agent: User, api_as: ApiAs, existing: Customer, payload: dict[str, str], reason: str
) -> None:
    # when
    response = api_as(agent).post("/api/v1/customers", payload)
    # then
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "duplicate"
    assert set(error) == {"code", "message", "fields"}  # the one error shape
    assert error["fields"] == {
        f"duplicates.{existing.pk}": [f"上海示例科技有限公司（138****5678）：{reason}"]
    }
    assert Customer.objects.count() == 1


def test_a_contact_mobile_counts_as_a_duplicate_too(
    agent: User, api_as: ApiAs, existing: Customer
) -> None:
    Contact.objects.create(customer=existing, name="王五", mobile="+8613900001111")
    response = api_as(agent).post("/api/v1/customers", {"name": "王五", "mobile": "13900001111"})
    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == [f"duplicates.{existing.pk}"]


def test_force_true_creates_the_customer_anyway_and_the_audit_says_so(
    agent: User, api_as: ApiAs, existing: Customer
) -> None:
    response = api_as(agent).post(
        "/api/v1/customers", {"name": "另一家", "mobile": "13812345678", "force": True}
    )
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="create", object_id=response.json()["id"])
    assert event.changes["duplicate_confirmed"] == [existing.pk]


def test_a_duplicate_outside_the_callers_scope_is_named_without_details(
    outsider: User, api_as: ApiAs, existing: Customer
) -> None:
    response = api_as(outsider).post(
        "/api/v1/customers", {"name": "另一家", "mobile": "13812345678"}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate"
    assert error["fields"] == {}
    assert "与已有客户重复" in error["message"]
    assert "上海示例" not in response.content.decode()
    assert str(existing.pk) not in error["message"]


def test_a_merged_customer_is_no_duplicate_candidate(
    agent: User, org: dict[str, Any], existing: Customer
) -> None:
    survivor = CustomerFactory.create(serving_team=org["team_a"])
    Customer.objects.filter(pk=existing.pk).update(merged_into=survivor)
    Contact.objects.filter(customer=existing).delete()
    created = customer_create(actor=agent, data=CustomerInput(name="新客户", mobile="13812345678"))
    assert created.pk


def test_the_create_page_shows_the_candidates_and_a_still_create_checkbox(
    agent: User, existing: Customer, client: Client
) -> None:
    client.force_login(agent)
    form = {
        "name": "另一家",
        "kind": "company",
        "mobile": "13812345678",
        "lifecycle_stage": "active",
    }
    # when
    refused = client.post("/customers/new/", form)
    # then
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "上海示例科技有限公司" in page
    assert "仍然创建" in page
    assert Customer.objects.count() == 1
    # when confirmed
    created = client.post("/customers/new/", {**form, "force": "on"})
    assert created.status_code == 302
    assert Customer.objects.count() == 2


# --- merge -------------------------------------------------------------------------------


@pytest.fixture
def pair(org: dict[str, Any]) -> tuple[Customer, Customer]:
    survivor = CustomerFactory.create(
        name="保留客户", serving_team=org["team_a"], mobile="+8613800000001"
    )
    duplicate = CustomerFactory.create(
        name="重复客户",
        serving_team=org["team_a"],
        mobile="+8613800000002",
        code="ERP-2",
        uscc=USCC,
        industry="制造业",
    )
    return survivor, duplicate


def test_a_merge_moves_every_related_record_to_the_survivor(
    supervisor: User, pair: tuple[Customer, Customer]
) -> None:
    # given a duplicate with contacts, an address, an asset, orders, tags and tier history
    survivor, duplicate = pair
    address = Address.objects.create(customer=duplicate, detail="1号")
    Asset.objects.create(customer=duplicate, product_model="KF-1", address=address)
    for n in range(3):
        Order.objects.create(
            order_no=f"SO-{n}",
            customer=duplicate,
            date=date(2025, 1, n + 1),
            amount=Decimal("100.00"),
            content_hash=f"h{n}",
        )
    TierChange.objects.create(
        customer=duplicate, from_tier="ordinary", to_tier="gold", kind="recompute", reason="x"
    )
    CustomerTierState.objects.create(customer=survivor, computed_tier="silver")
    CustomerTierState.objects.create(customer=duplicate, computed_tier="gold")
    both, only_dup = Tag.objects.create(name="共有"), Tag.objects.create(name="仅重复")
    survivor.tags.add(both)
    duplicate.tags.add(both, only_dup)
    # when
    moved = customer_merge(
        actor=supervisor, survivor=survivor, duplicate=duplicate, reason="同一企业重复建档"
    )
    # then every record is the survivor's
    assert Order.objects.filter(customer=survivor).count() == 3
    assert Order.objects.filter(customer=duplicate).count() == 0
    assert TierChange.objects.filter(customer=survivor).count() == 1
    assert Asset.objects.get().customer_id == survivor.pk
    assert Address.objects.get().customer_id == survivor.pk
    assert Contact.objects.filter(customer=survivor).count() == 2
    assert moved["orders.Order"] == 3
    assert moved["customers.Contact"] == 1
    assert moved["tiering.TierChange"] == 1
    # one primary contact: the survivor's, and the customer's mobile follows it
    primary = Contact.objects.get(customer=survivor, is_primary=True)
    assert primary.mobile == "+8613800000001"
    # the survivor keeps its own tier state; the duplicate's is gone
    assert CustomerTierState.objects.get().customer_id == survivor.pk
    assert CustomerTierState.objects.get().computed_tier == "silver"
    # tags: the union
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["仅重复", "共有"]
    # empty fields filled from the duplicate, the code moved with them
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert (survivor.code, survivor.uscc, survivor.industry) == ("ERP-2", USCC, "制造业")
    assert survivor.mobile == "+8613800000001"
    # the duplicate is marked merged and ended
    assert duplicate.merged_into_id == survivor.pk
    assert duplicate.lifecycle_stage == Customer.Stage.ENDED
    assert duplicate.code is None
    assert not CustomerSearchGram.objects.filter(customer=duplicate).exists()
    # and the audit log says what moved and why
    event = AuditEvent.objects.get(object_id=survivor.pk, field="merge")
    assert event.changes["moved"]["orders.Order"] == 3
    assert event.changes["merged"] == duplicate.pk
    assert event.note == "同一企业重复建档"


def test_a_merge_re_points_customers_merged_earlier_into_the_duplicate(
    supervisor: User, org: dict[str, Any], pair: tuple[Customer, Customer]
) -> None:
    survivor, duplicate = pair
    older = CustomerFactory.create(serving_team=org["team_a"], merged_into=duplicate)
    customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate, reason="x")
    older.refresh_from_db()
    assert older.merged_into_id == survivor.pk


def test_a_merge_needs_the_permission_a_reason_and_two_live_customers(
    agent: User, supervisor: User, pair: tuple[Customer, Customer]
) -> None:
    survivor, duplicate = pair
    with pytest.raises(Forbidden):
        customer_merge(actor=agent, survivor=survivor, duplicate=duplicate, reason="x")
    with pytest.raises(Exception, match="有误"):
        customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate, reason=" ")
    with pytest.raises(Exception, match="有误"):
        customer_merge(actor=supervisor, survivor=survivor, duplicate=survivor, reason="x")
    customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate, reason="x")
    with pytest.raises(Conflict):
        customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate, reason="x")


def test_the_merge_api_answers_with_the_survivor_and_the_counts(
    supervisor: User, api_as: ApiAs, pair: tuple[Customer, Customer]
) -> None:
    survivor, duplicate = pair
    response = api_as(supervisor).post(
        f"/api/v1/customers/{survivor.pk}/merge",
        {"duplicate_id": duplicate.pk, "reason": "重复建档"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["survivor"]["id"] == survivor.pk
    assert body["survivor"]["code"] == "ERP-2"
    assert body["moved"]["customers.Contact"] == 1
    # the merged customer leaves the list but still opens, pointing at the survivor
    listed = api_as(supervisor).get("/api/v1/customers").json()
    assert [item["id"] for item in listed["items"]] == [survivor.pk]
    detail = api_as(supervisor).get(f"/api/v1/customers/{duplicate.pk}").json()
    assert detail["merged_into"] == survivor.pk


def test_the_merge_api_refuses_an_agent_with_403_and_a_duplicate_out_of_scope_with_404(
    agent: User, supervisor: User, org: dict[str, Any], pair: tuple[Customer, Customer]
) -> None:
    survivor, duplicate = pair
    forbidden = ApiClient(agent).post(
        f"/api/v1/customers/{survivor.pk}/merge", {"duplicate_id": duplicate.pk, "reason": "x"}
    )
    assert forbidden.status_code == 403
    repair = CustomerFactory.create(serving_team=org["team_repair"])
    hidden = ApiClient(supervisor).post(
        f"/api/v1/customers/{survivor.pk}/merge", {"duplicate_id": repair.pk, "reason": "x"}
    )
    assert hidden.status_code == 404
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0


def test_the_merge_page_searches_previews_and_confirms(
    supervisor: User, pair: tuple[Customer, Customer], client: Client
) -> None:
    survivor, duplicate = pair
    Order.objects.create(
        order_no="SO-1", customer=duplicate, date=date(2025, 1, 1), content_hash="h"
    )
    client.force_login(supervisor)
    url = f"/customers/{survivor.pk}/merge/"
    # search
    found = client.get(url, {"q": "重复"})
    assert found.status_code == 200
    assert [c.pk for c in found.context["candidates"]] == [duplicate.pk]
    # preview
    preview = client.get(url, {"duplicate": duplicate.pk})
    assert preview.context["preview"]["订单"] == 1
    assert "确认合并" in preview.content.decode()
    # a missing reason is refused
    assert client.post(url, {"duplicate": duplicate.pk, "reason": ""}).status_code == 422
    # confirm
    done = client.post(url, {"duplicate": duplicate.pk, "reason": "重复建档"})
    assert done.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    # the archive page of the survivor shows the merge in its timeline
    page = client.get(f"/customers/{survivor.pk}/").content.decode()
    assert "合并了重复客户“重复客户”" in page
    assert "已合并到" in client.get(f"/customers/{duplicate.pk}/").content.decode()


def test_an_agent_gets_403_from_the_merge_page_and_an_outsider_404(
    agent: User, outsider: User, pair: tuple[Customer, Customer], client: Client
) -> None:
    survivor, _duplicate = pair
    client.force_login(agent)
    assert client.get(f"/customers/{survivor.pk}/merge/").status_code == 403
    client.force_login(outsider)
    assert client.get(f"/customers/{survivor.pk}/merge/").status_code == 404
