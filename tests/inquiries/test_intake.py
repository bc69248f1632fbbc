"""Intake: inquiry_create, message_receive, call_log, callbacks, phone_intake."""

from __future__ import annotations

import datetime as dt

import pytest

from fulfillment import clock
from fulfillment.errors import InvalidInput, PermissionDenied
from fulfillment.tiers import Specialty
from inquiries import services
from inquiries.enums import (
    CallbackState,
    CallDirection,
    CallOutcome,
    Category,
    Channel,
    EventType,
    InquiryStatus,
    MessageKind,
    Priority,
)
from inquiries.models import Callback, CallLog, Inquiry, InquiryEvent, Message

from ..factories import CustomerFactory, OrderFactory
from .conftest import NOW
from .factories import InquiryFactory
from .helpers import events_of, fresh, last_event, snapshot

S = InquiryStatus
HOUR = dt.timedelta(hours=1)


def nothing_created():
    return (Inquiry.objects.count(), Message.objects.count(), InquiryEvent.objects.count()) == (0, 0, 0)


# --- inquiry_create ------------------------------------------------------------------------------


def test_create_writes_the_inquiry_its_first_message_and_its_timeline(rep, customer, order):
    with clock.frozen(NOW):
        inquiry = services.inquiry_create(
            actor=rep,
            customer=customer,
            subject="  Parcel late  ",
            channel=Channel.EMAIL,
            category=Category.DELIVERY,
            body="Where is it?\r\n",
            orders=[order],
            tags=["Late", "late", "vip"],
            email_message_id="<m1@example.com>",
        )
    row = fresh(inquiry)
    assert (row.status, row.subject, row.assignee, row.specialty_needed) == (
        S.NEW,
        "Parcel late",
        None,
        Specialty.SHIPPING,  # from the category
    )
    assert (row.message_count, row.last_inbound_at, row.created_at) == (1, NOW, NOW)
    assert row.response_due_at == NOW + 24 * HOUR
    assert row.resolve_due_at == NOW + 168 * HOUR  # five business days: next Tuesday 10:00
    assert row.due_at == row.response_due_at
    assert row.reference == f"INQ-{row.pk:06d}"
    assert list(row.orders.all()) == [order]
    assert sorted(row.tags.values_list("name", flat=True)) == ["late", "vip"]
    (message,) = row.messages.all()
    assert (message.kind, message.body, message.sender_email, message.author_name) == (
        MessageKind.INBOUND,
        "Where is it?",
        customer.email,
        customer.name,
    )
    assert row.last_message_id == message.pk
    assert [e.type for e in events_of(row)] == [EventType.CREATED, EventType.ORDER_LINKED, EventType.MESSAGE_IN]
    assert all(e.actor_user == rep for e in events_of(row))


def test_create_without_a_body_has_no_message(rep, customer):
    inquiry = services.inquiry_create(actor=rep, customer=customer, subject="Call me", channel=Channel.PHONE)
    assert fresh(inquiry).message_count == 0
    assert [e.type for e in events_of(inquiry)] == [EventType.CREATED]


#: The default policy on its Monday–Friday 09:00–17:00 calendar, from NOW (a Tuesday, 10:00):
#: (first response, resolution) in wall-clock hours.
DEFAULT_DEADLINES = {
    Priority.URGENT: (1, 24),
    Priority.HIGH: (4, 72),
    Priority.NORMAL: (24, 168),
    Priority.LOW: (48, 336),
}


@pytest.mark.parametrize("priority", Priority.values)
def test_deadlines_follow_the_priority(rep, customer, priority):
    with clock.frozen(NOW):
        inquiry = services.inquiry_create(
            actor=rep, customer=customer, subject="S", channel=Channel.WEB, priority=priority, body="Hi"
        )
    response_hours, resolution_hours = DEFAULT_DEADLINES[priority]
    assert inquiry.response_due_at == NOW + response_hours * HOUR
    assert inquiry.resolve_due_at == NOW + resolution_hours * HOUR
    assert fresh(inquiry).due_at == inquiry.response_due_at


