"""Timeline events of an inquiry: one small function per event type, called only by services
inside their transaction. The timeline reads these rows; nothing else writes them.

The events an API client may subscribe to (docs/webhooks.md) go into the webhook outbox here,
in the same transaction: ``inquiry.created``, ``inquiry.updated``, ``inquiry.status_changed``
and ``inquiry.resolved``. Services record them before the save that moves the version on;
``saved()`` (called by that save) brings the outbox rows' version and time up to date."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from fulfillment import webhooks
from fulfillment.actors import Actor
from fulfillment.models import WebhookEventType as Hook

from .enums import EventType, InquiryStatus
from .models import CallLog, Inquiry, InquiryEvent, Message


def _event(inquiry: Inquiry, actor: Actor, type_: str, *, message=None, call=None, **details) -> InquiryEvent:
    return InquiryEvent.objects.create(
        inquiry=inquiry, type=type_, message=message, call=call, details=details, **actor.event_fields()
    )


def _hook(type_: str, inquiry: Inquiry, **extra) -> None:
    """Into the outbox, with what every inquiry webhook says of it (the row in hand, no query)."""
    if not webhooks.wanted(type_):
        return
    data = {
        "id": inquiry.pk,
        "reference": inquiry.reference,
        "status": inquiry.status,
        "version": inquiry.version,
        "updated_at": inquiry.updated_at.isoformat(),
        "url": settings.FD_SITE_URL + reverse("api-inquiries-detail", kwargs={"ref": inquiry.reference}),
        **extra,
    }
    written = webhooks.emit(type_, ref=f"inquiry:{inquiry.pk}", data=data)
    if written:
        inquiry.__dict__.setdefault("_webhook_events", []).extend(written)


def saved(inquiry: Inquiry) -> None:
    """The inquiry was saved (version and updated_at moved on): its webhook events written in
    this transaction carry the saved version and time."""
    written = inquiry.__dict__.pop("_webhook_events", None)
    if written:
        webhooks.restamp(written, version=inquiry.version, updated_at=inquiry.updated_at.isoformat())


def created(inquiry: Inquiry, actor: Actor) -> InquiryEvent:
    _hook(Hook.INQUIRY_CREATED, inquiry)
    return _event(
        inquiry, actor, EventType.CREATED, channel=inquiry.channel, category=inquiry.category, subject=inquiry.subject
    )


def policy_changed(inquiry: Inquiry, actor: Actor, *, old: int, new: int | None, names: dict) -> InquiryEvent:
    """The inquiry moved to another service policy (its priority, channel or category changed,
    or a rule did). The clocks count on the new policy's calendar from here on (R22)."""
    old_name, new_name = names.get(old, ""), names.get(new, "")
    return _event(inquiry, actor, EventType.POLICY_CHANGED, old=old, new=new, old_name=old_name, new_name=new_name)


def message_in(inquiry: Inquiry, actor: Actor, message: Message, *, auto: bool = False) -> InquiryEvent:
    """``auto``: an automatic reply (out-of-office): on the timeline, but it starts no clock."""
    if auto:
        return _event(inquiry, actor, EventType.MESSAGE_IN, message=message, channel=message.channel, auto=True)
    return _event(inquiry, actor, EventType.MESSAGE_IN, message=message, channel=message.channel)


def message_out(inquiry: Inquiry, actor: Actor, message: Message, *, template: str = "") -> InquiryEvent:
    return _event(inquiry, actor, EventType.MESSAGE_OUT, message=message, channel=message.channel, template=template)


def note(inquiry: Inquiry, actor: Actor, message: Message) -> InquiryEvent:
    return _event(inquiry, actor, EventType.NOTE, message=message)


def call_logged(inquiry: Inquiry, actor: Actor, call: CallLog) -> InquiryEvent:
    return _event(
        inquiry,
        actor,
        EventType.CALL,
        call=call,
        direction=call.direction,
        outcome=call.outcome,
        duration=call.duration_seconds,
    )


