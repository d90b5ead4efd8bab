"""Customer search: Chinese name fragments through the bigram index, ranking, mobiles, serial
numbers, providers, scope, and the index kept current. Runs on SQLite and PostgreSQL alike, so
each answer asserted here is the same on both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from conftest import ApiClient
from kefu.customers import search
from kefu.customers.access import can_reveal, customers_for_user
from kefu.customers.models import Asset, Contact, Customer, CustomerSearchGram
from kefu.customers.search import (
    ANCHOR,
    customer_search_filter,
    customer_search_rank,
    name_grams,
    search_index_customers,
)
from kefu.customers.services import CustomerInput, customer_create, customer_update
from kefu.customers.tests.factories import CustomerFactory
from kefu.org.models import User

ApiAs = Callable[[User | None], ApiClient]


def _searched(user: User, q: str) -> QuerySet[Customer]:
    customers = customers_for_user(user)
    found = customer_search_filter(q, any_tail=can_reveal(user))
    if found is not None:
        customers = customers.filter(found)
    return customer_search_rank(customers, q)


def _names(user: User, q: str) -> list[str]:
    """The names found, in ranked order."""
    return [customer.name for customer in _searched(user, q)]


@pytest.fixture(params=["index", "scan"])
def both_paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each name test runs twice: through the bigram index, and as the row-by-row check the
    search falls back to for fragments too common for the index. Both must answer the same."""
    if request.param == "scan":
        monkeypatch.setattr(search, "GRAM_PATH_MAX", 0)
    return str(request.param)


@pytest.fixture
def named(org: dict[str, Any]) -> Callable[..., Customer]:
    """Customers of team A (the agent's), created one minute apart in the order given."""
    start = timezone.now() - timedelta(days=1)
    made: list[Customer] = []

    def make(name: str, **fields: Any) -> Customer:
        fields.setdefault("serving_team", org["team_a"])
        customer = CustomerFactory.create(name=name, **fields)
        created = start + timedelta(minutes=len(made))
        Customer.objects.filter(pk=customer.pk).update(created_at=created)
        customer.created_at = created
        made.append(customer)
        return customer

    return make


# --- the index -------------------------------------------------------------------------------


def test_a_name_is_indexed_by_its_distinct_bigrams_and_its_first_character() -> None:
    assert name_grams("张三丰") == {"张三", "三丰", ANCHOR + "张"}
    assert name_grams("哈哈哈") == {"哈哈", ANCHOR + "哈"}


def test_a_one_character_name_is_indexed_by_that_character() -> None:
    assert name_grams("王") == {"王", ANCHOR + "王"}


def test_the_index_is_of_the_nfkc_lower_cased_name() -> None:
    assert name_grams("ＡＣＭＥ") == {"ac", "cm", "me", ANCHOR + "a"}


def test_a_new_customer_is_indexed_when_created_through_the_service(agent: User) -> None:
    customer = customer_create(actor=agent, data=CustomerInput(name="青岛海尔电器"))
    grams = set(CustomerSearchGram.objects.filter(customer=customer).values_list("gram", flat=True))
    assert grams == name_grams("青岛海尔电器")


def test_a_rename_replaces_the_old_grams_so_the_old_name_is_not_found(
    agent: User, named: Callable[..., Customer]
) -> None:
    # given
    customer = named("张三丰")
    assert _names(agent, "张三") == ["张三丰"]
    # when
    customer_update(actor=agent, customer=customer, data=CustomerInput(name="李四光"))
    # then
    assert _names(agent, "张三") == []
    assert _names(agent, "四光") == ["李四光"]


def test_a_rename_through_the_api_is_found_at_once(
    agent: User, named: Callable[..., Customer], api_as: ApiAs
) -> None:
    customer = named("旧名称公司")
    answer = api_as(agent).patch(f"/api/v1/customers/{customer.pk}", {"name": "新海尔商贸"})
    assert answer.status_code == 200
    found = api_as(agent).get("/api/v1/customers", q="海尔").json()
    assert [item["id"] for item in found["items"]] == [customer.pk]


def test_a_save_of_other_fields_leaves_the_grams_alone(named: Callable[..., Customer]) -> None:
    customer = named("青岛海尔电器")
    before = list(CustomerSearchGram.objects.filter(customer=customer).values_list("pk", flat=True))
    customer.tier = Customer.Tier.GOLD
    customer.save(update_fields=["tier", "updated_at"])
    after = list(CustomerSearchGram.objects.filter(customer=customer).values_list("pk", flat=True))
    assert before == after


