from __future__ import annotations

from django.urls import path, re_path

from kefu.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_index_view, name="index"),
    path("settings/", views.report_settings_view, name="settings"),
    re_path(r"^monthly/(?P<month>[^/]{1,20})/$", views.monthly_report_view, name="monthly"),
    re_path(
        r"^monthly/(?P<month>[^/]{1,20})/regenerate/$",
        views.monthly_report_regenerate_view,
        name="regenerate",
    ),
    path("archive/<int:report_id>/", views.archived_report_view, name="archived"),
    path("archive/<int:report_id>/<str:fmt>/", views.report_download_view, name="download"),
]
