from __future__ import annotations

from django.urls import path

from kefu.credit import views

app_name = "credit"

urlpatterns = [
    path("", views.credit_overview_view, name="overview"),
    path("policy/", views.credit_policy_view, name="policy"),
    path(
        "customers/<int:customer_id>/edit/", views.credit_customer_edit_view, name="customer_edit"
    ),
    path("holds/<int:order_id>/clear/", views.credit_hold_clear_view, name="hold_clear"),
]
