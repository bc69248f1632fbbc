"""Inbound mail → inquiries: new inquiry or the thread it answers, attachments and their limits,
mail that cannot be processed, duplicates, HTML, charsets, quoted text."""

from __future__ import annotations

import base64
import email
import quopri
import threading
from email import policy
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from django.db import connection

from inquiries.enums import Channel, EventType, InquiryStatus, MessageKind
from inquiries.mail.inbound import html_to_text, mail_ingest, mail_process, mail_reprocess, strip_quoted
from inquiries.models import Attachment, InboundMail, Inquiry, InquiryEvent, Message
from orders.models import Customer

from ..conftest import require_service
from ..factories import CustomerFactory
from .factories import InquiryFactory
from .mailkit import make_mail

State = InboundMail.State
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def asha(db):
    return CustomerFactory(name="Asha Rao", email="Asha.Rao@Example.com")


def thread(customer, *, status=InquiryStatus.NEW, message_id="<first@mail.example.com>") -> Inquiry:
    return InquiryFactory(customer=customer, body="My keyboard is broken.", email_message_id=message_id, status=status)


def inbound_messages(inquiry: Inquiry) -> list[Message]:
    return list(inquiry.messages.filter(kind=MessageKind.INBOUND).order_by("pk"))


# --- new inquiries ------------------------------------------------------------------------------


def test_a_new_mail_opens_an_inquiry_for_a_new_customer(db):
    inbound = mail_ingest(make_mail(sender="Ravi Kumar <ravi@example.net>"), "test")

    assert inbound.state == State.PROCESSED, inbound.error
    inquiry = inbound.inquiry
    assert inquiry.subject == "Where is my parcel?"
    assert inquiry.channel == Channel.EMAIL
    assert inquiry.status == InquiryStatus.NEW
    customer = inquiry.customer
    assert (customer.name, customer.email) == ("Ravi Kumar", "ravi@example.net")
    [message] = inbound_messages(inquiry)
    assert message.body == "Hello, my order has not arrived."
    assert message.email_message_id == "<m1@mail.example.com>"
    assert message.sender_email == "ravi@example.net"
    stored = InboundMail.objects.get(pk=inbound.pk)
    assert (stored.state, stored.inquiry_id, stored.message_id) == (
        State.PROCESSED,
        inquiry.pk,
        "<m1@mail.example.com>",
    )
    assert bytes(stored.raw).startswith(b"From: Ravi Kumar")


def test_a_customer_without_a_display_name_is_named_by_the_address(db):
    inbound = mail_ingest(make_mail(sender="lena@example.org"), "test")

    assert inbound.inquiry.customer.name == "lena@example.org"


def test_a_known_customer_is_matched_by_email_case_insensitively(asha):
    before = Customer.objects.count()

    inbound = mail_ingest(make_mail(sender="ASHA <asha.rao@example.COM>"), "test")

    assert inbound.inquiry.customer == asha
    assert Customer.objects.count() == before


def test_a_mail_without_subject_or_text_still_opens_an_inquiry(db):
    inbound = mail_ingest(make_mail(subject="", text=""), "test")

    assert inbound.state == State.PROCESSED, inbound.error
    assert inbound.inquiry.subject == "(no subject)"
    assert inbound_messages(inbound.inquiry)[0].body == "(The mail had no text.)"


# --- threads ------------------------------------------------------------------------------------


def test_a_reply_joins_its_inquiry_by_in_reply_to(asha):
    inquiry = thread(asha)
    raw = make_mail(
        sender="someone.else@example.com",  # a colleague in the thread: the headers decide
        subject="Another subject altogether",
        text="It is the left shift key.\n\nOn Mon, 4 May 2026, Asha wrote:\n> My keyboard is broken.\n",
        message_id="<reply1@mail.example.com>",
        in_reply_to="<first@mail.example.com>",
    )

    inbound = mail_ingest(raw, "test")

    assert inbound.inquiry == inquiry
    _first, reply = inbound_messages(inquiry)
    assert reply.body == "It is the left shift key."  # the quoted mail below it is dropped
    assert reply.in_reply_to == "<first@mail.example.com>"
    assert reply.sender_email == "someone.else@example.com"
    assert Inquiry.objects.count() == 1


