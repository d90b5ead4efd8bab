from __future__ import annotations

from django.urls import URLPattern, path

from kefu.orders import views

app_name = "orders"

urlpatterns: list[URLPattern] = [
    path("", views.order_list_view, name="list"),
    path("import/", views.import_view, name="import"),
    path("import/<int:job_id>/", views.import_job_view, name="import_job"),
    path(
        "import/<int:job_id>/errors.<str:fmt>",
        views.import_job_errors_view,
        name="import_job_errors",
    ),
]
