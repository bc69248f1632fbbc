"""The status page: the inquiry in the customer's words and language, the conversation without
internal notes, a reply that joins the inquiry like an email reply; mails carry the link."""

from __future__ import annotations

import email
from email import policy

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from inquiries import services as inquiry_services
from inquiries.enums import Channel, InquiryStatus, MessageKind
from inquiries.models import Message
from portal.models import CustomerLink

from ..factories import CustomerFactory
from ..inquiries.factories import InquiryFactory
from ..inquiries.mailkit import LoopbackController, SmtpSink


def _url(token: str) -> str:
    return reverse("portal:status", args=[token])


def test_the_page_shows_status_and_conversation_but_no_internal_note(inquiry, status_link, rep):
    inquiry_services.note_add(actor=rep, inquiry=inquiry, body="Internal: customer is difficult")
    response = Client().get(_url(status_link[1]))
    assert response.status_code == 200
    body = response.content.decode()
    assert inquiry.reference in body
    assert "We have received your inquiry" in body
    assert "My parcel is late." in body
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    assert "customer is difficult" not in body


def test_a_reply_reopens_a_resolved_inquiry_like_an_email_reply(resolved, system, django_capture_on_commit_callbacks):
    from portal import services

    _, token = services.link_issue(actor=system, inquiry=resolved)
    client = Client(enforce_csrf_checks=True)
    page = client.get(_url(token))
    csrf = page.cookies["csrftoken"].value
    assert client.post(_url(token), {"body": "Still broken."}).status_code == 403  # no CSRF token
    response = client.post(_url(token), {"body": "Still broken.", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 302 and response["Location"].endswith("?sent=1")
    resolved.refresh_from_db()
    assert resolved.status == InquiryStatus.OPEN and resolved.reopen_count == 1
    message = Message.objects.filter(inquiry=resolved).order_by("-pk").first()
    assert (message.kind, message.channel, message.body) == (MessageKind.INBOUND, Channel.WEB, "Still broken.")
    assert b"we have your message" in client.get(response["Location"]).content


def test_an_empty_reply_is_a_form_error_not_a_message(inquiry, status_link):
    before = Message.objects.filter(inquiry=inquiry).count()
    response = Client().post(_url(status_link[1]), {"body": "   "})
    assert response.status_code == 400
    assert b"Please write your message." in response.content
    assert Message.objects.filter(inquiry=inquiry).count() == before


def test_replies_are_rate_limited(inquiry, status_link, settings):
    settings.FD_PORTAL_RATE = 2
    client = Client()
    codes = [client.post(_url(status_link[1]), {"body": f"Message {n}"}).status_code for n in range(3)]
    assert codes == [302, 302, 429]
    assert Message.objects.filter(inquiry=inquiry, body="Message 2").count() == 0


@pytest.mark.parametrize("language", ["en", "ta", "fil", "bn", "hi"])
def test_the_page_renders_in_the_customers_language(language, system):
    from portal import services

    customer = CustomerFactory(preferred_language=language)
    inquiry = InquiryFactory(customer=customer)
    _, token = services.link_issue(actor=system, inquiry=inquiry)
    response = Client().get(_url(token))
    assert response.status_code == 200
    assert f'lang="{language}"'.encode() in response.content or language == "en"


def test_the_page_makes_the_same_queries_with_few_and_many_messages(
    inquiry, status_link, rep, django_assert_num_queries
):
    client = Client()
    client.get(_url(status_link[1]))  # first visit: last_used_at written

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(status_link[1])).status_code == 200
        return len(queries)

    few = count()
    for n in range(10):
        inquiry_services.message_receive(actor=rep, inquiry=inquiry, body=f"More {n}", channel=Channel.PHONE)
    assert count() == few == 2  # the link with inquiry and customer; the conversation


def test_every_reply_mail_carries_a_status_link_and_reuses_it(inquiry, rep, django_capture_on_commit_callbacks):
    for text in ["First answer.", "Second answer."]:
        with django_capture_on_commit_callbacks(execute=True):
            inquiry_services.reply_send(actor=rep, inquiry=inquiry, body=text)
    assert len(mail.outbox) == 2
    links = [line for m in mail.outbox for line in m.body.splitlines() if "/c/" in line]
    assert len(links) == 2 and links[0] == links[1]
    assert CustomerLink.objects.filter(inquiry=inquiry).count() == 1


@pytest.fixture
def smtp(settings):
    sink = SmtpSink()
    controller = LoopbackController(sink)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    yield sink
    controller.stop()


def test_end_to_end_the_link_from_a_real_mail_opens_the_page_and_the_reply_arrives(
    inquiry, rep, smtp, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        inquiry_services.reply_send(actor=rep, inquiry=inquiry, body="We found your parcel.")
    [raw] = smtp.messages
    text = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    [url] = [word for word in text.split() if word.startswith(settings.FD_SITE_URL + "/c/")]
    path = url[len(settings.FD_SITE_URL) :]
    client = Client()
    assert b"We found your parcel." in client.get(path).content
    assert client.post(path, {"body": "Thank you!"}).status_code == 302
    assert Message.objects.filter(inquiry=inquiry, kind=MessageKind.INBOUND, body="Thank you!").exists()


def test_the_web_form_acknowledgement_carries_the_status_link(db, django_capture_on_commit_callbacks):
    data = {"name": "Asha Rao", "email": "asha@example.com", "subject": "Late parcel", "body": "Where is it?"}
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(reverse("inquiries:contact"), data)
    assert response.status_code == 200
    [sent] = mail.outbox
    [line] = [line for line in sent.body.splitlines() if "/c/" in line]
    path = line[line.index("/c/") :]
    assert b"Where is it?" in Client().get(path).content