def test_html_in_a_message_is_stored_as_typed(rep, customer):
    body = '<script>alert("x")</script> <b>bold</b> & "quotes"'
    inquiry = services.inquiry_create(actor=rep, customer=customer, subject="<i>Hi</i>", channel=Channel.WEB, body=body)
    assert inquiry.messages.get().body == body
    assert fresh(inquiry).subject == "<i>Hi</i>"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "   "}, "subject"),
        ({"channel": "fax"}, "channel"),
        ({"category": "weather"}, "category"),
        ({"priority": 9}, "priority"),
        ({"specialty_needed": "magic"}, "specialty_needed"),
        ({"received_on": dt.date(2031, 3, 5)}, "received_on"),
        ({"tags": ["<bad>"]}, "tags"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(rep, customer, change, field):
    data = {"customer": customer, "subject": "Parcel", "channel": Channel.LETTER, "body": "Hi"} | change
    with clock.frozen(NOW), pytest.raises(InvalidInput) as refused:
        services.inquiry_create(actor=rep, **data)
    assert field in refused.value.field_errors
    assert nothing_created()


def test_create_refuses_another_customers_order(rep, customer):
    other = OrderFactory(customer=CustomerFactory())
    with pytest.raises(InvalidInput) as refused:
        services.inquiry_create(actor=rep, customer=customer, subject="S", channel=Channel.EMAIL, orders=[other])
    assert str(other) in refused.value.field_errors["orders"][0]
    assert nothing_created()


# --- message_receive -----------------------------------------------------------------------------


@pytest.mark.parametrize("done", [S.RESOLVED, S.CLOSED])
def test_a_customer_reply_reopens_a_done_inquiry(system, done):
    with clock.frozen(NOW - 24 * HOUR):  # opened and settled on Monday at 10:00
        inquiry = InquiryFactory(status=done)
    assert inquiry.resolved_at is not None
    with clock.frozen(NOW):
        message = services.message_receive(actor=system, inquiry=inquiry, body="Still broken!", channel=Channel.EMAIL)
    row = fresh(inquiry)
    assert (row.status, row.reopen_count, row.resolved_at, row.closed_at) == (S.OPEN, 1, None, None)
    assert (row.last_inbound_at, row.message_count, row.last_message_id) == (NOW, 2, message.pk)
    assert row.response_due_at == NOW + 24 * HOUR
    assert row.resolve_due_at == NOW + 168 * HOUR  # none of its five business days used yet
    assert row.due_at == row.response_due_at
    timeline = [e for e in events_of(row) if not e.type.startswith("follow_up")]  # the follow-up is cancelled too
    status_event, message_event = timeline[-1], timeline[-2]
    assert (message_event.type, message_event.message) == (EventType.MESSAGE_IN, message)
    assert status_event.type == EventType.STATUS_CHANGED
    assert (status_event.details["old"], status_event.details["new"]) == (done, S.OPEN)
    assert status_event.details["reason"]


def test_a_customer_reply_to_a_waiting_inquiry_opens_it_without_counting_a_reopen(system):
    inquiry = InquiryFactory(status=S.WAITING_CUSTOMER)
    services.message_receive(actor=system, inquiry=inquiry, body="Here is the photo.", channel=Channel.EMAIL)
    row = fresh(inquiry)
    assert (row.status, row.reopen_count) == (S.OPEN, 0)
    assert last_event(row).type == EventType.STATUS_CHANGED


@pytest.mark.parametrize("status", [S.NEW, S.OPEN, S.WAITING_DEPARTMENT])
def test_a_customer_reply_leaves_other_statuses_alone(system, status):
    inquiry = InquiryFactory(status=status)
    services.message_receive(actor=system, inquiry=inquiry, body="Any news?", channel=Channel.WEB)
    row = fresh(inquiry)
    assert row.status == status
    assert last_event(row).type == EventType.MESSAGE_IN


@pytest.mark.parametrize(("body", "channel"), [("  \n ", Channel.EMAIL), ("Hi", "pigeon")])
def test_message_receive_refuses_bad_input_and_writes_nothing(system, body, channel):
    inquiry = InquiryFactory(status=S.RESOLVED)
    before = snapshot(inquiry)
    with pytest.raises(InvalidInput):
        services.message_receive(actor=system, inquiry=inquiry, body=body, channel=channel)
    assert snapshot(inquiry) == before


# --- deadlines -----------------------------------------------------------------------------------


def test_due_at_is_the_nearest_deadline_and_none_once_resolved(rep):
    with clock.frozen(NOW):
        # Low priority, default policy from Tuesday 10:00: first response Thursday 10:00 (two
        # business days), resolution in ten business days.
        inquiry = InquiryFactory(priority=Priority.LOW)
        assert fresh(inquiry).due_at == NOW + 48 * HOUR
        services.callback_promise(actor=rep, inquiry=inquiry, due_at=NOW + 2 * HOUR)
        assert fresh(inquiry).due_at == NOW + 2 * HOUR
        services.plan_step_add(actor=rep, inquiry=inquiry, title="Check stock", due_date=NOW.date())
        assert fresh(inquiry).due_at == NOW + 2 * HOUR  # the step is due at the end of today
        services.callback_complete(actor=rep, callback=Callback.objects.get())
        assert fresh(inquiry).due_at == dt.datetime.combine(NOW.date(), dt.time(23, 59), tzinfo=dt.UTC)
        services.plan_step_set_done(actor=rep, step=inquiry.plan_steps.get())
        assert fresh(inquiry).due_at == NOW + 48 * HOUR
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=S.WAITING_CUSTOMER)
        # Resolution pauses while waiting on the customer; an unanswered first response does not.
        row = fresh(inquiry)
        assert (row.due_at, row.due_kind, row.resolve_due_at) == (NOW + 48 * HOUR, "first_response", None)
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=S.RESOLVED)
        assert fresh(inquiry).due_at is None


