from django.urls import path

from kefu.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list_view, name="list"),
    path("new/", views.customer_create_view, name="create"),
    path("export/", views.customer_export_view, name="export"),
    path("<int:customer_id>/", views.customer_detail_view, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit_view, name="edit"),
    path("<int:customer_id>/reveal/", views.customer_reveal_view, name="reveal"),
    path("<int:customer_id>/merge/", views.customer_merge_view, name="merge"),
]

for _part in ("contact", "address", "asset"):
    urlpatterns += [
        path(
            f"<int:customer_id>/{_part}s/new/",
            views.customer_part_view,
            {"part": _part},
            name=f"{_part}_create",
        ),
        path(
            f"<int:customer_id>/{_part}s/<int:part_id>/edit/",
            views.customer_part_view,
            {"part": _part},
            name=f"{_part}_edit",
        ),
        path(
            f"<int:customer_id>/{_part}s/<int:part_id>/delete/",
            views.customer_part_delete_view,
            {"part": _part},
            name=f"{_part}_delete",
        ),
    ]