def test_bulk_inserts_are_found_once_the_index_is_rebuilt(agent: User, org: dict[str, Any]) -> None:
    # given customers inserted in bulk (no signals), as seeders and imports do
    Customer.objects.bulk_create(
        [Customer(name=f"宁波海尔{i}号店", serving_team=org["team_a"]) for i in range(3)]
    )
    assert _names(agent, "海尔") == []
    # when
    written = search_index_customers()
    # then
    assert written == CustomerSearchGram.objects.count() > 0
    assert len(_names(agent, "海尔")) == 3


def test_rebuilding_some_customers_leaves_the_others_as_they_were(
    named: Callable[..., Customer],
) -> None:
    first, second = named("张三丰"), named("李四光")
    CustomerSearchGram.objects.all().delete()
    written = search_index_customers([first.pk])
    assert written == len(name_grams("张三丰"))
    assert not CustomerSearchGram.objects.filter(customer=second).exists()


def test_an_erased_customer_has_no_grams(named: Callable[..., Customer]) -> None:
    customer = named("张三丰", kind=Customer.Kind.PERSON)
    customer.erased_at = timezone.now()
    customer.save(update_fields=["erased_at", "updated_at"])
    assert not CustomerSearchGram.objects.filter(customer=customer).exists()
    search_index_customers()
    assert not CustomerSearchGram.objects.filter(customer=customer).exists()


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("张三", ["张三", "张三丰"]),
        ("三丰", ["张三丰"]),
        ("海尔", ["青岛海尔电器"]),
        ("岛海", ["青岛海尔电器"]),  # a middle fragment
        ("尔电器", ["青岛海尔电器"]),
        ("青岛海尔电器", ["青岛海尔电器"]),
        ("海电", []),  # both bigram halves exist nowhere together
        ("尔海", []),
    ],
)
def test_any_fragment_of_two_characters_or_more_finds_the_name(
    agent: User, named: Callable[..., Customer], both_paths: str, q: str, expected: list[str]
) -> None:
    named("青岛海尔电器")
    named("张三丰")
    named("张三")
    named("李四")
    assert _names(agent, q) == expected


def test_a_fragment_with_every_bigram_but_not_in_that_order_is_not_found(
    agent: User, named: Callable[..., Customer], both_paths: str
) -> None:
    # "abab" has the bigrams ab and ba, which "aba" has too: the contains check decides
    named("aba")
    assert _names(agent, "abab") == []


def test_one_character_finds_the_names_that_start_with_it(
    agent: User, named: Callable[..., Customer], both_paths: str
) -> None:
    named("王小明")
    named("王")
    named("李王")
    assert _names(agent, "王") == ["王", "王小明"]


def test_latin_letters_are_found_in_either_case_and_width(
    agent: User, named: Callable[..., Customer], both_paths: str
) -> None:
    named("ACME 中国")
    assert _names(agent, "acme") == ["ACME 中国"]
    assert _names(agent, "Me 中") == ["ACME 中国"]
    assert _names(agent, "ＡＣＭＥ") == ["ACME 中国"]


@pytest.mark.parametrize(
    ("q", "found"),
    [("100%", True), ("a_b", True), ("0%", True), ("%", False), ("_", False), ("海%", False)],
)
def test_like_wildcards_in_the_query_are_plain_characters(
    agent: User, named: Callable[..., Customer], both_paths: str, q: str, found: bool
) -> None:
    # "%" and "_" alone are one-character searches: names that start with them
    named("青岛海尔电器")
    named("a_b 100% 商行")
    assert _names(agent, q) == (["a_b 100% 商行"] if found else [])


def test_results_rank_exact_then_prefix_then_contains_then_shorter_then_newer_unless_common(
    agent: User, named: Callable[..., Customer], both_paths: str
) -> None:
    named("青岛海尔电器")
    named("海尔集团")
    named("海尔电器")  # as long as 海尔集团 and newer: before it
    named("海尔")
    named("山东海尔")
    named("无关公司")
    ranked = ["海尔", "海尔电器", "海尔集团", "山东海尔", "青岛海尔电器"]
    if both_paths == "index":
        assert _names(agent, "海尔") == ranked
    else:  # a fragment in thousands of names names no one: newest first, no sorting of all
        assert _names(agent, "海尔") == ["山东海尔", "海尔", "海尔电器", "海尔集团", "青岛海尔电器"]


