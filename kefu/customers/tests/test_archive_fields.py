"""The archive fields: customer code, USCC, ID number (masked), source, stage, tags, owner,
marketing consent; contacts, addresses and assets through the API; every change audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import ApiClient
from kefu.audit.models import AuditEvent
from kefu.customers.identifiers import (
    mask_id_number,
    normalize_id_number,
    normalize_uscc,
)
from kefu.customers.models import Contact, Customer
from kefu.customers.tests.factories import CustomerFactory
from kefu.org.models import User

ApiAs = Callable[[User | None], ApiClient]
USCC = "91350100M000100Y43"  # a valid code (its GB 32100-2015 check character is 3)
ID_NUMBER = "11010519491231002X"


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_a_unified_social_credit_code_with_the_right_check_character_passes(code: str) -> None:
    assert normalize_uscc(code.lower()) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y44", "校验位"),
        ("91350100M000100Y4", "18 位"),
        ("91350100M000100I43", "不允许的字符"),
    ],
)
def test_a_bad_unified_social_credit_code_is_refused_with_the_reason(
    code: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_uscc(code)


def test_an_id_number_is_checked_and_masked_six_plus_four() -> None:
    assert normalize_id_number("11010519491231002x") == ID_NUMBER
    with pytest.raises(ValueError, match="校验位"):
        normalize_id_number("110105194912310021")
    assert mask_id_number(ID_NUMBER) == "110105********002X"


def test_the_api_creates_a_customer_with_every_archive_field(
    agent: User, make_user: Callable[..., User], api_as: ApiAs
) -> None:
    # given a sales rep to own the customer
    rep = make_user("rep", "sales", teams=("team_sales",), department="sales")
    # when
    response = api_as(agent).post(
        "/api/v1/customers",
        {
            "name": "福州示例有限公司",
            "code": "C-0001",
            "uscc": USCC.lower(),
            "source": "展会",
            "lifecycle_stage": "prospect",
            "tags": ["经销商", "重点客户", "经销商"],
            "owner_id": rep.pk,
            "marketing_consent": True,
            "marketing_consent_channel": "官网勾选",
            "marketing_consent_evidence": "FORM-42",
        },
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "C-0001"
    assert body["uscc"] == USCC
    assert body["tags"] == ["经销商", "重点客户"]
    assert body["owner"] == {"id": rep.pk, "name": "rep"}
    assert body["lifecycle_stage"] == "prospect"
    assert body["marketing"]["consent"] is True
    assert body["marketing"]["consent_at"] is not None
    assert body["marketing"]["channel"] == "官网勾选"
    assert (body["tier"], body["tier_display"]) == ("ordinary", "普通")
    assert body["credit_grade"] in {"A", "B", "C", "D"}  # graded from creation on (kefu.credit)
    assert body["credit_exposure"] == "0.00"
    assert body["credit_over_limit"] is False


def test_bad_archive_fields_are_all_reported_in_chinese(
    agent: User, api_as: ApiAs, make_user: Callable[..., User]
) -> None:
    # given a code in use and someone who is not a sales rep
    CustomerFactory.create(code="C-1")
    other_agent = make_user("other", "agent", teams=("team_a",))
    # when
    response = api_as(agent).post(
        "/api/v1/customers",
        {
            "name": "某公司",
            "code": "C-1",
            "uscc": "91350100M000100Y44",
            "id_number": ID_NUMBER,
            "owner_id": other_agent.pk,
        },
    )
    # then
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"code", "uscc", "id_number", "owner_id"}
    assert "已被其他客户使用" in fields["code"][0]
    assert "校验位" in fields["uscc"][0]
    assert "个人客户" in fields["id_number"][0]
    assert "销售" in fields["owner_id"][0]


def test_an_id_number_is_masked_unless_the_caller_may_reveal_it(
    agent: User, supervisor: User, api_as: ApiAs
) -> None:
    # given
    created = api_as(agent).post(
        "/api/v1/customers", {"name": "张三", "kind": "person", "id_number": ID_NUMBER}
    )
    assert created.status_code == 201, created.content
    customer_id = created.json()["id"]
    # then the agent sees it masked, the supervisor (may reveal) in full
    assert created.json()["id_number"] == "110105********002X"
    detail = api_as(agent).get(f"/api/v1/customers/{customer_id}").json()
    assert detail["id_number"] == "110105********002X"
    assert api_as(supervisor).get(f"/api/v1/customers/{customer_id}").json()["id_number"] == (
        ID_NUMBER
    )
    # and the audit log holds only the masked number
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, object_id=customer_id)
    assert event.changes["id_number"] == "110105********002X"


def test_the_archive_page_shows_the_id_number_masked(
    agent: User, org: dict[str, Any], client: Any
) -> None:
    customer = CustomerFactory.create(
        kind=Customer.Kind.PERSON, id_number=ID_NUMBER, serving_team=org["team_a"]
    )
    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "110105********002X" in page
    assert ID_NUMBER not in page


def test_a_patch_changes_tags_code_and_owner_and_is_audited(
    agent: User, org: dict[str, Any], api_as: ApiAs, make_user: Callable[..., User]
) -> None:
    # given
    rep = make_user("rep", "sales", teams=("team_sales",), department="sales")
    customer = CustomerFactory.create(serving_team=org["team_a"], owner=rep)
    api = api_as(agent)
    # when
    response = api.patch(
        f"/api/v1/customers/{customer.pk}",
        {"tags": ["新标签"], "code": "K-9", "owner_id": None, "marketing_opt_out": True},
    )
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tags"], body["code"], body["owner"]) == (["新标签"], "K-9", None)
    assert body["marketing"]["opt_out"] is True
    assert body["marketing"]["opt_out_at"] is not None
    event = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=customer.pk).get()
    assert event.changes["tags"] == [[], ["新标签"]]
    assert event.changes["code"] == [None, "K-9"]
    assert event.changes["owner"] == [rep.pk, None]


def test_the_list_filters_by_tier_grade_tag_owner_region_kind_and_stage(
    agent: User, org: dict[str, Any], api_as: ApiAs, make_user: Callable[..., User]
) -> None:
    # given
    rep = make_user("rep", "sales", teams=("team_sales",), department="sales")
    team = org["team_a"]
    gold = CustomerFactory.create(name="金客户", region="上海市", serving_team=team)
    graded_d = CustomerFactory.create(name="D客户", serving_team=team)
    # tier and grade belong to kefu.tiering and kefu.credit: set them as their services would
    Customer.objects.filter(pk=gold.pk).update(tier="gold", credit_grade="B")
    Customer.objects.filter(pk=graded_d.pk).update(credit_grade="D")
    owned = CustomerFactory.create(name="有销售", owner=rep, serving_team=team, region="北京市")
    person = CustomerFactory.create(name="个人", kind="person", serving_team=team)
    dormant = CustomerFactory.create(name="休眠", lifecycle_stage="dormant", serving_team=team)
    merged = CustomerFactory.create(name="已合并", serving_team=team, merged_into=gold)
    api = api_as(agent)
    api.patch(f"/api/v1/customers/{gold.pk}", {"tags": ["重点"]})

    def ids(**params: Any) -> set[int]:
        return {item["id"] for item in api.get("/api/v1/customers", **params).json()["items"]}

    # then
    assert ids(tier="gold") == {gold.pk}
    assert ids(credit_grade="D") == {graded_d.pk}
    assert ids(tag="重点") == {gold.pk}
    assert ids(owner_id=rep.pk) == {owned.pk}
    assert ids(region="北京") == {owned.pk}
    assert ids(kind="person") == {person.pk}
    assert ids(lifecycle_stage="dormant") == {dormant.pk}
    assert merged.pk not in ids()
    assert merged.pk in ids(include_merged="true")
    bad = api.get("/api/v1/customers", tier="platinum")
    assert bad.status_code == 422
    assert "tier" in bad.json()["error"]["fields"]


def test_the_web_list_filters_too(agent: User, org: dict[str, Any], client: Any) -> None:
    CustomerFactory.create(name="金客户", tier="gold", serving_team=org["team_a"])
    CustomerFactory.create(name="普通客户", serving_team=org["team_a"])
    client.force_login(agent)
    page = client.get("/customers/", {"tier": "gold", "owner": "99999999999999999999999"})
    assert [c.name for c in page.context["page"].object_list] == ["金客户"]


# --- contacts, addresses, assets ---------------------------------------------------------


def test_contacts_are_added_edited_and_removed_with_one_primary_that_sets_the_mobile(
    agent: User, org: dict[str, Any], api_as: ApiAs
) -> None:
    # given a customer with a primary contact 13800000001
    customer = CustomerFactory.create(mobile="+8613800000001", serving_team=org["team_a"])
    api = api_as(agent)
    base = f"/api/v1/customers/{customer.pk}/contacts"
    # when a second contact is added as the primary one
    added = api.post(
        base,
        {"name": "李四", "role": "purchasing", "mobile": "139 0000 0002", "is_primary": True},
    )
    # then
    assert added.status_code == 201, added.content
    assert added.json()["mobile"] == "139****0002"
    customer.refresh_from_db()
    assert customer.mobile == "+8613900000002"
    assert Contact.objects.filter(customer=customer, is_primary=True).count() == 1
    # when the primary contact is removed, the other one takes over
    removed = api.client.delete(f"{base}/{added.json()['id']}", headers=api.headers)
    assert removed.status_code == 204
    customer.refresh_from_db()
    assert customer.mobile == "+8613800000001"
    # and an edit is validated in Chinese
    listed = api.get(base).json()
    assert listed["count"] == 1
    [first] = listed["items"]
    bad = api.patch(f"{base}/{first['id']}", {"mobile": "12345", "email": "not-an-email"})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"mobile", "email"}
    # every change is in the audit log against the customer, numbers masked
    events = AuditEvent.objects.filter(object_id=customer.pk, field="contact")
    assert {event.action for event in events} == {"create", "delete"}
    assert "13900000002" not in str([event.changes for event in events])


def test_addresses_and_assets_have_full_crud_with_the_warranty_rule(
    agent: User, org: dict[str, Any], api_as: ApiAs
) -> None:
    customer = CustomerFactory.create(serving_team=org["team_a"])
    api = api_as(agent)
    base = f"/api/v1/customers/{customer.pk}"
    address = api.post(f"{base}/addresses", {"kind": "site", "region": "上海市", "detail": "1号"})
    assert address.status_code == 201, address.content
    assert address.json()["is_default"] is True
    asset = api.post(
        f"{base}/assets",
        {
            "product_model": "KF-35GW",
            "serial_number": "SN123",
            "purchase_date": "2025-03-10",
            "warranty_end": "2099-03-09",
            "address_id": address.json()["id"],
        },
    )
    assert asset.status_code == 201, asset.content
    assert asset.json()["warranty_status"] == "in"
    asset_id = asset.json()["id"]
    # the warranty may not end before the purchase
    bad = api.patch(f"{base}/assets/{asset_id}", {"warranty_end": "2025-03-09"})
    assert bad.status_code == 422
    assert "保修截止日" in bad.json()["error"]["fields"]["warranty_end"][0]
    expired = api.patch(f"{base}/assets/{asset_id}", {"warranty_end": "2025-04-01"})
    assert expired.json()["warranty_status"] == "out"
    # another customer's address is refused
    other = CustomerFactory.create(serving_team=org["team_a"])
    other_address = api.post(f"/api/v1/customers/{other.pk}/addresses", {"detail": "2号"}).json()
    foreign = api.patch(f"{base}/assets/{asset_id}", {"address_id": other_address["id"]})
    assert foreign.status_code == 422
    # an asset of another customer is not found under this one
    assert api.patch(f"/api/v1/customers/{other.pk}/assets/{asset_id}", {}).status_code == 404
    # delete
    assert api.client.delete(f"{base}/addresses/{address.json()['id']}", headers=api.headers)
    assert api.get(f"{base}/assets").json()["items"][0]["address_id"] is None
    deleted = api.client.delete(f"{base}/assets/{asset_id}", headers=api.headers)
    assert deleted.status_code == 204
    assert api.get(f"{base}/assets").json() == {"items": [], "count": 0}
    parts = AuditEvent.objects.filter(object_id=customer.pk).values_list("field", "action")
    assert ("asset", "create") in set(parts)
    assert ("address", "delete") in set(parts)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/contacts"),
        ("post", "/contacts"),
        ("patch", "/contacts/1"),
        ("delete", "/contacts/1"),
        ("get", "/addresses"),
        ("post", "/addresses"),
        ("get", "/assets"),
        ("post", "/assets"),
        ("delete", "/assets/1"),
        ("post", "/merge"),
    ],
)
def test_an_outsider_gets_404_from_every_part_endpoint(
    outsider: User, org: dict[str, Any], method: str, path: str
) -> None:
    customer = CustomerFactory.create(serving_team=org["team_a"])
    api = ApiClient(outsider)
    url = f"/api/v1/customers/{customer.pk}{path}"
    bodies: dict[str, dict[str, Any]] = {
        "/contacts": {"name": "x"},
        "/addresses": {"detail": "x"},
        "/assets": {"product_model": "x"},
        "/merge": {"duplicate_id": customer.pk, "reason": "x"},
    }
    body = bodies.get(path, {})
    if method == "get":
        response = api.get(url)
    elif method == "delete":
        response = api.client.delete(url, headers=api.headers)
    else:
        response = getattr(api, method)(url, body)
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("bad_id", ["99999999999999999999999", "0", "-1", "abc"])
def test_ids_out_of_range_are_a_404_or_422_not_a_500(
    agent: User, org: dict[str, Any], api_as: ApiAs, bad_id: str
) -> None:
    customer = CustomerFactory.create(serving_team=org["team_a"])
    api = api_as(agent)
    for path in (
        f"/api/v1/customers/{bad_id}/contacts",
        f"/api/v1/customers/{customer.pk}/contacts/{bad_id}",
        f"/api/v1/customers/{customer.pk}/assets/{bad_id}",
    ):
        response = api.patch(path, {}) if "/contacts/" in path or "/assets/" in path else None
        response = response or api.get(path)
        assert response.status_code in (404, 405, 422), (path, response.status_code)
    merge = api.post(
        f"/api/v1/customers/{customer.pk}/merge", {"duplicate_id": 2**64, "reason": "x"}
    )
    assert merge.status_code == 422


def test_removing_the_default_address_makes_the_oldest_remaining_one_default(
    agent: User, org: dict[str, Any], api_as: ApiAs
) -> None:
    customer = CustomerFactory.create(serving_team=org["team_a"])
    api = api_as(agent)
    base = f"/api/v1/customers/{customer.pk}/addresses"
    first = api.post(base, {"kind": "office", "region": "上海市", "detail": "1号"}).json()
    second = api.post(base, {"kind": "site", "region": "上海市", "detail": "2号"}).json()
    third = api.post(base, {"kind": "site", "region": "上海市", "detail": "3号"}).json()
    assert [first["is_default"], second["is_default"], third["is_default"]] == [True, False, False]
    removed = api.client.delete(f"{base}/{first['id']}", headers=api.headers)
    assert removed.status_code == 204
    defaults = [a["id"] for a in api.get(base).json()["items"] if a["is_default"]]
    assert defaults == [second["id"]]