def test_a_reply_joins_by_a_message_id_deeper_in_references(asha):
    inquiry = thread(asha)
    raw = make_mail(
        subject="Re: your order",
        message_id="<reply2@mail.example.com>",
        in_reply_to="<not-ours@elsewhere.example>",
        references="<first@mail.example.com> <not-ours@elsewhere.example>",
    )

    assert mail_ingest(raw, "test").inquiry == inquiry


def test_a_reply_joins_by_the_reference_in_the_subject(asha):
    inquiry = thread(asha)
    raw = make_mail(
        sender="asha.rao@example.com", subject=f"Re: [{inquiry.reference}] Broken keyboard", text="Any news?"
    )

    inbound = mail_ingest(raw, "test")

    assert inbound.inquiry == inquiry
    assert inbound_messages(inquiry)[-1].body == "Any news?"


def test_a_reference_from_another_address_opens_a_new_inquiry(asha):
    inquiry = thread(asha)
    raw = make_mail(sender="stranger@example.com", subject=f"[{inquiry.reference}] let me in")

    inbound = mail_ingest(raw, "test")

    assert inbound.inquiry != inquiry
    assert inbound.inquiry.customer.email == "stranger@example.com"
    assert inquiry.messages.count() == 1


def test_a_reply_to_a_resolved_inquiry_reopens_it(asha):
    inquiry = thread(asha, status=InquiryStatus.RESOLVED)

    mail_ingest(make_mail(text="It broke again.", in_reply_to="<first@mail.example.com>"), "test")

    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN
    assert inquiry.reopen_count == 1
    assert inquiry.events.filter(type=EventType.STATUS_CHANGED, details__new=InquiryStatus.OPEN).exists()


@pytest.mark.parametrize(
    "header", ["Auto-Submitted: auto-replied", "X-Autoreply: yes", "Precedence: auto_reply", "Precedence: bulk"]
)
def test_an_automatic_reply_is_kept_but_reopens_nothing(asha, header):
    inquiry = thread(asha, status=InquiryStatus.RESOLVED)
    raw = make_mail(text="I am out of the office until Monday.", in_reply_to="<first@mail.example.com>")
    name, value = header.split(": ")
    raw = f"{name}: {value}\r\n".encode() + raw

    inbound = mail_ingest(raw, "test")

    inquiry.refresh_from_db()
    assert inbound.inquiry == inquiry
    assert (inquiry.status, inquiry.reopen_count) == (InquiryStatus.RESOLVED, 0)
    assert inbound_messages(inquiry)[-1].body == "I am out of the office until Monday."


# --- duplicates ---------------------------------------------------------------------------------


def test_the_same_message_id_twice_makes_one_message(db):
    raw = make_mail(message_id="<twice@mail.example.com>")

    first = mail_ingest(raw, "imap")
    second = mail_ingest(raw, "webhook")

    assert (first.state, second.state) == (State.PROCESSED, State.IGNORED)
    assert second.inquiry == first.inquiry
    assert Message.objects.filter(email_message_id="<twice@mail.example.com>").count() == 1
    assert Inquiry.objects.count() == 1
    assert InboundMail.objects.count() == 2  # both deliveries are on record


def test_a_reply_already_on_the_inquiry_is_not_added_again(asha):
    inquiry = thread(asha, message_id="<known@mail.example.com>")

    inbound = mail_ingest(make_mail(message_id="<known@mail.example.com>"), "test")

    assert (inbound.state, inbound.inquiry) == (State.IGNORED, inquiry)
    assert inquiry.messages.count() == 1


# --- attachments --------------------------------------------------------------------------------


def test_attachments_within_the_limits_are_stored(db):
    raw = make_mail(attachments=(("photo.png", "image/png", PNG), ("receipt.pdf", "application/pdf", PDF)))

    inbound = mail_ingest(raw, "test")

    message = inbound_messages(inbound.inquiry)[0]
    photo, receipt = Attachment.objects.filter(message=message).order_by("pk")
    assert (photo.filename, photo.content_type, photo.size) == ("photo.png", "image/png", len(PNG))
    assert photo.file.read() == PNG
    assert (receipt.filename, receipt.size) == ("receipt.pdf", len(PDF))


