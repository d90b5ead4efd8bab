from __future__ import annotations

from django.urls import path

from kefu.routing import views

app_name = "routing"

urlpatterns = [
    path("board/", views.board_view, name="board"),
    path("presence/", views.presence_view, name="presence"),
    path("presence/heartbeat/", views.heartbeat_view, name="heartbeat"),
    path("rules/", views.rules_view, name="rules"),
    path("rules/new/", views.rule_create_view, name="rule_create"),
    path("rules/<int:rule_id>/", views.rule_edit_view, name="rule"),
    path("rules/<int:rule_id>/delete/", views.rule_delete_view, name="rule_delete"),
    path("skills/", views.skills_view, name="skills"),
]
