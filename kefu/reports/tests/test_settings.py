"""ReportSettings: defaults, validation in Chinese (nothing saved on error), audit, the page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Forbidden
from kefu.org.models import User
from kefu.reports.models import SETTINGS_FIELDS, ReportSettings
from kefu.reports.services import report_settings_update

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(**changes: Any) -> dict[str, Any]:
    data = model_to_dict(ReportSettings.load(), fields=SETTINGS_FIELDS)
    data.update(changes)
    return {key: str(value) for key, value in data.items()}


def test_load_creates_the_one_row_with_the_defaults() -> None:
    settings = ReportSettings.load()

    assert ReportSettings.load().pk == settings.pk
    assert ReportSettings.objects.count() == 1
    assert (settings.min_orders_t12, settings.min_revenue_t12) == (2, Decimal("10000.00"))
    assert (settings.seasonal_base_months, settings.default_gap_days) == (15, 90)
    assert (settings.churn_min_days, settings.churn_gap_multiple) == (180, Decimal("3"))
    assert (settings.at_risk_min_days, settings.at_risk_margin) == (45, Decimal("0.20"))
    assert (settings.rising_ratio, settings.falling_ratio) == (Decimal("1.2"), Decimal("0.8"))
    assert (settings.severe_drop, settings.anomaly_z) == (Decimal("0.5"), Decimal("3.5"))
    assert (settings.overdue_days, settings.exposure_ratio) == (30, Decimal("0.9"))
    assert settings.category_share_points == Decimal("30")
    assert (settings.unit_cost_ticket, settings.unit_cost_call, settings.unit_cost_repair) == (
        Decimal("30.00"),
        Decimal("8.00"),
        Decimal("150.00"),
    )
    settings.full_clean()  # the defaults are valid


def test_update_saves_and_audits_what_changed(manager: User) -> None:
    report_settings_update(
        actor=manager, data={"rising_ratio": Decimal("1.3"), "unit_cost_call": Decimal("9.50")}
    )

    settings = ReportSettings.load()
    assert (settings.rising_ratio, settings.unit_cost_call) == (Decimal("1.3"), Decimal("9.50"))
    assert settings.updated_by == manager
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert event.object_type == "reports.reportsettings"
    assert event.changes == {
        "rising_ratio": ["1.2000", "1.3"],
        "unit_cost_call": ["8.00", "9.50"],
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"rising_ratio": Decimal("0.9")}, "rising_ratio", "上升比例须大于 1（如 1.2）。"),
        (
            {"falling_ratio": Decimal("1.1")},
            "falling_ratio",
            "下降比例须在 0 到 1 之间（如 0.8）。",
        ),
        ({"unit_cost_repair": Decimal("-1")}, "unit_cost_repair", "金额不能为负数。"),
        ({"min_revenue_t12": Decimal("-0.01")}, "min_revenue_t12", "金额不能为负数。"),
        ({"severe_drop": Decimal("0.85")}, "severe_drop", "严重下降比例须大于 0 且小于下降比例。"),
        ({"at_risk_margin": Decimal("1")}, "at_risk_margin", "须在 0 到 1 之间（如 0.20）。"),
        (
            {"churn_min_days": 40},
            "churn_min_days",
            "流失的最少天数须大于流失预警的最少天数。",
        ),
        ({"min_orders_t12": 0}, "min_orders_t12", "至少为 1。"),
    ],
)
def test_bad_values_are_refused_in_chinese_and_nothing_is_saved(
    manager: User, changes: dict[str, Any], field: str, message: str
) -> None:
    data = {"unit_cost_ticket": Decimal("35.00"), **changes}

    with pytest.raises(ApplicationError) as refused:
        report_settings_update(actor=manager, data=data)

    assert refused.value.status == 422
    assert message in refused.value.fields[field]
    assert ReportSettings.load().unit_cost_ticket == Decimal("30.00")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()


def test_unknown_fields_and_roles_without_the_permission_are_refused(
    manager: User, supervisor: User
) -> None:
    with pytest.raises(ApplicationError, match="未知的设置项：owner"):
        report_settings_update(actor=manager, data={"owner": 1})
    with pytest.raises(Forbidden):
        report_settings_update(actor=supervisor, data={"rising_ratio": Decimal("1.5")})
    assert ReportSettings.load().rising_ratio == Decimal("1.2")


def test_settings_page_saves_for_a_manager(manager: User) -> None:
    client = client_for(manager)
    assert client.get("/reports/settings/").status_code == 200

    answer = client.post(
        "/reports/settings/", form_data(churn_min_days=200, unit_cost_ticket="32.5")
    )

    assert (answer.status_code, answer["Location"]) == (302, "/reports/settings/")
    settings = ReportSettings.load()
    assert (settings.churn_min_days, settings.unit_cost_ticket) == (200, Decimal("32.50"))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, actor=manager).count() == 1


def test_settings_page_shows_errors_and_saves_nothing(manager: User) -> None:
    answer = client_for(manager).post(
        "/reports/settings/",
        form_data(rising_ratio="0.95", unit_cost_call="-3", churn_min_days="abc"),
    )

    assert answer.status_code == 422
    html = answer.content.decode()
    assert "设置有误，未保存：请按提示修改。" in html
    assert 'data-field-error="churn_min_days"' in html
    settings = ReportSettings.load()
    assert (settings.rising_ratio, settings.unit_cost_call) == (Decimal("1.2"), Decimal("8.00"))
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()


def test_settings_page_model_errors_reach_the_form(manager: User) -> None:
    answer = client_for(manager).post(
        "/reports/settings/", form_data(rising_ratio="0.95", unit_cost_call="-3")
    )

    assert answer.status_code == 422
    html = answer.content.decode()
    assert "上升比例须大于 1（如 1.2）。" in html
    assert "金额不能为负数。" in html
    assert ReportSettings.load().rising_ratio == Decimal("1.2")


def test_settings_page_is_for_managers(supervisor: User, finance: User) -> None:
    for user in (supervisor, finance):
        client = client_for(user)
        assert client.get("/reports/settings/").status_code == 403
        assert client.post("/reports/settings/", form_data(rising_ratio="1.5")).status_code == 403
    assert ReportSettings.load().rising_ratio == Decimal("1.2")
