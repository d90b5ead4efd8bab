from __future__ import annotations

from django.urls import path

from kefu.analytics import views

app_name = "analytics"

urlpatterns = [
    path("costs/", views.costs_view, name="costs"),
]