def test_an_oversized_attachment_is_refused_with_a_note_and_the_text_is_kept(db, settings):
    settings.FD_ATTACHMENT_MAX_BYTES = 1000
    big = PDF + b"0" * 2000
    raw = make_mail(text="See the two files.", attachments=(("big.pdf", "application/pdf", big),))

    inbound = mail_ingest(raw, "test")

    assert inbound.state == State.PROCESSED, inbound.error
    inquiry = inbound.inquiry
    assert inbound_messages(inquiry)[0].body == "See the two files."
    assert not Attachment.objects.exists()
    event = InquiryEvent.objects.get(inquiry=inquiry, type=EventType.ATTACHMENT_REFUSED)
    assert event.details["filename"] == "big.pdf"
    assert "limit" in event.details["reason"]
    assert event.actor_name == "mail"


def test_a_disallowed_type_is_refused_and_an_allowed_one_kept(db):
    raw = make_mail(
        attachments=(
            ("setup.exe", "application/x-msdownload", b"MZ\x90\x00"),
            ("photo.png", "image/png", PNG),
        )
    )

    inquiry = mail_ingest(raw, "test").inquiry

    assert list(Attachment.objects.values_list("filename", flat=True)) == ["photo.png"]
    [event] = InquiryEvent.objects.filter(inquiry=inquiry, type=EventType.ATTACHMENT_REFUSED)
    assert event.details["filename"] == "setup.exe"
    assert "application/x-msdownload" in event.details["reason"]


def test_a_file_whose_content_is_not_its_declared_type_is_refused(db):
    inquiry = mail_ingest(make_mail(attachments=(("invoice.pdf", "application/pdf", b"MZ\x90\x00"),)), "test").inquiry

    assert not Attachment.objects.exists()
    event = InquiryEvent.objects.get(inquiry=inquiry, type=EventType.ATTACHMENT_REFUSED)
    assert "not a application/pdf" in event.details["reason"]


def test_a_dangerous_file_name_is_refused_even_with_an_allowed_type(db):
    inquiry = mail_ingest(make_mail(attachments=(("run.sh", "text/plain", b"rm -rf /"),)), "test").inquiry

    assert not Attachment.objects.exists()
    assert InquiryEvent.objects.filter(inquiry=inquiry, type=EventType.ATTACHMENT_REFUSED).exists()


def test_an_octet_stream_pdf_is_judged_by_its_name_and_content(db):
    mail_ingest(make_mail(attachments=(("scan.pdf", "application/octet-stream", PDF),)), "test")

    assert Attachment.objects.get().content_type == "application/pdf"


def test_a_forwarded_mail_inside_is_refused_as_a_file_but_the_text_is_kept(db):
    inner = make_mail(sender="shop@example.com", text="Your order shipped.", message_id="<inner@x>")
    outer = make_mail(text="See below, forwarded.", message_id="<outer@x>")
    msg = email.message_from_bytes(outer, policy=policy.default)
    msg.add_attachment(email.message_from_bytes(inner, policy=policy.default))
    inbound = mail_ingest(msg.as_bytes(), "test")

    assert inbound.state == State.PROCESSED, inbound.error
    assert inbound_messages(inbound.inquiry)[0].body == "See below, forwarded."
    event = InquiryEvent.objects.get(inquiry=inbound.inquiry, type=EventType.ATTACHMENT_REFUSED)
    assert event.details["reason"] == "Files of type message/rfc822 are not accepted."


# --- failures: kept, never lost -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, why",
    [
        (b"\x00\xff\xfe this is not a mail at all", "no valid sender"),
        (b"From: not an address\r\nSubject: x\r\n\r\nbody\r\n", "no valid sender"),
        (b"", "empty"),
        (b"   \r\n", "empty"),
    ],
)
def test_a_mail_that_cannot_be_processed_is_kept_as_failed(db, raw, why):
    inbound = mail_ingest(raw, "test")

    stored = InboundMail.objects.get(pk=inbound.pk)
    assert stored.state == State.FAILED
    assert why in stored.error
    assert bytes(stored.raw) == raw
    assert stored.inquiry is None
    assert not Inquiry.objects.exists()


