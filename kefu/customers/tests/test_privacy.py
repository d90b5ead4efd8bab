"""Data-subject requests (PIPL): the copy of everything held on a customer, and erasure that
keeps orders and statistics. domain.md §6, scenario 10 of §7."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from conftest import ApiClient
from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.credit.models import CreditChange
from kefu.customers.models import Address, Asset, Contact, Customer, CustomerSearchGram
from kefu.customers.privacy import subject_erase, subject_export, subject_export_json
from kefu.customers.search import customer_search_filter
from kefu.customers.services import customer_reveal
from kefu.customers.tests.factories import CustomerFactory
from kefu.orders.models import Order, OrderLine
from kefu.org.models import User
from kefu.tiering.models import TierChange

ApiAs = Callable[[User | None], ApiClient]


@pytest.fixture
def person(org: dict[str, Any]) -> Customer:
    """张三, a person served by team A, with everything the archive can hold on someone."""
    customer = CustomerFactory.create(
        name="张三",
        kind=Customer.Kind.PERSON,
        serving_team=org["team_a"],
        mobile="+8613812345678",
        id_number="110101199003071234",
        note="住在三楼，下午方便",
        marketing_consent=True,
        marketing_consent_at=timezone.now(),
        marketing_consent_channel="sms",
        marketing_consent_evidence="短信回复 Y",
        tier=Customer.Tier.GOLD,
    )
    Contact.objects.filter(customer=customer).update(email="zhangsan@example.com")
    Contact.objects.create(customer=customer, name="张太太", mobile="+8613900001111")
    home = Address.objects.create(
        customer=customer,
        kind=Address.Kind.SHIPPING,
        region="上海市浦东新区",
        detail="世纪大道 1 号",
    )
    Asset.objects.create(
        customer=customer,
        product_model="KFR-35GW",
        serial_number="SN20240001",
        purchase_date=date(2025, 3, 10),
        address=home,
    )
    order = Order.objects.create(
        order_no="SO-2025-0001",
        customer=customer,
        date=date(2025, 3, 10),
        amount=Decimal("3999.00"),
        cost=Decimal("3100.50"),
        content_hash="x" * 64,
    )
    OrderLine.objects.create(
        order=order,
        line_no=1,
        product="空调 KFR-35GW",
        quantity=Decimal("1"),
        amount=Decimal("3999.00"),
        cost=Decimal("3100.50"),
    )
    TierChange.objects.create(
        customer=customer,
        from_tier=Customer.Tier.SILVER,
        to_tier=Customer.Tier.GOLD,
        kind=TierChange.Kind.RECOMPUTE,
        reason="近 12 个月毛利上升",
    )
    CreditChange.objects.create(
        customer=customer, field="limit", old_value="0.00", new_value="5000.00", reason="首次评估"
    )
    return customer


@pytest.fixture
def company(org: dict[str, Any]) -> Customer:
    customer = CustomerFactory.create(
        name="青岛海尔电器有限公司",
        kind=Customer.Kind.COMPANY,
        serving_team=org["team_a"],
        mobile="+8613700002222",
        uscc="91370200163562681G",
    )
    Contact.objects.filter(customer=customer).update(name="王经理", title="采购经理")
    Address.objects.create(customer=customer, region="山东省青岛市", detail="海尔路 1 号")
    return customer


def _sections(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {key: section["rows"] for key, section in data["sections"].items()}


# --- export ----------------------------------------------------------------------------------


def test_the_export_holds_profile_contacts_addresses_assets_orders_history_consent_and_audit(
    manager: User, person: Customer
) -> None:
    # given an earlier reveal of the number
    customer_reveal(actor=manager, customer=person)
    # when
    data = subject_export_json(subject_export(actor=manager, customer=person))
    # then every section is there, numbers in full
    rows = _sections(data)
    assert rows["profile"][0]["name"] == "张三"
    assert rows["profile"][0]["mobile"] == "+8613812345678"
    assert rows["profile"][0]["id_number"] == "110101199003071234"
    assert {c["name"] for c in rows["customers.contact"]} == {"联系人", "张太太"}
    assert {c["mobile"] for c in rows["customers.contact"]} == {"+8613812345678", "+8613900001111"}
    assert rows["customers.address"][0]["detail"] == "世纪大道 1 号"
    assert rows["customers.asset"][0]["serial_number"] == "SN20240001"
    assert rows["orders.order"][0]["order_no"] == "SO-2025-0001"
    assert rows["orders.order"][0]["amount"] == Decimal("3999.00")
    assert rows["orders.orderline"][0]["product"] == "空调 KFR-35GW"
    assert rows["tiering.tierchange"][0]["to_tier"] == "gold"
    assert rows["credit.creditchange"][0]["new_value"] == "5000.00"
    assert rows["consent"][0]["marketing_consent"] is True
    assert rows["consent"][0]["marketing_consent_evidence"] == "短信回复 Y"
    assert "reveal" in {event["action"] for event in rows["audit"]}
    assert "customers.customersearchgram" not in rows


def test_an_export_is_audited_with_what_was_exported_but_not_the_data(
    manager: User, person: Customer
) -> None:
    subject_export(actor=manager, customer=person, fmt="xlsx")
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.object_id, event.actor_name, event.field) == (
        str(person.pk),
        "manager",
        "personal_data",
    )
    assert event.changes["format"] == "xlsx"
    assert event.changes["sections"]["customers.contact"] == 2
    assert "13812345678" not in json.dumps(event.changes)


def test_the_api_json_export_has_every_section_and_decimal_amounts_as_strings(
    manager: User, person: Customer, api_as: ApiAs
) -> None:
    answer = api_as(manager).get(f"/api/v1/privacy/customers/{person.pk}/export")
    assert answer.status_code == 200
    rows = _sections(answer.json())
    assert rows["orders.order"][0]["amount"] == "3999.00"
    assert rows["profile"][0]["mobile"] == "+8613812345678"


def test_the_xlsx_export_opens_with_one_sheet_per_section_and_real_numbers(
    manager: User, person: Customer, api_as: ApiAs
) -> None:
    # when
    answer = api_as(manager).get(f"/api/v1/privacy/customers/{person.pk}/export", format="xlsx")
    # then
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(answer.content))
    assert {"基本资料", "联系人", "地址", "设备", "订单", "订单行", "营销同意", "审计记录"} <= set(
        workbook.sheetnames
    )
    orders = list(workbook["订单"].iter_rows(values_only=True))
    amount_column = orders[0].index("金额（元）")
    assert isinstance(orders[1][amount_column], int | float)
    assert orders[1][amount_column] == pytest.approx(3999.00)
    contacts = list(workbook["联系人"].iter_rows(values_only=True))
    assert "+8613900001111" in {cell for row in contacts for cell in row}


def test_text_that_looks_like_a_formula_is_written_as_text(
    manager: User, person: Customer, api_as: ApiAs
) -> None:
    Customer.objects.filter(pk=person.pk).update(note='=HYPERLINK("http://x")')
    answer = api_as(manager).get(f"/api/v1/privacy/customers/{person.pk}/export", format="xlsx")
    sheet = load_workbook(io.BytesIO(answer.content))["基本资料"]
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert '\'=HYPERLINK("http://x")' in cells


def test_a_bad_export_format_is_refused_in_chinese(
    manager: User, person: Customer, api_as: ApiAs
) -> None:
    answer = api_as(manager).get(f"/api/v1/privacy/customers/{person.pk}/export", format="pdf")
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"] == {"format": ["取值不在允许范围内。"]}
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


# --- erasure ---------------------------------------------------------------------------------


def test_erasure_anonymises_the_person_and_keeps_orders_tiers_and_the_row(
    manager: User, person: Customer
) -> None:
    # when
    subject_erase(actor=manager, customer=person, reason="本人来电申请删除，已核验身份")
    # then the personal data is gone
    person.refresh_from_db()
    assert person.name == f"已删除用户#{person.pk}"
    assert (person.mobile, person.id_number, person.note) == ("", "", "")
    assert person.erased_at is not None
    assert not person.marketing_consent
    assert person.marketing_consent_at is None
    assert person.marketing_consent_evidence == ""
    contacts = list(Contact.objects.filter(customer=person).values("name", "mobile", "email"))
    assert contacts == [{"name": "", "mobile": "", "email": ""}] * 2
    assert list(Address.objects.filter(customer=person).values_list("detail", flat=True)) == [""]
    assert not CustomerSearchGram.objects.filter(customer=person).exists()
    # and what statistics and accounts need stays
    assert person.tier == Customer.Tier.GOLD
    order = Order.objects.get(customer=person)
    assert (order.order_no, order.amount) == ("SO-2025-0001", Decimal("3999.00"))
    assert OrderLine.objects.filter(order=order).count() == 1
    assert TierChange.objects.filter(customer=person).count() == 1
    assert Asset.objects.filter(customer=person).count() == 1


def test_an_erased_person_is_no_longer_found_by_name_or_number(
    manager: User, person: Customer
) -> None:
    subject_erase(actor=manager, customer=person, reason="本人申请")
    for q in ("张三", "5678", "13812345678", "13900001111"):
        search = customer_search_filter(q, any_tail=True)
        assert search is not None
        assert not Customer.objects.filter(search).exists()


def test_a_company_keeps_its_name_but_its_contacts_are_erased(
    manager: User, company: Customer
) -> None:
    subject_erase(actor=manager, customer=company, reason="联系人离职，申请删除")
    company.refresh_from_db()
    assert company.name == "青岛海尔电器有限公司"
    assert company.uscc == "91370200163562681G"
    assert company.mobile == ""
    contact = Contact.objects.get(customer=company)
    assert (contact.name, contact.title, contact.mobile) == ("", "", "")
    assert Address.objects.get(customer=company).detail == "海尔路 1 号"


def test_an_earlier_reveal_stays_in_the_audit_log_and_the_erasure_is_recorded(
    manager: User, person: Customer
) -> None:
    # given (domain.md §7 scenario 10)
    customer_reveal(actor=manager, customer=person)
    # when
    subject_erase(actor=manager, customer=person, reason="本人来电申请删除，已核验身份")
    # then
    about = AuditEvent.objects.filter(object_type="customers.customer", object_id=str(person.pk))
    assert about.filter(action=AuditEvent.Action.REVEAL, actor_name="manager").exists()
    erased = about.get(action=AuditEvent.Action.DELETE)
    assert erased.note == "本人来电申请删除，已核验身份"
    assert erased.changes["kind"] == "subject_erase"
    assert erased.changes["erased"][str(person.pk)]["contacts"] == 2
    assert "张太太" not in json.dumps(erased.changes, ensure_ascii=False)


def test_erasing_twice_changes_nothing_more_and_records_once(
    manager: User, person: Customer
) -> None:
    subject_erase(actor=manager, customer=person, reason="本人申请")
    first = Customer.objects.get(pk=person.pk)
    again = subject_erase(actor=manager, customer=first, reason="重复提交")
    assert again.erased_at == first.erased_at
    assert again.name == first.name
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DELETE).count() == 1


def test_customers_merged_into_the_subject_are_erased_with_it(
    manager: User, person: Customer, org: dict[str, Any]
) -> None:
    duplicate = CustomerFactory.create(
        name="张三（重复）",
        kind=Customer.Kind.PERSON,
        serving_team=org["team_a"],
        merged_into=person,
    )
    subject_erase(actor=manager, customer=person, reason="本人申请")
    duplicate.refresh_from_db()
    assert duplicate.name == f"已删除用户#{duplicate.pk}"
    assert duplicate.erased_at is not None


def test_an_erasure_without_a_reason_is_refused_and_changes_nothing(
    manager: User, person: Customer
) -> None:
    with pytest.raises(ApplicationError) as caught:
        subject_erase(actor=manager, customer=person, reason="   ")
    assert caught.value.fields == {"reason": ["此项为必填项。"]}
    person.refresh_from_db()
    assert person.name == "张三"


def test_the_api_erases_on_confirmation_only(
    manager: User, person: Customer, api_as: ApiAs
) -> None:
    path = f"/api/v1/privacy/customers/{person.pk}/erase"
    refused = api_as(manager).post(path, {"reason": "本人申请", "confirm": False})
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"] == {"confirm": ["必须为 true。"]}
    assert Customer.objects.get(pk=person.pk).erased_at is None
    answer = api_as(manager).post(path, {"reason": "本人申请", "confirm": True})
    assert answer.status_code == 200
    assert answer.json()["name"] == f"已删除用户#{person.pk}"
    assert answer.json()["erased_at"]


@pytest.mark.parametrize(
    "body", [{}, {"confirm": True}, {"reason": "", "confirm": True}, [], {"reason": "x" * 301}]
)
def test_bad_erase_bodies_get_field_errors(
    manager: User, person: Customer, api_as: ApiAs, body: Any
) -> None:
    answer = api_as(manager).post(f"/api/v1/privacy/customers/{person.pk}/erase", body)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid"
    assert Customer.objects.get(pk=person.pk).erased_at is None


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "export", "erase"),
    [
        ("manager", 200, 200),
        ("supervisor", 200, 403),  # may export and reveal, may not erase
        ("agent", 403, 403),
        ("gm", 403, 403),
        ("finance", 403, 403),
        ("auditor", 403, 403),
    ],
)
def test_who_may_export_and_erase(
    make_user: Callable[..., User],
    person: Customer,
    api_as: ApiAs,
    role: str,
    export: int,
    erase: int,
) -> None:
    user = make_user(f"u_{role}", role, teams=("team_a",))
    client = api_as(user)
    base = f"/api/v1/privacy/customers/{person.pk}"
    assert client.get(f"{base}/export").status_code == export
    assert (
        client.post(f"{base}/erase", {"reason": "本人申请", "confirm": True}).status_code == erase
    )
    assert (Customer.objects.get(pk=person.pk).erased_at is not None) == (erase == 200)


def test_a_customer_outside_the_scope_is_not_found(
    make_user: Callable[..., User], person: Customer, api_as: ApiAs
) -> None:
    # a supervisor of the repair department: may export, but 张三 is not theirs to see
    other = make_user("repair_lead", "supervisor", teams=("team_repair",), department="repair")
    client = api_as(other)
    base = f"/api/v1/privacy/customers/{person.pk}"
    assert client.get(f"{base}/export").status_code == 404
    assert client.post(f"{base}/erase", {"reason": "x", "confirm": True}).status_code == 404
    assert client.get("/api/v1/privacy/customers/999999/export").status_code == 404


def test_the_service_refuses_a_role_without_the_permission(
    supervisor: User, agent: User, person: Customer
) -> None:
    with pytest.raises(Forbidden):
        subject_erase(actor=supervisor, customer=person, reason="本人申请")
    with pytest.raises(Forbidden):
        subject_export(actor=agent, customer=person)


# --- web page --------------------------------------------------------------------------------


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_what_is_held_and_offers_export_and_erase_to_a_manager(
    manager: User, person: Customer
) -> None:
    page = _login(manager).get(f"/privacy/customers/{person.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="export-xlsx"' in html
    assert 'data-testid="erase-form"' in html
    assert "订单行" in html


def test_the_page_offers_no_erase_form_to_a_supervisor(supervisor: User, person: Customer) -> None:
    page = _login(supervisor).get(f"/privacy/customers/{person.pk}/")
    assert page.status_code == 200
    assert 'data-testid="erase-form"' not in page.content.decode()
    refused = _login(supervisor).post(
        f"/privacy/customers/{person.pk}/erase/", {"reason": "x", "confirm": "on"}
    )
    assert refused.status_code == 403


def test_the_page_is_refused_to_an_agent_and_unknown_to_an_outsider(
    agent: User, outsider: User, person: Customer
) -> None:
    assert _login(agent).get(f"/privacy/customers/{person.pk}/").status_code == 403
    assert _login(outsider).get(f"/privacy/customers/{person.pk}/").status_code == 404
    assert _login(outsider).get(f"/privacy/customers/{person.pk}/export.xlsx").status_code == 404


def test_the_web_export_downloads_xlsx_and_json(manager: User, person: Customer) -> None:
    client = _login(manager)
    xlsx = client.get(f"/privacy/customers/{person.pk}/export.xlsx")
    assert xlsx.status_code == 200
    assert "订单" in load_workbook(io.BytesIO(xlsx.content)).sheetnames
    answer = client.get(f"/privacy/customers/{person.pk}/export.json")
    assert json.loads(answer.content)["sections"]["profile"]["rows"][0]["name"] == "张三"
    assert client.get(f"/privacy/customers/{person.pk}/export.pdf").status_code == 404
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 2


def test_the_web_erase_needs_the_confirmation_box(manager: User, person: Customer) -> None:
    client = _login(manager)
    page = client.post(f"/privacy/customers/{person.pk}/erase/", {"reason": "本人申请"})
    assert page.status_code == 422
    assert Customer.objects.get(pk=person.pk).erased_at is None
    done = client.post(
        f"/privacy/customers/{person.pk}/erase/", {"reason": "本人申请", "confirm": "on"}
    )
    assert done.status_code == 302
    assert Customer.objects.get(pk=person.pk).erased_at is not None
    banner = client.get(f"/privacy/customers/{person.pk}/").content.decode()
    assert 'data-testid="erased-banner"' in banner
