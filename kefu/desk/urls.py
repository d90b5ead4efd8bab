from __future__ import annotations

from django.urls import URLPattern, path

from kefu.desk import views

app_name = "desk"

urlpatterns: list[URLPattern] = [
    path("", views.ticket_list_view, name="list"),
    path("new/", views.ticket_create_view, name="create"),
    path("notifications/", views.notifications_view, name="notifications"),
    path("<int:ticket_id>/", views.ticket_detail_view, name="detail"),
    path("<int:ticket_id>/transition/", views.ticket_transition_view, name="transition"),
    path("<int:ticket_id>/comment/", views.ticket_comment_view, name="comment"),
    path(
        "<int:ticket_id>/attachments/<int:attachment_id>/",
        views.attachment_view,
        name="attachment",
    ),
]