def test_an_oversized_mail_is_kept_as_failed_and_can_be_processed_again(db, settings):
    settings.FD_INBOUND_MAIL_MAX_BYTES = 200
    inbound = mail_ingest(make_mail(text="x" * 500), "test")
    assert inbound.state == State.FAILED
    assert "limit" in inbound.error
    assert not Inquiry.objects.exists()

    settings.FD_INBOUND_MAIL_MAX_BYTES = 30 * 1024 * 1024
    again = mail_reprocess(InboundMail.objects.get(pk=inbound.pk))

    assert again.state == State.PROCESSED
    assert again.error == ""
    assert InboundMail.objects.get(pk=inbound.pk).inquiry == Inquiry.objects.get()


def test_a_processed_mail_is_not_processed_again(db):
    inbound = mail_ingest(make_mail(), "test")

    mail_reprocess(inbound)

    assert Message.objects.count() == 1


def test_a_failure_inside_processing_leaves_nothing_half_written(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("inquiries.mail.inbound._attach", broken)
    inbound = mail_ingest(make_mail(attachments=(("photo.png", "image/png", PNG),)), "test")

    assert inbound.state == State.FAILED
    assert inbound.error == "RuntimeError: disk full"
    assert not Inquiry.objects.exists()
    assert not Customer.objects.filter(email="asha@example.com").exists()


def test_a_very_long_text_is_cut_with_a_pointer_to_the_kept_mail(db):
    inbound = mail_ingest(make_mail(text="word " * 12_000), "test")

    body = inbound_messages(inbound.inquiry)[0].body
    assert len(body) <= 50_000
    assert f"inbound mail #{inbound.pk}" in body


# --- text: HTML, charsets, quoting --------------------------------------------------------------


def test_an_html_only_mail_becomes_plain_text(db):
    html = (
        "<html><head><title>t</title><style>p {color: red}</style></head><body>"
        "<script>alert('x')</script><p>Hello &amp; good <b>morning</b>,</p>"
        "<p>my order <a href='https://shop.example/o/7'>FD-7</a> is late.<br>Thanks</p>"
        "<img src='cid:1' alt='logo'><!-- a comment --></body></html>"
    )

    inbound = mail_ingest(make_mail(text=None, html=html), "test")

    body = inbound_messages(inbound.inquiry)[0].body
    assert body == "Hello & good morning,\n\nmy order FD-7 <https://shop.example/o/7> is late.\nThanks\n\n[logo]"
    assert "<" not in body.replace("<https://shop.example/o/7>", "")
    assert "alert" not in body and "color" not in body


def test_plain_text_is_preferred_over_html(db):
    raw = make_mail(text="The plain words.", html="<p>The <i>rich</i> words.</p>")

    assert inbound_messages(mail_ingest(raw, "test").inquiry)[0].body == "The plain words."


def test_text_parts_around_a_picture_are_all_kept(db):
    msg = MIMEMultipart("mixed")
    msg["From"] = "asha@example.com"
    msg["Subject"] = "Photo"
    msg.attach(MIMEText("Before the picture."))
    msg.attach(MIMEImage(PNG, "png"))
    msg.attach(MIMEText("After the picture."))
    raw = email.message_from_string(msg.as_string(), policy=policy.default).as_bytes()

    inbound = mail_ingest(raw, "test")

    assert inbound_messages(inbound.inquiry)[0].body == "Before the picture.\n\nAfter the picture."
    assert Attachment.objects.get().content_type == "image/png"


@pytest.mark.parametrize(
    "text",
    [
        "வணக்கம், என் ஆர்டர் இன்னும் வரவில்லை.",  # Tamil
        "नमस्ते, मेरा ऑर्डर अभी तक नहीं आया।",  # Hindi
    ],
)
def test_utf8_mail_in_indian_scripts(db, text):
    subject = text.split(",")[0]
    raw = make_mail(sender="ப்ரியா ராமன் <priya@example.in>", subject=subject, text=text)

    inbound = mail_ingest(raw, "test")

    assert inbound.inquiry.subject == subject
    assert inbound.inquiry.customer.name == "ப்ரியா ராமன்"
    assert inbound_messages(inbound.inquiry)[0].body == text


@pytest.mark.parametrize(
    "charset, encoding",
    [("iso-8859-1", "8bit"), ("windows-1252", "quoted-printable"), ("iso-8859-1", "base64")],
)
def test_latin1_and_windows_1252_mail(db, charset, encoding):
    text = "Grüße aus Köln – das Paket ist beschädigt, 50 €."
    if charset == "iso-8859-1":
        text = "Grüße aus Köln, das Paket ist beschädigt: ½ kaputt."
    payload = text.encode(charset)
    if encoding == "base64":
        body = base64.encodebytes(payload)
    elif encoding == "quoted-printable":
        body = quopri.encodestring(payload)
    else:
        body = payload
    raw = (
        b"From: =?iso-8859-1?q?J=FCrgen_M=FCller?= <juergen@example.de>\r\n"
        b"Subject: =?iso-8859-1?q?Besch=E4digt?=\r\n"
        b"Message-ID: <latin@example.de>\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n".encode()
        + body
    )

    inbound = mail_ingest(raw, "test")

    assert inbound.state == State.PROCESSED, inbound.error
    assert inbound.inquiry.subject == "Beschädigt"
    assert inbound.inquiry.customer.name == "Jürgen Müller"
    assert inbound_messages(inbound.inquiry)[0].body == text


def test_an_unknown_or_wrong_charset_falls_back_without_failing(db):
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=x-made-up\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "Größe: groß".encode()
    )

    inbound = mail_ingest(raw, "test")

    assert inbound_messages(inbound.inquiry)[0].body == "Größe: groß"


