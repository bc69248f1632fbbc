"""Replies and notes: templates and placeholders, greeting and closing in the customer's language,
the stale-reply guard, the status a reply moves to, and the mail it queues."""

from __future__ import annotations

import pytest
from django.utils import translation

from fulfillment import clock
from fulfillment.errors import InvalidInput, TransitionNotAllowed
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import Channel, EventType, InquiryStatus, MessageKind
from inquiries.mail import outbound
from inquiries.models import Message
from inquiries.services import compose
from inquiries.services.work import StaleReply

from ..factories import CustomerFactory, UserFactory
from .conftest import NOW
from .factories import InquiryFactory, ResponseTemplateFactory
from .helpers import events_of, fresh, last_event, snapshot

S = InquiryStatus


def mails(queued) -> list:
    """The after-commit callbacks that send a mail (the search vocabulary queues its own)."""
    return [c for c in queued if getattr(c, "func", None) is outbound.deliver]


@pytest.fixture
def asha(db):
    return CustomerFactory(name="Asha Raman", email="asha@example.com", preferred_language="en")


@pytest.fixture
def asha_inquiry(asha, order):
    order.customer = asha
    order.save(update_fields=["customer"])
    return InquiryFactory(customer=asha, orders=[order])


def send(actor, inquiry, body="Your parcel left the depot today.", **kwargs) -> Message:
    return services.reply_send(actor=actor, inquiry=inquiry, body=body, **kwargs)


# --- a reply ---------------------------------------------------------------------------------------


def test_a_first_reply_answers_opens_and_is_framed(rep, asha_inquiry, django_capture_on_commit_callbacks):
    with clock.frozen(NOW), django_capture_on_commit_callbacks() as queued:
        message = send(rep, asha_inquiry)
    row = fresh(asha_inquiry)
    assert message.body == (
        f"Dear Asha,\n\nYour parcel left the depot today.\n\nKind regards,\n{rep.get_full_name()}\n"
        "Customer fulfillment team"
    )
    assert (message.kind, message.channel, message.to_email, message.author) == (
        MessageKind.OUTBOUND,
        Channel.EMAIL,
        "asha@example.com",
        rep,
    )
    assert message.subject == f"[{row.reference}] {row.subject}"
    assert (row.status, row.first_response_at, row.last_outbound_at, row.response_due_at) == (S.OPEN, NOW, NOW, None)
    assert (row.message_count, row.last_message_id) == (2, message.pk)
    assert row.due_at == row.resolve_due_at
    reply_event, status_event = events_of(row)[-2:]
    assert (reply_event.type, reply_event.message, reply_event.actor_user) == (EventType.MESSAGE_OUT, message, rep)
    assert status_event.details == {"old": S.NEW, "new": S.OPEN, "reason": ""}
    assert len(mails(queued)) == 1


def test_a_later_reply_keeps_the_first_response_time(rep, asha_inquiry):
    with clock.frozen(NOW):
        send(rep, asha_inquiry)
    send(rep, asha_inquiry, body="One more thing.")
    assert fresh(asha_inquiry).first_response_at == NOW


def test_an_email_reply_is_mailed_once_after_commit_with_the_reference(
    rep, asha_inquiry, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(rep, asha_inquiry)
    assert len(mailoutbox) == 1
    assert asha_inquiry.reference in mailoutbox[0].subject
    assert mailoutbox[0].to == ["asha@example.com"]
    assert Message.objects.get(pk=message.pk).sent_at is not None


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.LETTER])
def test_a_reply_on_a_phone_or_letter_inquiry_is_not_mailed(rep, channel, django_capture_on_commit_callbacks):
    inquiry = InquiryFactory(channel=channel)
    with django_capture_on_commit_callbacks() as queued:
        message = send(rep, inquiry)
    assert (message.channel, message.to_email, mails(queued)) == (channel, "", [])


def test_a_web_inquiry_is_answered_by_email_when_there_is_an_address(rep, asha):
    inquiry = InquiryFactory(customer=asha, channel=Channel.WEB)
    assert send(rep, inquiry).channel == Channel.EMAIL


def test_html_in_a_reply_or_note_is_stored_as_typed(rep, asha_inquiry):
    html = '<a href="javascript:alert(1)">click</a> & <b>'
    assert html in send(rep, asha_inquiry, body=html).body
    assert services.note_add(actor=rep, inquiry=asha_inquiry, body=html).body == html


