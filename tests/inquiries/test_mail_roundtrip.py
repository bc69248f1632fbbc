"""A reply leaves through a real SMTP server on loopback (aiosmtpd) with its threading headers,
and the customer's answer to it, fed back through mail_ingest, joins the same inquiry."""

from __future__ import annotations

import email
from email import policy

import pytest

from inquiries import services
from inquiries.enums import MessageKind
from inquiries.mail.inbound import mail_ingest
from inquiries.models import InboundMail, Message

from .mailkit import LoopbackController, SmtpSink, make_mail


@pytest.fixture
def smtp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    sink = SmtpSink()
    controller = LoopbackController(sink)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    yield sink
    controller.stop()


def reply(rep, inquiry, django_capture_on_commit_callbacks, text="We are sending a new keyboard.") -> Message:
    with django_capture_on_commit_callbacks(execute=True):
        message = services.reply_send(actor=rep, inquiry=inquiry, body=text)
    message.refresh_from_db()
    return message


def test_a_reply_goes_out_threaded_and_the_answer_joins_the_inquiry(db, rep, smtp, django_capture_on_commit_callbacks):
    first = mail_ingest(
        make_mail(sender="Asha Rao <asha@example.com>", subject="Broken keyboard", message_id="<c1@mail.example.com>"),
        "imap",
    )
    inquiry = first.inquiry

    outbound = reply(rep, inquiry, django_capture_on_commit_callbacks)

    assert outbound.sent_at is not None and outbound.send_error == ""
    [raw] = smtp.messages
    sent = email.message_from_bytes(raw, policy=policy.default)
    assert sent["Message-ID"] == outbound.email_message_id
    assert sent["In-Reply-To"] == "<c1@mail.example.com>"
    assert "<c1@mail.example.com>" in sent["References"]
    assert f"[{inquiry.reference}]" in sent["Subject"]
    assert sent["To"] == "asha@example.com"
    assert smtp.envelopes[0].rcpt_tos == ["asha@example.com"]
    assert "We are sending a new keyboard." in sent.get_body(("plain",)).get_content()

    answer = make_mail(
        sender="Asha Rao <asha@example.com>",
        subject="Re: " + sent["Subject"],
        text="Thank you!\n\nOn Tue, Support wrote:\n> We are sending a new keyboard.",
        message_id="<c2@mail.example.com>",
        in_reply_to=sent["Message-ID"],
        references=f"{sent['References']} {sent['Message-ID']}",
    )
    joined = mail_ingest(answer, "imap")

    assert joined.state == InboundMail.State.PROCESSED, joined.error
    assert joined.inquiry == inquiry
    kinds = list(inquiry.messages.order_by("pk").values_list("kind", "body"))
    assert kinds == [
        (MessageKind.INBOUND, "Hello, my order has not arrived."),
        (MessageKind.OUTBOUND, outbound.body),
        (MessageKind.INBOUND, "Thank you!"),
    ]

    # The next reply names the whole thread.
    reply(rep, inquiry, django_capture_on_commit_callbacks, text="Glad to help.")
    second = email.message_from_bytes(smtp.messages[-1], policy=policy.default)
    assert second["In-Reply-To"] == "<c2@mail.example.com>"
    assert second["References"].split() == ["<c1@mail.example.com>", outbound.email_message_id, "<c2@mail.example.com>"]


def test_an_answer_that_lost_its_headers_joins_by_the_reference(db, rep, smtp, django_capture_on_commit_callbacks):
    inquiry = mail_ingest(make_mail(sender="asha@example.com", message_id="<d1@mail.example.com>"), "imap").inquiry
    reply(rep, inquiry, django_capture_on_commit_callbacks)
    sent = email.message_from_bytes(smtp.messages[0], policy=policy.default)

    answer = make_mail(sender="ASHA@example.com", subject="Re: " + sent["Subject"], message_id="<d2@mail.example.com>")

    assert mail_ingest(answer, "webhook").inquiry == inquiry
