from django.urls import path

from kefu.calls import views

app_name = "calls"

urlpatterns = [
    path("", views.call_list_view, name="list"),
    path("pop/", views.screen_pop_view, name="pop"),
    path("callbacks/", views.callback_list_view, name="callbacks"),
    path("callbacks/<int:task_id>/attempts/", views.callback_attempt_view, name="callback_attempt"),
    path("<int:call_id>/new-customer/", views.call_new_customer_view, name="new_customer"),
    path("<int:call_id>/ticket/", views.call_make_ticket_view, name="make_ticket"),
]