def test_a_reply_can_move_the_status_on(rep, asha_inquiry):
    send(rep, asha_inquiry, then_status=S.WAITING_CUSTOMER)
    row = fresh(asha_inquiry)
    assert row.status == S.WAITING_CUSTOMER
    assert last_event(row).details == {"old": S.NEW, "new": S.WAITING_CUSTOMER, "reason": ""}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"body": "  "}, InvalidInput),
        ({"then_status": "gone"}, InvalidInput),
        ({"then_status": S.NEW}, TransitionNotAllowed),
    ],
)
def test_a_refused_reply_writes_and_queues_nothing(rep, kwargs, error, django_capture_on_commit_callbacks):
    inquiry = InquiryFactory(status=S.OPEN)
    before = snapshot(inquiry)
    with django_capture_on_commit_callbacks() as queued, pytest.raises(error):
        send(rep, inquiry, **kwargs)
    assert snapshot(inquiry) == before
    assert queued == []


def test_a_reply_cannot_resolve_past_open_plan_steps(rep, asha_inquiry, django_capture_on_commit_callbacks):
    services.plan_step_add(actor=rep, inquiry=asha_inquiry, title="Ship the spare part")
    before = snapshot(asha_inquiry)
    with django_capture_on_commit_callbacks() as queued, pytest.raises(InvalidInput):
        send(rep, asha_inquiry, then_status=S.RESOLVED)
    assert snapshot(asha_inquiry) == before
    assert queued == []


def test_frame_false_sends_the_words_alone(rep, asha_inquiry):
    assert send(rep, asha_inquiry, body="Just this.", frame=False).body == "Just this."


# --- templates and placeholders ----------------------------------------------------------------------


def test_a_template_fills_its_placeholders(rep, asha_inquiry, order):
    template = ResponseTemplateFactory(
        name="shipped", body="Hi {first_name} ({customer_name}), {order_number} is on its way. {rep_name}, {reference}"
    )
    message = services.reply_send(actor=rep, inquiry=asha_inquiry, template=template, frame=False)
    assert message.body == (
        f"Hi Asha (Asha Raman), {order.number} is on its way. {rep.get_full_name()}, {asha_inquiry.reference}"
    )
    assert last_event(asha_inquiry).type == EventType.STATUS_CHANGED
    assert events_of(asha_inquiry, EventType.MESSAGE_OUT)[0].details["template"] == "shipped"


def test_the_reps_own_words_win_over_the_template(rep, asha_inquiry):
    template = ResponseTemplateFactory(body="Template text")
    message = services.reply_send(actor=rep, inquiry=asha_inquiry, body="My words", template=template, frame=False)
    assert message.body == "My words"


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("Use code {coupon}, {first_name}.", "Use code {coupon}, Asha."),
        ("Hi {first_name}, a stray { brace", "Hi Asha, a stray { brace"),
        ("Hi {first_name} :-}", "Hi Asha :-}"),
        ("Positional {0} and empty {} and {first_name.upper}", "Positional {0} and empty {} and {first_name.upper}"),
        ("No placeholders at all", "No placeholders at all"),
    ],
)
def test_unknown_placeholders_and_unmatched_braces_are_left_as_typed(rep, asha_inquiry, typed, sent):
    assert send(rep, asha_inquiry, body=typed, frame=False).body == sent


def test_without_a_linked_order_the_order_number_is_empty(rep, asha):
    inquiry = InquiryFactory(customer=asha)
    assert send(rep, inquiry, body="Order: [{order_number}]", frame=False).body == "Order: []"


def test_an_api_client_signs_with_its_name(api_writer, asha_inquiry):
    message = send(api_writer, asha_inquiry, body="{rep_name}", frame=False)
    assert (message.body, message.author, message.author_name) == ("shop-writer", None, "shop-writer")


def test_template_for_prefers_the_customers_language_then_english(db):
    english = ResponseTemplateFactory(name="delay", language="en")
    tamil = ResponseTemplateFactory(name="delay", language="ta")
    assert compose.template_for("delay", "ta") == tamil
    assert compose.template_for(english.pk, "ta") == tamil
    assert compose.template_for("delay", "hi") == english
    assert compose.template_for("nothing-like-it", "en") is None


# --- greeting and closing in the customer's language ----------------------------------------------