def status_changed(inquiry: Inquiry, actor: Actor, *, old: str, new: str, reason: str = "") -> InquiryEvent:
    _hook(Hook.INQUIRY_STATUS_CHANGED, inquiry, old_status=old)
    if new == InquiryStatus.RESOLVED:
        _hook(Hook.INQUIRY_RESOLVED, inquiry)
    return _event(inquiry, actor, EventType.STATUS_CHANGED, old=old, new=new, reason=reason)


def fields_changed(inquiry: Inquiry, actor: Actor, changes: dict) -> InquiryEvent:
    _hook(Hook.INQUIRY_UPDATED, inquiry, changed=sorted(changes))
    return _event(inquiry, actor, EventType.FIELDS_CHANGED, changes=changes)


def assigned(inquiry: Inquiry, actor: Actor, *, old: str, new: str, claimed: bool) -> InquiryEvent:
    return _event(inquiry, actor, EventType.ASSIGNED, old=old, new=new, claimed=claimed)


def order_linked(inquiry: Inquiry, actor: Actor, *, number: str) -> InquiryEvent:
    return _event(inquiry, actor, EventType.ORDER_LINKED, number=number)


def order_unlinked(inquiry: Inquiry, actor: Actor, *, number: str) -> InquiryEvent:
    return _event(inquiry, actor, EventType.ORDER_UNLINKED, number=number)


def callback_promised(inquiry: Inquiry, actor: Actor, *, due_at: str, note: str) -> InquiryEvent:
    return _event(inquiry, actor, EventType.CALLBACK_PROMISED, due_at=due_at, note=note)


def callback_done(inquiry: Inquiry, actor: Actor, *, due_at: str, state: str) -> InquiryEvent:
    return _event(inquiry, actor, EventType.CALLBACK_DONE, due_at=due_at, state=state)


def follow_up(inquiry: Inquiry, actor: Actor, type_: str, *, call, **details) -> InquiryEvent:
    """A follow-up call event (FOLLOW_UP_SCHEDULED / DUE / LOGGED / MISSED / CANCELLED): the
    call, its attempt and when it is (now) due, with what ``details`` add (outcome, caller…)."""
    return _event(
        inquiry, actor, type_, follow_up=call.pk, attempt=call.attempts, due_at=call.due_at.isoformat(), **details
    )


def callback_reminded(inquiry: Inquiry, actor: Actor, *, callback: int, due_at: str, told: list[str]) -> InquiryEvent:
    return _event(inquiry, actor, EventType.CALLBACK_REMINDED, callback=callback, due_at=due_at, told=told)


def target_warning(inquiry: Inquiry, actor: Actor, *, due_kind: str, due_at: str, told: list[str]) -> InquiryEvent:
    """A service target reached its warning share (75 %) with ``due_kind`` due at ``due_at``."""
    return _event(inquiry, actor, EventType.TARGET_WARNING, due_kind=due_kind, due_at=due_at, told=told)


def update_proposed(inquiry: Inquiry, actor: Actor, *, why: str, template: str, told: list[str]) -> InquiryEvent:
    """A customer update is offered to the rep (``why``: order_at_risk or quiet) with ``template``."""
    return _event(inquiry, actor, EventType.UPDATE_PROPOSED, why=why, template=template, told=told)


def update_sent(inquiry: Inquiry, actor: Actor, message: Message, *, why: str, template: str) -> InquiryEvent:
    """An automatic customer update went out (the reply itself is its own message_out event)."""
    return _event(inquiry, actor, EventType.UPDATE_SENT, message=message, why=why, template=template)


def _remedy(remedy) -> dict:
    """What every remedy event says of the remedy."""
    return {
        "remedy": remedy.pk,
        "kind": remedy.kind,
        "amount": str(remedy.amount) if remedy.amount is not None else "",
        "currency": remedy.currency,
    }


def _offer(remedy) -> dict:
    """…and what a proposal or a request adds: what is offered, why, on which order."""
    return {
        **_remedy(remedy),
        "description": remedy.description,
        "reason": remedy.reason,
        "order": remedy.order.number if remedy.order_id else "",
    }


