from django.urls import path

from kefu.mail import views

app_name = "mail"

urlpatterns = [
    path("", views.mail_log_view, name="log"),
]