# --- calls and callbacks ---------------------------------------------------------------------------


def test_call_log_records_the_call_answers_the_customer_and_opens_the_inquiry(rep, inquiry, customer):
    with clock.frozen(NOW):
        call = services.call_log(
            actor=rep,
            inquiry=inquiry,
            direction=CallDirection.INBOUND,
            outcome=CallOutcome.INFO_GIVEN,
            duration_seconds=125,
            notes="Explained the delay",
        )
    row = fresh(inquiry)
    assert (call.agent, call.agent_name, call.phone) == (rep, rep.username, customer.phone)
    assert call.duration_display == "2:05"
    assert (row.status, row.first_response_at, row.response_due_at, row.last_inbound_at) == (S.OPEN, NOW, None, NOW)
    assert row.due_at == row.resolve_due_at
    call_event, status_event = events_of(row)[-2:]
    assert (call_event.type, call_event.call, call_event.details["outcome"]) == (EventType.CALL, call, "info_given")
    assert status_event.details == {"old": S.NEW, "new": S.OPEN, "reason": ""}


def test_an_unanswered_call_leaves_the_reply_clock_running(rep, inquiry):
    due = inquiry.response_due_at
    services.call_log(actor=rep, inquiry=inquiry, direction=CallDirection.OUTBOUND, outcome=CallOutcome.NO_ANSWER)
    row = fresh(inquiry)
    assert (row.response_due_at, row.first_response_at, row.last_inbound_at) == (due, None, inquiry.last_inbound_at)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"outcome": "maybe"}, "outcome"),
        ({"duration_seconds": -1}, "duration_seconds"),
        ({"duration_seconds": 24 * 3600 + 1}, "duration_seconds"),
        ({"duration_seconds": "60"}, "duration_seconds"),
        ({"outcome": CallOutcome.CALLBACK}, "callback_due_at"),
        ({"outcome": CallOutcome.CALLBACK, "callback_due_at": NOW - HOUR}, "callback_due_at"),
        ({"callback_due_at": NOW + dt.timedelta(days=91)}, "callback_due_at"),
        ({"callback_due_at": dt.datetime(2031, 3, 4, 12, 0)}, "callback_due_at"),  # naive: refused
    ],
)
def test_call_log_refuses_bad_input_and_writes_nothing(rep, inquiry, change, field):
    before = snapshot(inquiry)
    data = {"direction": CallDirection.INBOUND, "outcome": CallOutcome.INFO_GIVEN} | change
    with clock.frozen(NOW), pytest.raises(InvalidInput) as refused:
        services.call_log(actor=rep, inquiry=inquiry, **data)
    assert field in refused.value.field_errors
    assert snapshot(inquiry) == before