def remedy_proposed(inquiry: Inquiry, actor: Actor, *, remedy) -> InquiryEvent:
    return _event(inquiry, actor, EventType.REMEDY_PROPOSED, **_offer(remedy), alternative_to=remedy.alternative_to_id)


def remedy_decided(inquiry: Inquiry, actor: Actor, *, remedy, outcome: dict | None = None) -> InquiryEvent:
    return _event(
        inquiry,
        actor,
        EventType.REMEDY_DECIDED,
        remedy=remedy.pk,
        kind=remedy.kind,
        state=remedy.state,
        note=remedy.decision_note,
        outcome=outcome or {},
    )


def plan_step_added(inquiry: Inquiry, actor: Actor, *, step) -> InquiryEvent:
    return _event(
        inquiry,
        actor,
        EventType.PLAN_STEP_ADDED,
        step=step.pk,
        title=step.title,
        owner=step.owner.get_username() if step.owner_id else "",
        due=step.due_date.isoformat() if step.due_date else "",
    )


def plan_step_done(inquiry: Inquiry, actor: Actor, *, step) -> InquiryEvent:
    return _event(inquiry, actor, EventType.PLAN_STEP_DONE, step=step.pk, title=step.title)


def plan_step_reopened(inquiry: Inquiry, actor: Actor, *, step) -> InquiryEvent:
    return _event(inquiry, actor, EventType.PLAN_STEP_REOPENED, step=step.pk, title=step.title)


def handoff(inquiry: Inquiry, actor: Actor, *, order: str, department: str, summary: str) -> InquiryEvent:
    return _event(inquiry, actor, EventType.HANDOFF, order=order, department=department, summary=summary)


def customer_updated(inquiry: Inquiry, actor: Actor, *, changes: dict) -> InquiryEvent:
    return _event(inquiry, actor, EventType.CUSTOMER_UPDATED, changes=changes)


def attachment_refused(inquiry: Inquiry, actor: Actor, *, filename: str, reason: str) -> InquiryEvent:
    return _event(inquiry, actor, EventType.ATTACHMENT_REFUSED, filename=filename, reason=reason)


def approval_requested(inquiry: Inquiry, actor: Actor, *, remedy) -> InquiryEvent:
    """A remedy above the proposer's authority, waiting for ``remedy.approval_tier``."""
    return _event(inquiry, actor, EventType.APPROVAL_REQUESTED, **_offer(remedy), tier=remedy.approval_tier)


def remedy_approved(inquiry: Inquiry, actor: Actor, *, remedy, outcome: dict) -> InquiryEvent:
    asked = str(remedy.requested_amount) if remedy.requested_amount is not None else ""
    return _event(
        inquiry,
        actor,
        EventType.REMEDY_APPROVED,
        **_remedy(remedy),
        asked=asked,
        note=remedy.approval_note,
        outcome=outcome,
    )


def remedy_denied(inquiry: Inquiry, actor: Actor, *, remedy) -> InquiryEvent:
    return _event(inquiry, actor, EventType.REMEDY_DENIED, **_remedy(remedy), note=remedy.approval_note)


def tier_moved(inquiry: Inquiry, actor: Actor, type_: str, **details) -> InquiryEvent:
    """The inquiry moved on the ladder (``type_``: escalated, taken over, returned, reassigned,
    de-escalated). Written by the escalation app's services; ``details`` carry from and to tier,
    who, why and the escalation's id. A coaching note's words are never in an event: they are
    on the escalation row, shown only to those who may read them."""
    return _event(inquiry, actor, type_, **details)


def customer_portal(inquiry: Inquiry, actor: Actor, type_: str, **details) -> InquiryEvent:
    """The customer portal's events (``type_``: status link issued or revoked, survey sent,
    rating received), written by the portal app's services; ``details`` carry the link's
    purpose and expiry, or the score and cycle (a customer's comment stays on the rating row)."""
    return _event(inquiry, actor, type_, **details)
