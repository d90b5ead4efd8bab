from django.urls import path

from kefu.audit import views

app_name = "audit"

urlpatterns = [path("", views.audit_event_list_view, name="list")]
