from __future__ import annotations

from django.urls import path

from kefu.tiering import views

app_name = "tiering"

urlpatterns = [
    path("", views.tier_index_view, name="index"),
    path("recompute/", views.recompute_view, name="recompute"),
    path("rules/new/", views.rule_set_create_view, name="rule_set_create"),
    path("rules/<int:rule_set_id>/", views.rule_set_edit_view, name="rule_set"),
    path("rules/<int:rule_set_id>/activate/", views.rule_set_activate_view, name="activate"),
    path("customers/<int:customer_id>/", views.tier_panel_view, name="panel"),
    path("customers/<int:customer_id>/pin/", views.pin_view, name="pin"),
    path("customers/<int:customer_id>/unpin/", views.unpin_view, name="unpin"),
]
