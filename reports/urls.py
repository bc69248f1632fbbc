from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("weekly/", views.weekly, name="weekly"),
    path("<slug:key>.csv", views.metric_csv, name="csv"),
]
