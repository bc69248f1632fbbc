"""Intake: a new inquiry from any channel, a customer's message joining one, a phone call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import InvalidInput
from fulfillment.permissions import require
from fulfillment.tiers import Specialty
from orders.models import Customer, Order

from .. import events
from .. import permissions as perms
from ..enums import (
    CATEGORY_SPECIALTY,
    DONE,
    CallbackState,
    CallDirection,
    CallOutcome,
    Category,
    Channel,
    InquiryStatus,
    MessageKind,
    Priority,
)
from ..models import Callback, CallLog, Inquiry, InquiryOrder, Message
from . import followups, reminders, targets
from ._common import (
    clean_body,
    clean_text,
    lock,
    refresh_callbacks,
    require_workable,
    save,
)
from .search_terms import remember_words_on_commit
from .tags import set_tags

MAX_CALL_SECONDS = 24 * 3600


def _check_choice(value, choices, field: str):
    if value not in choices:
        raise InvalidInput(field_errors={field: [_("Choose one of the offered values.")]})
    return value


def _customer_orders(customer: Customer, orders: Iterable[Order]) -> list[Order]:
    orders = list(orders)
    for order in orders:
        if order.customer_id != customer.pk:
            raise InvalidInput(
                field_errors={"orders": [_("Order %(number)s belongs to another customer.") % {"number": order}]}
            )
    return orders


def inquiry_create(
    *,
    actor: Actor,
    customer: Customer,
    subject: str,
    channel: str,
    category: str = Category.OTHER,
    priority: int = Priority.NORMAL,
    body: str = "",
    orders: Iterable[Order] = (),
    tags: Iterable[str] = (),
    specialty_needed: str = "",
    received_on: dt.date | None = None,
    sender_email: str = "",
    email_message_id: str = "",
    in_reply_to: str = "",
    assign_to_actor: bool = False,
) -> Inquiry:
    """A new inquiry. ``body`` (the customer's words, if any) becomes its first message."""
    actor = as_actor(actor)
    require(actor, perms.CREATE)
    subject = clean_text(subject, "subject", 200, required=True)
    _check_choice(channel, Channel.values, "channel")
    _check_choice(category, Category.values, "category")
    _check_choice(priority, Priority.values, "priority")
    if specialty_needed:
        _check_choice(specialty_needed, Specialty.values, "specialty_needed")
    else:
        specialty_needed = CATEGORY_SPECIALTY.get(category, "")
    body = clean_body(body) if (body or "").strip() else ""
    if received_on and received_on > clock.today():
        raise InvalidInput(field_errors={"received_on": [_("The date received cannot be in the future.")]})
    orders = _customer_orders(customer, orders)
    now = clock.now()
    with transaction.atomic():
        inquiry = Inquiry.objects.create(
            customer=customer,
            subject=subject,
            channel=channel,
            category=category,
            priority=priority,
            specialty_needed=specialty_needed,
            status=InquiryStatus.NEW,
            assignee=actor.user if (assign_to_actor and actor.user) else None,
            created_at=now,
            updated_at=now,
        )
        events.created(inquiry, actor)
        remember_words_on_commit(subject)
        for order in orders:
            InquiryOrder.objects.create(inquiry=inquiry, order=order, linked_at=now)
            events.order_linked(inquiry, actor, number=str(order))
        if tags:
            set_tags(inquiry, actor, tags, record=False)
        if body:
            _add_inbound(
                inquiry,
                actor,
                body=body,
                channel=channel,
                subject=subject,
                sender_email=sender_email or customer.email,
                received_on=received_on,
                email_message_id=email_message_id,
                in_reply_to=in_reply_to,
            )
        # The first message's facts live on the row too (queues, the stale-reply guard).
        save(inquiry, ["last_inbound_at", "message_count", "last_message_id"])
    return inquiry


def _add_inbound(inquiry: Inquiry, actor: Actor, *, body: str, channel: str, auto: bool = False, **fields) -> Message:
    message = Message.objects.create(
        inquiry=inquiry,
        kind=MessageKind.INBOUND,
        channel=channel,
        body=body,
        author_name=inquiry.customer.name[:200],
        subject=(fields.pop("subject", "") or "")[:300],
        **fields,
    )
    remember_words_on_commit(message.body)  # message subjects are not searched; inquiry subjects are
    inquiry.last_inbound_at = message.created_at
    inquiry.message_count += 1
    inquiry.last_message_id = message.pk
    events.message_in(inquiry, actor, message, auto=auto)
    return message


def message_receive(
    *,
    actor: Actor,
    inquiry: Inquiry,
    body: str,
    channel: str,
    subject: str = "",
    sender_email: str = "",
    received_on: dt.date | None = None,
    email_message_id: str = "",
    in_reply_to: str = "",
    reopen: bool = True,
) -> Message:
    """The customer wrote (or said) something more. A resolved or closed inquiry reopens;
    one waiting on the customer is open again; the reply clock starts. ``reopen=False`` (an
    automatic reply such as an out-of-office) keeps the words but moves nothing."""
    actor = as_actor(actor)
    require(actor, perms.CREATE)
    body = clean_body(body)
    _check_choice(channel, Channel.values, "channel")
    with transaction.atomic():
        inquiry = lock(inquiry)
        message = _add_inbound(
            inquiry,
            actor,
            body=body,
            channel=channel,
            subject=subject,
            sender_email=sender_email,
            received_on=received_on,
            email_message_id=email_message_id[:300],
            in_reply_to=in_reply_to[:300],
            auto=not reopen,
        )
        fields = ["last_inbound_at", "message_count", "last_message_id"]
        if not reopen:
            save(inquiry, fields)
            return message
        old = inquiry.status
        if old in DONE or old == InquiryStatus.WAITING_CUSTOMER:
            inquiry.status = InquiryStatus.OPEN
            fields.append("status")
            if old in DONE:
                inquiry.reopen_count += 1
                inquiry.resolved_at = inquiry.closed_at = None
                fields += ["reopen_count", "resolved_at", "closed_at"]
            events.status_changed(inquiry, actor, old=old, new=inquiry.status, reason=_("The customer replied."))
            followups.status_changed(inquiry, actor, old=old, new=inquiry.status)
        save(inquiry, fields)
    return message


def call_log(
    *,
    actor: Actor,
    inquiry: Inquiry,
    direction: str,
    outcome: str,
    duration_seconds: int = 0,
    notes: str = "",
    phone: str = "",
    callback_due_at: dt.datetime | None = None,
    callback_note: str = "",
) -> CallLog:
    """A call with the customer about this inquiry; optionally a callback promise in the same step."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    _check_choice(direction, CallDirection.values, "direction")
    _check_choice(outcome, CallOutcome.values, "outcome")
    if not isinstance(duration_seconds, int) or isinstance(duration_seconds, bool):
        raise InvalidInput(field_errors={"duration_seconds": [_("Enter a whole number of seconds.")]})
    if not 0 <= duration_seconds <= MAX_CALL_SECONDS:
        raise InvalidInput(field_errors={"duration_seconds": [_("Enter a duration between 0 and 24 hours.")]})
    notes = clean_text(notes, "notes", 10_000)
    phone = clean_text(phone, "phone", 40)
    if outcome == CallOutcome.CALLBACK and callback_due_at is None:
        raise InvalidInput(field_errors={"callback_due_at": [_("When will you call back?")]})
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        call = CallLog.objects.create(
            inquiry=inquiry,
            direction=direction,
            outcome=outcome,
            duration_seconds=duration_seconds,
            notes=notes,
            phone=phone or inquiry.customer.phone,
            agent=actor.user,
            agent_name=actor.name[:150],
        )
        events.call_logged(inquiry, actor, call)
        fields = []
        if direction == CallDirection.INBOUND:
            inquiry.last_inbound_at = call.created_at
            fields.append("last_inbound_at")
        if outcome in targets.ANSWERING_OUTCOMES:
            # Speaking to the customer answers them: the reply clock stops, the silence ends (no
            # "still working on it" update is due), and a second such call is a second contact.
            inquiry.first_response_at = inquiry.first_response_at or call.created_at
            inquiry.last_outbound_at = call.created_at
            fields += ["first_response_at", "last_outbound_at"]
        if callback_due_at is not None:
            _promise_callback(inquiry, actor, due_at=callback_due_at, note=callback_note, phone=phone)
            fields.append("next_callback_at")
        if inquiry.status == InquiryStatus.NEW:
            old, inquiry.status = inquiry.status, InquiryStatus.OPEN
            events.status_changed(inquiry, actor, old=old, new=inquiry.status)
            followups.status_changed(inquiry, actor, old=old, new=inquiry.status)
            fields.append("status")
        save(inquiry, fields)
    return call


def _promise_callback(inquiry: Inquiry, actor: Actor, *, due_at: dt.datetime, note: str, phone: str = "") -> Callback:
    if due_at.tzinfo is None:
        raise InvalidInput(field_errors={"callback_due_at": [_("Give the time with its time zone.")]})
    if due_at <= clock.now():
        raise InvalidInput(field_errors={"callback_due_at": [_("The callback time must be in the future.")]})
    if due_at > clock.now() + dt.timedelta(days=90):
        raise InvalidInput(field_errors={"callback_due_at": [_("The callback time is too far ahead.")]})
    note = clean_text(note, "callback_note", 500)
    callback = Callback.objects.create(
        inquiry=inquiry,
        due_at=due_at,
        note=note,
        phone=phone or inquiry.customer.phone,
        owner=actor.user or inquiry.assignee,
        promised_by_name=actor.name[:150],
    )
    events.callback_promised(inquiry, actor, due_at=due_at.isoformat(), note=note)
    reminders.callback_promised(callback)
    refresh_callbacks(inquiry)
    return callback


def callback_promise(
    *, actor: Actor, inquiry: Inquiry, due_at: dt.datetime, note: str = "", phone: str = ""
) -> Callback:
    actor = as_actor(actor)
    require(actor, perms.WORK)
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        callback = _promise_callback(inquiry, actor, due_at=due_at, note=note, phone=phone)
        save(inquiry, ["next_callback_at"])
    return callback


def callback_complete(*, actor: Actor, callback: Callback, cancelled: bool = False) -> Callback:
    """Mark a promised callback done (or cancelled). Log the call itself with ``call_log``."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    with transaction.atomic():
        inquiry = lock(callback.inquiry_id)
        require_workable(actor, inquiry)
        callback = Callback.objects.select_for_update().get(pk=callback.pk)
        if callback.state != CallbackState.PENDING:
            raise InvalidInput(_("This callback is already %(state)s.") % {"state": callback.get_state_display()})
        callback.state = CallbackState.CANCELLED if cancelled else CallbackState.DONE
        callback.done_at = clock.now()
        callback.save(update_fields=["state", "done_at"])
        events.callback_done(inquiry, actor, due_at=callback.due_at.isoformat(), state=callback.state)
        if callback.state == CallbackState.DONE:
            targets.record_callback(callback)
        refresh_callbacks(inquiry)
        save(inquiry, ["next_callback_at"])
    return callback


def phone_intake(
    *,
    actor: Actor,
    customer: Customer,
    inquiry: Inquiry | None = None,
    subject: str = "",
    category: str = Category.OTHER,
    priority: int = Priority.NORMAL,
    orders: Iterable[Order] = (),
    direction: str = CallDirection.INBOUND,
    outcome: str = CallOutcome.INFO_GIVEN,
    duration_seconds: int = 0,
    notes: str = "",
    callback_due_at: dt.datetime | None = None,
    callback_note: str = "",
) -> tuple[Inquiry, CallLog]:
    """The "new call" screen in one step: a new inquiry (or an open one continued), the call
    logged, the rep assigned, and a callback promise if one was made. All or nothing."""
    actor = as_actor(actor)
    with transaction.atomic():
        if inquiry is None:
            inquiry = inquiry_create(
                actor=actor,
                customer=customer,
                subject=subject,
                channel=Channel.PHONE,
                category=category,
                priority=priority,
                orders=orders,
                assign_to_actor=True,
            )
        elif inquiry.customer_id != customer.pk:
            raise InvalidInput(field_errors={"inquiry": [_("This inquiry belongs to another customer.")]})
        else:
            from .work import inquiry_claim, link_order

            for order in _customer_orders(customer, orders):
                if not inquiry.order_links.filter(order=order).exists():
                    link_order(actor=actor, inquiry=inquiry, order=order)
            if inquiry.assignee_id is None and actor.user is not None and inquiry.is_active:
                inquiry_claim(actor=actor, inquiry=inquiry)
        call = call_log(
            actor=actor,
            inquiry=inquiry,
            direction=direction,
            outcome=outcome,
            duration_seconds=duration_seconds,
            notes=notes,
            phone=customer.phone,
            callback_due_at=callback_due_at,
            callback_note=callback_note,
        )
    inquiry.refresh_from_db()
    return inquiry, call
