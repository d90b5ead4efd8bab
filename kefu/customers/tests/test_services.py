"""Customer services: validation, phone numbers, masking and reveal, audited changes, export,
search."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from conftest import ApiClient
from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.customers.models import Contact, Customer
from kefu.customers.selectors import customer_list
from kefu.customers.services import (
    CustomerInput,
    customer_create,
    customer_update,
    customers_export_csv,
)
from kefu.customers.tests.factories import CustomerFactory
from kefu.org.models import User

ApiAs = Callable[[User | None], ApiClient]
FULL = "13812345678"
E164 = "+8613812345678"


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _nothing_written() -> None:
    assert Customer.objects.count() == 0
    assert Contact.objects.count() == 0
    assert not AuditEvent.objects.exclude(action=AuditEvent.Action.TOKEN).exists()


@pytest.fixture
def customer_a(org: dict[str, Any]) -> Customer:
    return CustomerFactory.create(
        name="上海示例科技有限公司", serving_team=org["team_a"], mobile=E164
    )


# --- create: validation ------------------------------------------------------------------


def test_every_bad_field_is_reported_at_once_in_chinese_and_nothing_is_written(
    agent: User, org: dict[str, Any]
) -> None:
    # given an agent of team A filling in everything wrong (team B is not theirs to give to)
    data = CustomerInput(
        name="   ",
        kind="robot",
        region="区" * 65,
        industry="制造\x00业",
        note="备" * 2001,
        contact_name="联" * 65,
        mobile="010-12345678",
        serving_team_id=org["team_b"].pk,
    )
    # when
    with pytest.raises(ApplicationError) as caught:
        customer_create(actor=agent, data=data)
    # then
    error = caught.value
    assert (error.status, error.code) == (422, "invalid")
    assert error.message == "提交的内容有误，请检查标出的字段。"
    assert error.fields == {
        "name": ["此项为必填项。"],
        "kind": ["客户类型只能是“企业”或“个人”。"],
        "region": ["最多 64 个字符（当前 65 个）。"],
        "industry": ["不能包含控制字符。"],
        "note": ["最多 2000 个字符（当前 2001 个）。"],
        "contact_name": ["最多 64 个字符（当前 65 个）。"],
        "mobile": ["“010-12345678”不是有效的中国大陆手机号码（11 位，以 13–19 开头）。"],
        "serving_team_id": ["班组不存在或不在您的范围内。"],
    }
    _nothing_written()


def test_a_customer_without_a_name_is_refused(agent: User) -> None:
    with pytest.raises(ApplicationError) as caught:
        customer_create(actor=agent, data=CustomerInput(mobile=FULL))
    assert caught.value.fields == {"name": ["请填写客户名称。"]}
    _nothing_written()


def test_a_team_outside_the_scope_alone_is_refused_and_nothing_is_written(
    agent: User, org: dict[str, Any]
) -> None:
    with pytest.raises(ApplicationError) as caught:
        customer_create(
            actor=agent, data=CustomerInput(name="某公司", serving_team_id=org["team_repair"].pk)
        )
    assert list(caught.value.fields) == ["serving_team_id"]
    _nothing_written()


def test_a_role_that_may_not_add_customers_is_refused(make_user: Callable[..., User]) -> None:
    finance = make_user("finance", "finance")
    with pytest.raises(Forbidden):
        customer_create(actor=finance, data=CustomerInput(name="某公司"))
    _nothing_written()


def test_an_invalid_api_create_writes_nothing(agent: User, api_as: ApiAs) -> None:
    response = api_as(agent).post("/api/v1/customers", {"name": "某公司", "mobile": "138123456789"})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["mobile"]
    _nothing_written()


# --- create: what is stored --------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["13812345678", "138 1234 5678", "+86 138 1234 5678", "+8613812345678", "0086 138-1234-5678"],
)
def test_a_mobile_is_stored_in_one_form_however_it_was_typed(agent: User, typed: str) -> None:
    customer = customer_create(actor=agent, data=CustomerInput(name="某公司", mobile=typed))
    assert customer.mobile == E164
    assert list(customer.contacts.values_list("mobile", "is_primary")) == [(E164, True)]


@pytest.mark.parametrize(
    ("typed", "why"),
    [("010-12345678", "landline"), ("138123456789", "12 digits"), ("1381234567", "10 digits")],
)
def test_a_number_that_is_not_a_mobile_is_refused(agent: User, typed: str, why: str) -> None:
    with pytest.raises(ApplicationError) as caught:
        customer_create(actor=agent, data=CustomerInput(name="某公司", mobile=typed))
    assert list(caught.value.fields) == ["mobile"], why
    assert typed in caught.value.fields["mobile"][0]
    _nothing_written()


def test_a_new_customer_is_served_by_the_creators_team_and_audited_with_a_masked_mobile(
    agent: User, org: dict[str, Any]
) -> None:
    # when
    customer = customer_create(
        actor=agent,
        data=CustomerInput(name="  上海示例科技有限公司 ", mobile="138 1234 5678", region="上海市"),
    )
    # then
    assert customer.name == "上海示例科技有限公司"
    assert (customer.serving_team, customer.owner, customer.created_by) == (
        org["team_a"],
        None,
        agent,
    )
    [event] = _events(AuditEvent.Action.CREATE)
    assert (event.actor, event.object_type, event.object_id) == (
        agent,
        "customers.customer",
        str(customer.pk),
    )
    assert event.changes["mobile"] == "138****5678"
    assert "12345678" not in json.dumps(event.changes)


def test_a_person_customers_primary_contact_takes_the_persons_name(agent: User) -> None:
    customer = customer_create(
        actor=agent, data=CustomerInput(name="王小明", kind="person", mobile=FULL)
    )
    assert customer.contacts.get().name == "王小明"


def test_a_customer_without_a_mobile_has_no_contact(agent: User) -> None:
    customer = customer_create(actor=agent, data=CustomerInput(name="某公司"))
    assert customer.mobile == ""
    assert not customer.contacts.exists()


def test_a_customer_created_by_sales_is_owned_by_that_salesperson(
    make_user: Callable[..., User], org: dict[str, Any]
) -> None:
    sales = make_user("sales", "sales", teams=("team_sales",), department="sales")
    customer = customer_create(actor=sales, data=CustomerInput(name="某公司"))
    assert (customer.owner, customer.serving_team) == (sales, org["team_sales"])


# --- masking and reveal ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "admin", "finance", "quality"])
def test_roles_without_reveal_see_masked_numbers_in_the_api(
    make_user: Callable[..., User], api_as: ApiAs, customer_a: Customer, role: str
) -> None:
    # given
    api = api_as(make_user(role, role, teams=("team_a",)))
    # when
    detail = api.get(f"/api/v1/customers/{customer_a.pk}")
    listing = api.get("/api/v1/customers")
    # then
    assert detail.json()["mobile"] == "138****5678"
    assert detail.json()["mobile_revealed"] is False
    assert listing.json()["items"][0]["mobile"] == "138****5678"
    for response in (detail, listing):
        assert "12345678" not in response.content.decode()
    assert _events(AuditEvent.Action.REVEAL) == []


@pytest.mark.parametrize("role", ["supervisor", "manager", "gm", "superuser"])
def test_roles_with_reveal_see_full_numbers_and_each_showing_is_audited(
    make_user: Callable[..., User],
    superuser: User,
    api_as: ApiAs,
    customer_a: Customer,
    role: str,
) -> None:
    # given
    user = superuser if role == "superuser" else make_user(role, role, teams=("team_a",))
    api = api_as(user)
    # when
    detail = api.get(f"/api/v1/customers/{customer_a.pk}")
    # then
    assert detail.json()["mobile"] == FULL
    assert detail.json()["mobile_revealed"] is True
    assert detail.json()["mobile_masked"] == "138****5678"
    [event] = _events(AuditEvent.Action.REVEAL)
    assert (event.actor, event.object_id, event.field, event.channel) == (
        user,
        str(customer_a.pk),
        "mobile",
        "api",
    )


def test_a_list_read_by_a_revealing_role_audits_each_customer_shown_with_a_number(
    supervisor: User, api_as: ApiAs, org: dict[str, Any]
) -> None:
    # given three numbers and one customer without a number
    shown = [CustomerFactory.create(serving_team=org["team_a"]).pk for _ in range(3)]
    CustomerFactory.create(serving_team=org["team_a"], mobile="")
    # when
    body = api_as(supervisor).get("/api/v1/customers").json()
    # then
    assert body["count"] == 4
    revealed = _events(AuditEvent.Action.REVEAL)
    assert sorted(int(e.object_id) for e in revealed) == sorted(shown)


def test_the_reveal_endpoint_gives_every_contacts_number_and_is_audited_once(
    supervisor: User, api_as: ApiAs, customer_a: Customer
) -> None:
    # given a second contact
    second = Contact.objects.create(customer=customer_a, name="李四", mobile="+8613900001111")
    # when
    response = api_as(supervisor).post(f"/api/v1/customers/{customer_a.pk}/reveal")
    # then
    assert response.status_code == 200
    assert [c["mobile"] for c in response.json()["contacts"]] == [FULL, "13900001111"]
    [event] = _events(AuditEvent.Action.REVEAL)
    assert event.changes == {"contacts": [customer_a.contacts.get(is_primary=True).pk, second.pk]}


def test_a_refused_reveal_is_not_audited_as_a_reveal(
    agent: User, api_as: ApiAs, customer_a: Customer
) -> None:
    response = api_as(agent).post(f"/api/v1/customers/{customer_a.pk}/reveal")
    assert response.status_code == 403
    assert "13812345678" not in response.content.decode()
    assert _events(AuditEvent.Action.REVEAL) == []


def test_the_web_detail_page_masks_numbers_for_an_agent(
    client: Client, agent: User, customer_a: Customer
) -> None:
    client.force_login(agent)
    page = client.get(f"/customers/{customer_a.pk}/").content.decode()
    assert "138****5678" in page
    assert FULL not in page


def test_the_web_reveal_shows_the_full_number_and_is_audited(
    client: Client, supervisor: User, customer_a: Customer
) -> None:
    client.force_login(supervisor)
    response = client.post(f"/customers/{customer_a.pk}/reveal/")
    assert response.status_code == 200
    assert FULL in response.content.decode()
    [event] = _events(AuditEvent.Action.REVEAL)
    assert (event.actor, event.channel) == (supervisor, "web")


# --- update --------------------------------------------------------------------------------


def test_a_patch_changes_only_the_given_fields_and_audits_the_diff(
    agent: User, api_as: ApiAs, customer_a: Customer
) -> None:
    # given
    before: dict[str, Any] = dict(Customer.objects.values().get(pk=customer_a.pk))
    # when
    response = api_as(agent).patch(
        f"/api/v1/customers/{customer_a.pk}", {"region": "北京市", "industry": "制造业"}
    )
    # then
    assert response.status_code == 200
    after: dict[str, Any] = dict(Customer.objects.values().get(pk=customer_a.pk))
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {"region", "industry", "updated_at"}
    [event] = _events(AuditEvent.Action.UPDATE)
    assert event.changes == {"region": ["上海市", "北京市"], "industry": ["", "制造业"]}
    assert (event.actor, event.object_id) == (agent, str(customer_a.pk))


def test_a_changed_mobile_is_audited_masked_and_moves_the_primary_contact(
    agent: User, api_as: ApiAs, customer_a: Customer
) -> None:
    # when
    response = api_as(agent).patch(
        f"/api/v1/customers/{customer_a.pk}", {"mobile": "+86 139 0000 1111"}
    )
    # then
    assert response.json()["mobile"] == "139****1111"
    customer_a.refresh_from_db()
    assert customer_a.mobile == "+8613900001111"
    assert customer_a.contacts.get(is_primary=True).mobile == "+8613900001111"
    [event] = _events(AuditEvent.Action.UPDATE)
    assert event.changes == {"mobile": ["138****5678", "139****1111"]}
    assert "12345678" not in json.dumps(event.changes)
    assert "00001111" not in json.dumps(event.changes)


def test_a_first_mobile_on_a_customer_without_one_creates_the_primary_contact(
    agent: User, org: dict[str, Any]
) -> None:
    customer = CustomerFactory.create(serving_team=org["team_a"], mobile="")
    customer_update(actor=agent, customer=customer, data=CustomerInput(mobile=FULL))
    assert list(customer.contacts.values_list("mobile", "is_primary")) == [(E164, True)]
    assert _events(AuditEvent.Action.UPDATE)[0].changes == {"mobile": ["", "138****5678"]}


def test_a_patch_that_changes_nothing_writes_no_event(
    agent: User, api_as: ApiAs, customer_a: Customer
) -> None:
    response = api_as(agent).patch(
        f"/api/v1/customers/{customer_a.pk}", {"region": "上海市", "mobile": "138 1234 5678"}
    )
    assert response.status_code == 200
    assert _events(AuditEvent.Action.UPDATE) == []


def test_a_patch_that_fails_validation_changes_and_audits_nothing(
    agent: User, api_as: ApiAs, customer_a: Customer, org: dict[str, Any]
) -> None:
    # given
    before = Customer.objects.values().get(pk=customer_a.pk)
    # when a good field comes with bad ones
    response = api_as(agent).patch(
        f"/api/v1/customers/{customer_a.pk}",
        {"region": "北京市", "name": "  ", "serving_team_id": org["team_b"].pk},
    )
    # then
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"name", "serving_team_id"}
    assert Customer.objects.values().get(pk=customer_a.pk) == before
    assert _events(AuditEvent.Action.UPDATE) == []


def test_a_supervisor_may_move_a_customer_to_another_team_of_the_department(
    supervisor: User, api_as: ApiAs, customer_a: Customer, org: dict[str, Any]
) -> None:
    response = api_as(supervisor).patch(
        f"/api/v1/customers/{customer_a.pk}", {"serving_team_id": org["team_b"].pk}
    )
    assert response.json()["serving_team"] == {"id": org["team_b"].pk, "name": "客服二组"}
    [event] = _events(AuditEvent.Action.UPDATE)
    assert event.changes == {"serving_team": [org["team_a"].pk, org["team_b"].pk]}


# --- export --------------------------------------------------------------------------------


def _export(client: Client, user: User, q: str = "") -> Any:
    client.force_login(user)
    return client.post("/customers/export/", {"q": q})


def _csv_rows(response: Any) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel needs the BOM to read UTF-8 Chinese
    return list(csv.reader(io.StringIO(text[1:])))


def test_an_export_is_audited_once_with_the_count_of_rows_in_scope(
    client: Client, supervisor: User, org: dict[str, Any]
) -> None:
    # given 3 customers of team A, 2 of team B (same department), 4 of the repair team
    for team, n in (("team_a", 3), ("team_b", 2), ("team_repair", 4)):
        for _ in range(n):
            CustomerFactory.create(serving_team=org[team])
    # when
    response = _export(client, supervisor)
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = _csv_rows(response)
    data_rows = rows[1:-2]  # header, …, blank line, the "internal use" line
    assert rows[0][:2] == ["编号", "客户名称"]
    assert len(data_rows) == 5
    [event] = _events(AuditEvent.Action.EXPORT)
    assert event.changes["count"] == 5
    assert event.changes["query"] == ""
    assert event.changes["revealed"] is True
    assert event.object_repr == "客户导出 5 条"
    assert AuditEvent.objects.exclude(action=AuditEvent.Action.LOGIN).count() == 1


def test_an_export_follows_the_search_and_records_it(
    client: Client, supervisor: User, org: dict[str, Any]
) -> None:
    CustomerFactory.create(name="上海示例科技有限公司", serving_team=org["team_a"], mobile=E164)
    CustomerFactory.create(name="北京另一家公司", serving_team=org["team_a"])
    rows = _csv_rows(_export(client, supervisor, q="示例"))
    assert [row[1] for row in rows[1:-2]] == ["上海示例科技有限公司"]
    assert rows[1][5] == FULL  # a supervisor may reveal, so the export has full numbers
    [event] = _events(AuditEvent.Action.EXPORT)
    assert (event.changes["count"], event.changes["query"]) == (1, "示例")


def test_an_export_by_a_role_that_may_not_reveal_is_masked(
    make_user: Callable[..., User], org: dict[str, Any]
) -> None:
    # given a local grant: an agent who may export but not reveal
    agent = make_user("exporter", "agent", teams=("team_a",))
    agent.user_permissions.add(Permission.objects.get(codename="export_customers"))
    agent = User.objects.get(pk=agent.pk)  # fresh permission cache
    CustomerFactory.create(serving_team=org["team_a"], mobile=E164)
    # when
    content = customers_export_csv(actor=agent, customers=customer_list(user=agent), query="")
    # then
    assert "138****5678" in content
    assert FULL not in content
    assert _events(AuditEvent.Action.EXPORT)[0].changes["revealed"] is False


def test_an_export_refused_to_an_agent_writes_no_event(
    client: Client, agent: User, customer_a: Customer
) -> None:
    response = _export(client, agent)
    assert response.status_code == 403
    assert _events(AuditEvent.Action.EXPORT) == []


# --- search ------------------------------------------------------------------------------


@pytest.fixture
def searchable(org: dict[str, Any]) -> Customer:
    CustomerFactory.create(
        name="北京另一家公司", serving_team=org["team_a"], mobile="+8613900001111"
    )
    return CustomerFactory.create(
        name="上海示例科技有限公司", serving_team=org["team_a"], mobile=E164
    )


def _found(user: User, q: str) -> list[str]:
    return sorted(customer.name for customer in customer_list(user=user, q=q))


@pytest.mark.parametrize("q", ["示例", "上海示例", "科技有限", " 示例 "])
def test_search_finds_a_customer_by_a_fragment_of_its_name(
    agent: User, searchable: Customer, q: str
) -> None:
    assert _found(agent, q) == ["上海示例科技有限公司"]


def test_search_by_name_ignores_latin_case(agent: User, org: dict[str, Any]) -> None:
    CustomerFactory.create(name="ACME 中国", serving_team=org["team_a"])
    assert _found(agent, "acme") == ["ACME 中国"]


@pytest.mark.parametrize(
    "q",
    [
        "5678",
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "8613812345678",
        "0086 138 1234 5678",
    ],
)
def test_search_finds_a_customer_by_the_last_four_digits_or_the_full_number(
    agent: User, searchable: Customer, q: str
) -> None:
    assert _found(agent, q) == ["上海示例科技有限公司"]


@pytest.mark.parametrize("q", ["1234", "3812", "8123", "2345", "138123", "1381234567"])
def test_search_by_middle_or_leading_digits_finds_nothing(
    agent: User, searchable: Customer, q: str
) -> None:
    assert _found(agent, q) == []


@pytest.mark.parametrize("q", ["45678", "345678", "2345678", "812345678", "3812345678"])
def test_a_longer_tail_cannot_uncover_masked_digits_for_a_role_without_reveal(
    agent: User, searchable: Customer, q: str
) -> None:
    # given an agent who sees 138****5678: each answer to "?5678" would give away a digit
    assert _found(agent, q) == []


@pytest.mark.parametrize("q", ["45678", "2345678", "3812345678"])
def test_a_role_that_may_reveal_may_search_by_any_tail(
    supervisor: User, searchable: Customer, q: str
) -> None:
    assert _found(supervisor, q) == ["上海示例科技有限公司"]


def test_search_finds_a_customer_by_any_contacts_number(agent: User, searchable: Customer) -> None:
    Contact.objects.create(customer=searchable, name="李四", mobile="+8613600009999")
    assert _found(agent, "13600009999") == ["上海示例科技有限公司"]
    assert _found(agent, "9999") == ["上海示例科技有限公司"]


def test_search_never_reaches_outside_the_callers_scope(
    outsider: User, searchable: Customer
) -> None:
    # an agent of team B, searching for team A's customer by name, tail and full number
    for q in ("示例", "5678", "13812345678", "+86 138 1234 5678"):
        assert _found(outsider, q) == []


def test_a_search_with_three_digits_is_a_name_search(agent: User, org: dict[str, Any]) -> None:
    CustomerFactory.create(name="第138号门店", serving_team=org["team_a"], mobile="+8613700000138")
    assert _found(agent, "138") == ["第138号门店"]


def test_joining_or_leaving_sales_changes_who_owns_the_next_customer(
    make_user: Callable[..., User], org: dict[str, Any]
) -> None:
    """Group names are cached per user: a change of groups must show on the next create."""
    from django.contrib.auth.models import Group

    # given
    person = make_user("person", "agent", teams=("team_a",))
    assert customer_create(actor=person, data=CustomerInput(name="甲公司")).owner is None
    # when: they join sales
    sales_group = Group.objects.get(name="销售")
    person.groups.add(sales_group)
    person = User.objects.get(pk=person.pk)
    # then
    assert customer_create(actor=person, data=CustomerInput(name="乙公司")).owner == person
    # when: the group is renamed, it is no longer the sales role
    sales_group.name = "销售（旧）"
    sales_group.save()
    person = User.objects.get(pk=person.pk)
    assert customer_create(actor=person, data=CustomerInput(name="丙公司")).owner is None


def test_a_new_member_of_another_team_creates_for_their_first_team(
    make_user: Callable[..., User], org: dict[str, Any]
) -> None:
    """Memberships are cached per user: a new one shows on the next create."""
    from kefu.org.models import Membership

    # given
    person = make_user("loner", "agent")
    assert customer_create(actor=person, data=CustomerInput(name="甲公司")).serving_team is None
    # when
    Membership.objects.create(user=person, team=org["team_b"])
    person = User.objects.get(pk=person.pk)
    # then
    assert (
        customer_create(actor=person, data=CustomerInput(name="乙公司")).serving_team
        == org["team_b"]
    )


def test_creating_a_customer_takes_a_fixed_handful_of_queries(
    agent: User, django_assert_max_num_queries: Any
) -> None:
    """The create path is the API's busiest write: duplicate check in one statement, roles and
    teams from the cache, the grams in one insert."""
    customer_create(actor=agent, data=CustomerInput(name="预热公司", mobile="13800000001"))
    with django_assert_max_num_queries(8):
        customer_create(
            actor=agent,
            data=CustomerInput(name="甲乙丙科技有限公司", mobile="13800000002", region="上海市"),
        )
