from __future__ import annotations

from django.urls import path

from kefu.sla import views

app_name = "sla"

urlpatterns = [
    path("calendar/", views.calendar_index_view, name="calendar"),
    path("calendar/days/", views.calendar_day_view, name="calendar_day"),
    path(
        "calendar/days/<str:day>/delete/",
        views.calendar_day_delete_view,
        name="calendar_day_delete",
    ),
    path("calendar/notice/", views.holiday_notice_view, name="notice"),
]