def test_quoted_text_is_kept_when_the_customer_wrote_between_the_quotes():
    text = "On Mon, Support wrote:\n> Which key?\nThe shift key.\n> Since when?\nSince Monday."

    assert strip_quoted(text) == text


def test_only_a_trailing_quote_with_words_above_it_is_dropped():
    assert strip_quoted("> all quoted\n> nothing else") == "> all quoted\n> nothing else"
    wrapped = "Thanks!\n\nOn Mon, 4 May 2026 at 10:00, Support <\nsupport@desk.example> wrote:\n\n> Hello\n"
    assert strip_quoted(wrapped) == "Thanks!"
    assert strip_quoted("Thanks!\n\n> Hello") == "Thanks!"


def test_a_new_inquiry_keeps_quoted_text(db):
    text = "My colleague wrote:\n> The parcel came back damaged."

    inbound = mail_ingest(make_mail(text=text), "test")

    assert inbound_messages(inbound.inquiry)[0].body == text


def test_html_blockquotes_are_quoted_and_stripped_from_replies(asha):
    inquiry = thread(asha)
    html = "<div>Yes, please.</div><div>On Mon, Support wrote:<blockquote>Shall we send a new one?</blockquote></div>"

    mail_ingest(make_mail(text=None, html=html, in_reply_to="<first@mail.example.com>"), "test")

    assert inbound_messages(inquiry)[-1].body == "Yes, please."
    assert html_to_text(html) == "Yes, please.\nOn Mon, Support wrote:\n\n> Shall we send a new one?"


def test_a_row_processed_meanwhile_is_left_as_it_is(db):
    inbound = mail_ingest(make_mail(), "test")
    stale = InboundMail.objects.get(pk=inbound.pk)
    stale.state = State.RECEIVED  # as another process saw it before this one finished

    result = mail_process(stale)

    assert (result.state, result.inquiry) == (State.PROCESSED, inbound.inquiry)
    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_the_same_time_make_one_message():
    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL: set DATABASE_URL=postgres://… (the in-memory SQLite test database locks across threads)",
    )
    raw = make_mail(message_id="<race@mail.example.com>")
    barrier = threading.Barrier(2)
    states, errors = [], []

    def deliver():
        try:
            barrier.wait()
            inbound = mail_ingest(raw, "webhook")
            states.append(inbound.state)
            errors.append(inbound.error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread_ in threads:
        thread_.start()
    for thread_ in threads:
        thread_.join(30)

    assert sorted(states) == [State.IGNORED, State.PROCESSED], errors
    assert Message.objects.filter(email_message_id="<race@mail.example.com>").count() == 1
    assert Inquiry.objects.count() == 1


def test_nul_and_control_characters_do_not_break_storing_or_processing(db):
    raw = (
        b"From: Asha\x00 <asha@example.com>\r\nSubject: Broken\x00 parcel\r\n"
        b"Message-ID: <nul\x00id@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Hello\x00 there\r\n"
    )

    inbound = mail_ingest(raw, "test")

    assert inbound.state == State.PROCESSED, inbound.error
    assert inbound.inquiry.subject == "Broken parcel"
    assert inbound_messages(inbound.inquiry)[0].body == "Hello there"