def test_a_callback_promise_sets_the_next_callback_and_completing_moves_it_on(rep, inquiry):
    with clock.frozen(NOW):
        later = services.callback_promise(actor=rep, inquiry=inquiry, due_at=NOW + 5 * HOUR, note="After lunch")
        sooner = services.callback_promise(actor=rep, inquiry=inquiry, due_at=NOW + 2 * HOUR)
        assert fresh(inquiry).next_callback_at == NOW + 2 * HOUR
        assert (sooner.owner, sooner.state, sooner.phone) == (rep, CallbackState.PENDING, inquiry.customer.phone)
        services.callback_complete(actor=rep, callback=sooner)
        assert fresh(inquiry).next_callback_at == NOW + 5 * HOUR
        services.callback_complete(actor=rep, callback=later, cancelled=True)
    row = fresh(inquiry)
    assert row.next_callback_at is None
    assert [c.state for c in Callback.objects.order_by("due_at")] == [CallbackState.DONE, CallbackState.CANCELLED]
    types = [e.type for e in events_of(row)][-4:]
    assert types == [EventType.CALLBACK_PROMISED] * 2 + [EventType.CALLBACK_DONE] * 2


def test_a_call_with_a_callback_outcome_promises_the_callback(rep, inquiry):
    with clock.frozen(NOW):
        services.call_log(
            actor=rep,
            inquiry=inquiry,
            direction=CallDirection.OUTBOUND,
            outcome=CallOutcome.CALLBACK,
            callback_due_at=NOW + 3 * HOUR,
            callback_note="Will check with the courier",
        )
    row = fresh(inquiry)
    assert row.next_callback_at == NOW + 3 * HOUR
    assert Callback.objects.get().note == "Will check with the courier"


def test_completing_a_callback_twice_is_refused(rep, inquiry):
    with clock.frozen(NOW):
        callback = services.callback_promise(actor=rep, inquiry=inquiry, due_at=NOW + HOUR)
        services.callback_complete(actor=rep, callback=callback)
        before = snapshot(inquiry)
        with pytest.raises(InvalidInput):
            services.callback_complete(actor=rep, callback=callback, cancelled=True)
    assert snapshot(inquiry) == before


# --- phone_intake --------------------------------------------------------------------------------


def test_phone_intake_opens_an_inquiry_assigned_to_the_rep_with_the_call(rep, customer, order):
    with clock.frozen(NOW):
        inquiry, call = services.phone_intake(
            actor=rep,
            customer=customer,
            subject="Wrong colour",
            category=Category.PRODUCT,
            orders=[order],
            duration_seconds=60,
            callback_due_at=NOW + HOUR,
        )
    assert (inquiry.channel, inquiry.assignee, inquiry.status) == (Channel.PHONE, rep, S.OPEN)
    assert (inquiry.next_callback_at, inquiry.first_response_at) == (NOW + HOUR, NOW)
    assert call.inquiry == inquiry
    assert list(inquiry.orders.all()) == [order]
    assert [e.type for e in events_of(inquiry)] == [
        EventType.CREATED,
        EventType.ORDER_LINKED,
        EventType.CALL,
        EventType.CALLBACK_PROMISED,
        EventType.STATUS_CHANGED,
    ]


def test_phone_intake_continues_an_inquiry_and_links_new_orders_once(rep, inquiry, customer, order):
    second = OrderFactory(customer=customer)
    same, call = services.phone_intake(actor=rep, customer=customer, inquiry=inquiry, orders=[order, second])
    assert same.pk == inquiry.pk
    assert set(same.orders.all()) == {order, second}
    assert len(events_of(inquiry, EventType.ORDER_LINKED)) == 2
    assert CallLog.objects.get() == call
    assert same.assignee == rep  # nobody had it: the rep on the phone takes it


def test_phone_intake_is_all_or_nothing(rep, customer):
    with clock.frozen(NOW), pytest.raises(InvalidInput):
        services.phone_intake(actor=rep, customer=customer, subject="Call", callback_due_at=NOW - HOUR)
    assert nothing_created()
    assert not CallLog.objects.exists()


def test_phone_intake_refuses_another_customers_inquiry(rep, inquiry):
    before = snapshot(inquiry)
    with pytest.raises(InvalidInput):
        services.phone_intake(actor=rep, customer=CustomerFactory(), inquiry=inquiry)
    assert snapshot(inquiry) == before


def test_a_rep_cannot_log_a_call_on_a_specialist_inquiry(rep, specialist):
    inquiry = InquiryFactory(tier=specialist.tier)
    before = snapshot(inquiry)
    with pytest.raises(PermissionDenied):
        services.call_log(actor=rep, inquiry=inquiry, direction=CallDirection.INBOUND, outcome=CallOutcome.NO_ANSWER)
    assert snapshot(inquiry) == before