def test_without_a_name_query_the_list_stays_newest_first(
    agent: User, named: Callable[..., Customer]
) -> None:
    named("甲公司")
    named("乙公司")
    customers = customers_for_user(agent)
    assert list(customer_search_rank(customers, "")) == list(customers)
    assert list(customer_search_rank(customers, "5678").values_list("name", flat=True)) == [
        "乙公司",
        "甲公司",
    ]


def test_search_never_reaches_outside_the_callers_scope(
    outsider: User, agent: User, named: Callable[..., Customer], both_paths: str
) -> None:
    customer = named("青岛海尔电器", mobile="+8613812345678")
    Asset.objects.create(customer=customer, product_model="KFR-35", serial_number="SN20240001")
    for q in ("海尔", "青", "5678", "13812345678", "SN20240001"):
        assert _names(outsider, q) == []
        assert _names(agent, q) == ["青岛海尔电器"]


def test_a_manager_sees_every_teams_customers(
    make_user: Callable[..., User], named: Callable[..., Customer], org: dict[str, Any]
) -> None:
    manager = make_user("mgr", "manager")
    named("青岛海尔电器")
    named("海尔售后服务部", serving_team=org["team_b"])
    assert _names(manager, "海尔") == ["海尔售后服务部", "青岛海尔电器"]


# --- mobiles, serial numbers, providers -----------------------------------------------------


def test_a_mobile_is_found_by_its_last_four_digits_on_the_customer_or_any_contact(
    agent: User, named: Callable[..., Customer]
) -> None:
    first = named("甲公司", mobile="+8613812345678")
    second = named("乙公司", mobile="+8613900000000")
    Contact.objects.create(customer=second, name="李四", mobile="+8613600005678")
    assert _names(agent, "5678") == ["乙公司", "甲公司"]
    assert _names(agent, "13600005678") == ["乙公司"]
    assert _names(agent, "+86 138 1234 5678") == [first.name]


def test_a_longer_tail_is_for_roles_that_may_reveal_only(
    agent: User, supervisor: User, named: Callable[..., Customer]
) -> None:
    named("甲公司", mobile="+8613812345678")
    assert _names(agent, "45678") == []
    assert _names(supervisor, "45678") == ["甲公司"]


def test_an_asset_serial_number_finds_its_owner_typed_in_either_case(
    agent: User, named: Callable[..., Customer]
) -> None:
    owner = named("青岛海尔电器")
    named("别的公司")
    Asset.objects.create(customer=owner, product_model="KFR-35", serial_number="SN20240001")
    assert _names(agent, "SN20240001") == ["青岛海尔电器"]
    assert _names(agent, "sn20240001") == ["青岛海尔电器"]
    assert _names(agent, "SN2024") == []  # a serial is matched whole


def test_a_registered_provider_is_or_ed_with_the_name_search(
    agent: User, named: Callable[..., Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_name = named("订单2024有限公司")
    by_order = named("别的公司")
    monkeypatch.setitem(
        search._PROVIDERS,
        "test_orders",
        lambda q: (
            Customer.objects.filter(pk=by_order.pk).values_list("pk") if q == "订单2024" else None
        ),
    )
    assert set(_names(agent, "订单2024")) == {by_name.name, by_order.name}
    assert _names(agent, "有限") == [by_name.name]


def test_a_provider_is_asked_for_digits_too(
    agent: User, named: Callable[..., Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = named("别的公司", mobile="+8613900000000")
    monkeypatch.setitem(
        search._PROVIDERS,
        "test_orders",
        lambda q: Customer.objects.filter(pk=owner.pk).values("pk") if q == "20240101" else None,
    )
    assert _names(agent, "20240101") == ["别的公司"]


def test_the_api_search_answers_the_same_fragments(
    agent: User, named: Callable[..., Customer], api_as: ApiAs
) -> None:
    named("青岛海尔电器")
    named("张三丰")
    answer = api_as(agent).get("/api/v1/customers", q="岛海")
    assert answer.status_code == 200
    assert [item["name"] for item in answer.json()["items"]] == ["青岛海尔电器"]
    assert answer.json()["count"] == 1
