from django.urls import path, re_path

from .api import MetricDetailView, MetricListView, TeamListView

urlpatterns = [
    path("metrics/", MetricListView.as_view(), name="api-metrics-list"),
    path("teams/", TeamListView.as_view(), name="api-teams-list"),
    re_path(r"^metrics/(?P<key>[-a-zA-Z0-9_]+)/$", MetricDetailView.as_view(), name="api-metrics-detail"),
]
