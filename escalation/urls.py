from django.urls import path  # noqa: F401  (the review pages are added here)

app_name = "escalation"

urlpatterns: list = []
