"""The help center's web inquiry form: the contact form's intake, with article suggestions."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from helpcenter.models import WebInquiry
from inquiries.enums import Channel
from inquiries.models import Inquiry
from orders.models import Customer

from .factories import make_article

pytestmark = pytest.mark.django_db
DATA = {"name": "Kavya Raman", "email": "kavya@example.com", "subject": "Refund missing", "body": "Where is it?"}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_the_form_asks_for_suggestions_as_the_subject_is_typed(client):
    page = client.get("/help/ta/contact/").content.decode()
    assert 'hx-get="/help/ta/suggest/"' in page and 'name="subject"' in page and 'id="suggestions"' in page
    make_article(title="Refund times")
    response = client.get("/help/ta/suggest/", {"subject": "refun"})
    assert "Refund times" in response.content.decode()


def test_it_creates_a_web_inquiry_and_emails_the_reference_in_the_page_language(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/help/ta/contact/", DATA)
    assert response.status_code == 200
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == Channel.WEB and inquiry.subject == "Refund missing"
    assert inquiry.messages.get().body == "Where is it?"
    assert Customer.objects.get().preferred_language == "ta"
    assert inquiry.reference in response.content.decode()
    assert len(mail.outbox) == 1
    assert inquiry.reference in mail.outbox[0].subject and mail.outbox[0].to == ["kavya@example.com"]
    assert WebInquiry.objects.get().session_key == client.session.session_key


def test_a_known_customer_is_reused(client, customer):
    client.post("/help/en/contact/", {**DATA, "email": customer.email.upper()})
    assert Inquiry.objects.get().customer == customer
    assert Customer.objects.count() == 1


def test_the_honeypot_keeps_nothing(client):
    response = client.post("/help/en/contact/", {**DATA, "website": "http://spam"})
    assert response.status_code == 200 and not Inquiry.objects.exists() and not mail.outbox


def test_bad_input_is_400_with_field_errors(client):
    response = client.post("/help/fil/contact/", {"name": "", "email": "nope", "subject": "", "body": ""})
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"name", "email", "subject", "body"}
    assert not Inquiry.objects.exists()


def test_it_shares_the_contact_form_rate_limit(settings):
    settings.FD_WEB_FORM_RATE = 2
    client = Client()
    assert client.post("/contact/", DATA).status_code == 200
    assert [client.post("/help/en/contact/", DATA).status_code for _ in range(2)] == [200, 429]
    assert Inquiry.objects.count() == 2


def test_a_post_needs_the_csrf_token():
    response = Client(enforce_csrf_checks=True).post("/help/en/contact/", DATA)
    assert response.status_code == 403 and not Inquiry.objects.exists()