def test_greeting_and_closing_are_rendered_in_the_customers_language(rep, monkeypatch):
    """The greeting and sign-off are in the customer's language (Tamil here), and the rep's own
    language is left as it was."""
    languages = []
    real_override = translation.override

    def spy(language, *args, **kwargs):
        languages.append(language)
        return real_override(language, *args, **kwargs)

    inquiry = InquiryFactory(customer=CustomerFactory(name="Kavya Iyer", preferred_language="ta"))
    monkeypatch.setattr(compose.translation, "override", spy)
    with real_override("en"):
        message = send(rep, inquiry, body="Body")
        assert translation.get_language() == "en"
    assert languages == ["ta", "ta"]
    with real_override("ta"):
        dear = translation.gettext("Dear %(first_name)s,") % {"first_name": "Kavya"}
        team = translation.gettext("Kind regards,\n%(rep_name)s\nCustomer fulfillment team").rpartition("\n")[2]
    assert dear != "Dear Kavya," and "Kavya" in dear  # the Tamil catalogue is there
    assert message.body.startswith(f"{dear}\n\nBody\n\n")
    assert message.body.rstrip().endswith(team)


# --- the stale-reply guard -------------------------------------------------------------------------


def test_a_customer_message_after_the_page_was_opened_holds_the_reply(
    rep, system, asha_inquiry, django_capture_on_commit_callbacks
):
    seen = fresh(asha_inquiry).last_message_id
    assert seen == asha_inquiry.messages.get().pk
    newer = services.message_receive(actor=system, inquiry=asha_inquiry, body="Actually, cancel it", channel="email")
    before = snapshot(asha_inquiry)
    with django_capture_on_commit_callbacks() as queued, pytest.raises(StaleReply) as held:
        send(rep, asha_inquiry, seen_message_id=seen)
    assert held.value.new_message_ids == [newer.pk]
    assert held.value.code == "stale_reply"
    assert snapshot(asha_inquiry) == before
    assert queued == []
    send(rep, asha_inquiry, seen_message_id=newer.pk)  # after reading it, the reply goes


def test_a_colleagues_reply_after_the_page_was_opened_holds_the_reply(rep, senior, asha_inquiry):
    seen = fresh(asha_inquiry).last_message_id
    colleague = send(senior, asha_inquiry, body="I answered already.")
    with pytest.raises(StaleReply) as held:
        send(rep, asha_inquiry, seen_message_id=seen)
    assert held.value.new_message_ids == [colleague.pk]


def test_ones_own_earlier_reply_does_not_hold_the_next_one(rep, asha_inquiry):
    seen = fresh(asha_inquiry).last_message_id
    send(rep, asha_inquiry, body="First part.")
    send(rep, asha_inquiry, body="Second part.", seen_message_id=seen)
    assert fresh(asha_inquiry).message_count == 3


# --- notes ------------------------------------------------------------------------------------------


def test_a_note_is_internal_and_changes_no_status_or_clock(rep, asha_inquiry, django_capture_on_commit_callbacks):
    before = fresh(asha_inquiry)
    with django_capture_on_commit_callbacks() as queued:
        note = services.note_add(actor=rep, inquiry=asha_inquiry, body="Customer sounded upset")
    row = fresh(asha_inquiry)
    assert (note.kind, note.author, note.to_email) == (MessageKind.NOTE, rep, "")
    assert (row.status, row.response_due_at, row.message_count) == (S.NEW, before.response_due_at, 1)
    assert row.version == before.version + 1
    assert (last_event(row).type, last_event(row).message) == (EventType.NOTE, note)
    assert mails(queued) == []  # the vocabulary may learn its words; no mail


def test_an_empty_note_is_refused(rep, asha_inquiry):
    before = snapshot(asha_inquiry)
    with pytest.raises(InvalidInput):
        services.note_add(actor=rep, inquiry=asha_inquiry, body="\n\n")
    assert snapshot(asha_inquiry) == before


def test_a_colleagues_note_holds_a_stale_reply(rep, asha_inquiry):
    colleague = UserFactory(username="rep5", tier=Tier.REP)
    seen = fresh(asha_inquiry).last_message_id
    services.note_add(actor=colleague, inquiry=asha_inquiry, body="Customer called again, very upset")
    with pytest.raises(StaleReply):
        services.reply_send(actor=rep, inquiry=asha_inquiry, body="Hello", seen_message_id=seen)
    # one's own note does not
    seen = fresh(asha_inquiry).last_message_id
    services.note_add(actor=rep, inquiry=asha_inquiry, body="Checked the warehouse")
    services.reply_send(actor=rep, inquiry=asha_inquiry, body="Hello", seen_message_id=seen)
