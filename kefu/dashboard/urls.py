from __future__ import annotations

from django.urls import URLPattern, path

from kefu.dashboard import views

app_name = "dashboard"

urlpatterns: list[URLPattern] = [
    path("", views.dashboard_view, name="index"),
    path("data/", views.dashboard_data_view, name="data"),
]
