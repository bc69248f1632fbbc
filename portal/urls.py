from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("<str:token>/", views.status, name="status"),
    path("<str:token>/rate/", views.rate, name="rate_post"),
    path("<str:token>/rate/<int:score>/", views.rate, name="rate"),
    path("staff/inquiries/<int:inquiry_id>/links/", views.link_issue, name="link_issue"),
    path("staff/links/<int:link_id>/revoke/", views.link_revoke, name="link_revoke"),
]
