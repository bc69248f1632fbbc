from django.urls import path

from . import views, views_followups, web

app_name = "inquiries"

urlpatterns = [
    path("inquiries/", views.queue, name="queue"),
    path("inquiries/search/", views.search, name="search"),
    path("inquiries/call/", views.new_call, name="new_call"),
    path("inquiries/new/<int:customer_id>/", views.new_inquiry, name="new"),
    path("inquiries/calls-due/", views_followups.calls_due, name="calls_due"),
    path("inquiries/calls-due/count/", views_followups.count, name="calls_due_count"),
    path("inquiries/calls-due/<int:pk>/", views_followups.log, name="follow_up_log"),
    path("inquiries/calls-due/<int:pk>/give/", views_followups.give, name="follow_up_give"),
    path("inquiries/<int:pk>/", views.detail, name="detail"),
    path("inquiries/<int:pk>/follow-up/", views_followups.panel, name="follow_up_panel"),
    path("inquiries/<int:pk>/claim/", views.claim, name="claim"),
    path("inquiries/<int:pk>/presence/", views.presence, name="presence"),
    path("inquiries/<int:pk>/leave/", views.leave, name="leave"),
    path("inquiries/<int:pk>/actions/<str:name>/", views.action, name="action"),
    path("inquiries/<int:pk>/remedies/<int:remedy_id>/", views.remedy_decide, name="remedy_decide"),
    path("inquiries/<int:pk>/steps/<int:step_id>/", views.plan_step_done, name="plan_step_done"),
    path("inquiries/<int:pk>/callbacks/<int:callback_id>/", views.callback_done, name="callback_done"),
    path("contact/", web.contact, name="contact"),
]
