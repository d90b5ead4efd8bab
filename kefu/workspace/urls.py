from __future__ import annotations

from django.urls import URLPattern, path

from kefu.workspace import views

app_name = "workspace"

urlpatterns: list[URLPattern] = [
    path("bulk/", views.bulk_view, name="bulk"),
    path("load/", views.load_view, name="load"),
    path("tickets/<int:ticket_id>/reply/", views.reply_fill_view, name="reply_fill"),
    path("tickets/<int:ticket_id>/macro/", views.macro_run_view, name="macro_run"),
    path("tickets/<int:ticket_id>/merge/", views.merge_view, name="merge"),
    path("replies/", views.replies_view, name="replies"),
    path("replies/new/", views.reply_create_view, name="reply_create"),
    path("replies/<int:item_id>/", views.reply_edit_view, name="reply_edit"),
    path(
        "replies/<int:item_id>/delete/", views.delete_view, {"kind": "reply"}, name="reply_delete"
    ),
    path("macros/new/", views.macro_create_view, name="macro_create"),
    path("macros/<int:item_id>/", views.macro_edit_view, name="macro_edit"),
    path("macros/<int:item_id>/delete/", views.delete_view, {"kind": "macro"}, name="macro_delete"),
]
