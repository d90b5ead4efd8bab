from __future__ import annotations

from django.urls import URLPattern, path

from kefu.portal import views

app_name = "portal"

urlpatterns: list[URLPattern] = [
    path("", views.support_form_view, name="form"),
    path("t/<str:token>/", views.support_status_view, name="status"),
    path(
        "t/<str:token>/files/<int:attachment_id>/",
        views.support_attachment_view,
        name="attachment",
    ),
    path("agent/tickets/<int:ticket_id>/link/", views.panel_link_view, name="regenerate"),
]
