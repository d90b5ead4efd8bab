from __future__ import annotations

from django.urls import URLPattern, path

from kefu.dispatch import views

app_name = "dispatch"

urlpatterns: list[URLPattern] = [
    path("", views.monitor_view, name="monitor"),
    path("inbox/", views.inbox_view, name="inbox"),
    path("<int:work_order_id>/", views.detail_view, name="detail"),
    path("<int:work_order_id>/transition/", views.transition_view, name="transition"),
    path("ticket/<int:ticket_id>/dispatch/", views.dispatch_view, name="dispatch"),
]
