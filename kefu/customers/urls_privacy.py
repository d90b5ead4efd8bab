from django.urls import path

from kefu.customers import views_privacy

app_name = "privacy"

urlpatterns = [
    path("customers/<int:customer_id>/", views_privacy.subject_request_view, name="customer"),
    path(
        "customers/<int:customer_id>/export.<str:fmt>",
        views_privacy.subject_export_view,
        name="export",
    ),
    path("customers/<int:customer_id>/erase/", views_privacy.subject_erase_view, name="erase"),
]
