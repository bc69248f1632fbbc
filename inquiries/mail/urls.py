"""Included under ``inbound/``: POST /inbound/mail/ (with or without the slash)."""

from django.urls import re_path

from . import views

app_name = "inbound_mail"
urlpatterns = [
    re_path(r"^mail/?$", views.inbound_mail, name="webhook"),
]
