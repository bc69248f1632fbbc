"""Working an inquiry: replies and notes, status, details, claiming and assigning, linked
orders, department hand-offs, account adjustments, presence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import Conflict, InvalidInput, PermissionDenied, TransitionNotAllowed
from fulfillment.permissions import require
from fulfillment.tiers import Specialty, Tier
from orders import services as order_services
from orders.models import Handoff, Order

from .. import events
from .. import permissions as perms
from ..enums import (
    ACTIVE,
    Category,
    Channel,
    InquiryStatus,
    MessageKind,
    Priority,
    allowed_targets,
)
from ..models import Inquiry, InquiryOrder, Message, Presence, ResponseTemplate
from . import followups
from ._common import (
    STATUS_LABELS,
    check_version,
    clean_body,
    clean_text,
    lock,
    require_workable,
    save,
)
from .compose import compose_reply
from .search_terms import remember_words_on_commit
from .tags import set_tags

PRESENCE_SECONDS = 45


class StaleReply(Conflict):
    """New messages arrived since the rep opened the inquiry: the reply is held back."""

    code = "stale_reply"
    default_message = _(
        "New messages arrived since you opened this inquiry. Your reply was not sent: read them, then send again."
    )

    def __init__(self, *, new_message_ids: list[int]):
        self.new_message_ids = new_message_ids
        super().__init__()


# --- words -----------------------------------------------------------------------------------


def _reply_channel(inquiry: Inquiry) -> str:
    """Replies to email and web inquiries go by email when we have an address."""
    if inquiry.channel in (Channel.EMAIL, Channel.WEB) and inquiry.customer.email:
        return Channel.EMAIL
    return inquiry.channel


def reply_send(
    *,
    actor: Actor,
    inquiry: Inquiry,
    body: str = "",
    template: ResponseTemplate | None = None,
    seen_message_id: int | None = None,
    then_status: str | None = None,
    frame: bool = True,
) -> Message:
    """A reply to the customer. Held back (``StaleReply``) when someone else's message arrived
    after ``seen_message_id``; email replies leave through Django's email backend after commit."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    if not (body or "").strip() and template is None:
        raise InvalidInput(field_errors={"body": [_("Write a reply or choose a template.")]})
    if then_status and then_status not in InquiryStatus.values:
        raise InvalidInput(field_errors={"then_status": [_("Choose one of the offered values.")]})
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        if seen_message_id is not None and inquiry.last_message_id > seen_message_id:
            newer = Message.objects.filter(inquiry=inquiry, pk__gt=seen_message_id)
            if actor.user is not None:
                newer = newer.exclude(author=actor.user)
            new_ids = list(newer.values_list("pk", flat=True))
            if new_ids:
                raise StaleReply(new_message_ids=new_ids)
        text = clean_body(compose_reply(inquiry, actor, body or "", template=template, frame=frame))
        channel = _reply_channel(inquiry)
        message = Message.objects.create(
            inquiry=inquiry,
            kind=MessageKind.OUTBOUND,
            channel=channel,
            subject=f"[{inquiry.reference}] {inquiry.subject}"[:300],
            body=text,
            author=actor.user,
            author_name=actor.name[:200],
            to_email=inquiry.customer.email if channel == Channel.EMAIL else "",
        )
        events.message_out(inquiry, actor, message, template=template.name if template else "")
        remember_words_on_commit(message.body)
        inquiry.first_response_at = inquiry.first_response_at or message.created_at
        inquiry.last_outbound_at = message.created_at
        inquiry.message_count += 1
        inquiry.last_message_id = message.pk
        fields = ["first_response_at", "last_outbound_at", "message_count", "last_message_id"]
        if then_status and then_status != inquiry.status:
            _check_open_steps(inquiry, then_status)
            fields += _move(inquiry, actor, then_status)
        elif inquiry.status == InquiryStatus.NEW:
            fields += _move(inquiry, actor, InquiryStatus.OPEN)
        save(inquiry, fields)
        if channel == Channel.EMAIL:
            from ..mail.outbound import deliver_on_commit

            deliver_on_commit(message.pk)
    return message


def note_add(*, actor: Actor, inquiry: Inquiry, body: str) -> Message:
    """An internal note: never sent to the customer."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    body = clean_body(body)
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        message = Message.objects.create(
            inquiry=inquiry,
            kind=MessageKind.NOTE,
            channel=inquiry.channel,
            body=body,
            author=actor.user,
            author_name=actor.name[:200],
        )
        events.note(inquiry, actor, message)
        remember_words_on_commit(message.body)
        inquiry.last_message_id = message.pk  # a colleague's note is news too: it holds a stale reply
        save(inquiry, ["last_message_id"])
    return message


# --- status -----------------------------------------------------------------------------------


def _move(inquiry: Inquiry, actor: Actor, target: str, *, reason: str = "") -> list[str]:
    """Check the transition table and apply the move's side facts; returns fields to save."""
    old = inquiry.status
    if target not in allowed_targets(old):
        raise TransitionNotAllowed(current=old, requested=target, allowed=allowed_targets(old), labels=STATUS_LABELS)
    now = clock.now()
    fields = ["status"]
    inquiry.status = target
    if target == InquiryStatus.RESOLVED:
        inquiry.resolved_at = now
        fields.append("resolved_at")
    elif target == InquiryStatus.CLOSED:
        inquiry.closed_at = now
        inquiry.resolved_at = inquiry.resolved_at or now
        fields += ["closed_at", "resolved_at"]
    elif old in (InquiryStatus.RESOLVED, InquiryStatus.CLOSED):
        inquiry.reopen_count += 1
        inquiry.resolved_at = inquiry.closed_at = None
        fields += ["reopen_count", "resolved_at", "closed_at"]
    events.status_changed(inquiry, actor, old=old, new=target, reason=reason)
    followups.status_changed(inquiry, actor, old=old, new=target)
    return fields


def _check_open_steps(inquiry: Inquiry, target: str, *, override: bool = False, reason: str = "") -> None:
    """Resolving or closing with open plan steps needs an explicit override with a reason."""
    if target not in (InquiryStatus.RESOLVED, InquiryStatus.CLOSED) or not inquiry.plan_open_steps:
        return
    if not override:
        raise InvalidInput(
            _("%(n)d plan step(s) are still open. Finish them, or resolve anyway with a reason.")
            % {"n": inquiry.plan_open_steps},
            field_errors={"status": [_("The resolution plan has open steps.")]},
        )
    if not reason:
        raise InvalidInput(field_errors={"reason": [_("Say why the inquiry is resolved with open plan steps.")]})


def inquiry_set_status(
    *,
    actor: Actor,
    inquiry: Inquiry,
    status: str,
    reason: str = "",
    override_open_steps: bool = False,
    expected_version: int | None = None,
) -> Inquiry:
    """Move the inquiry along its one transition table. Resolving with open plan steps needs
    an explicit override with a reason."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    reason = clean_text(reason, "reason", 500)
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        check_version(inquiry, expected_version)
        _check_open_steps(inquiry, status, override=override_open_steps, reason=reason)
        fields = _move(inquiry, actor, status, reason=reason)
        save(inquiry, fields)
    return inquiry


def inquiry_update(
    *,
    actor: Actor,
    inquiry: Inquiry,
    expected_version: int | None = None,
    subject: str | None = None,
    priority: int | None = None,
    category: str | None = None,
    specialty_needed: str | None = None,
    tags: Iterable[str] | None = None,
) -> Inquiry:
    """Change the inquiry's details. Only what differs is written and recorded."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    values = {}
    if subject is not None:
        values["subject"] = clean_text(subject, "subject", 200, required=True)
    if priority is not None:
        if priority not in Priority.values:
            raise InvalidInput(field_errors={"priority": [_("Choose one of the offered values.")]})
        values["priority"] = priority
    if category is not None:
        if category not in Category.values:
            raise InvalidInput(field_errors={"category": [_("Choose one of the offered values.")]})
        values["category"] = category
    if specialty_needed is not None:
        if specialty_needed and specialty_needed not in Specialty.values:
            raise InvalidInput(field_errors={"specialty_needed": [_("Choose one of the offered values.")]})
        values["specialty_needed"] = specialty_needed
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        check_version(inquiry, expected_version)
        changes = {k: [str(getattr(inquiry, k)), str(v)] for k, v in values.items() if getattr(inquiry, k) != v}
        fields = list(changes)
        for name in changes:
            setattr(inquiry, name, values[name])
        if changes:
            events.fields_changed(inquiry, actor, changes)
            if "subject" in changes:
                remember_words_on_commit(inquiry.subject)
        if tags is not None:
            set_tags(inquiry, actor, tags)
        save(inquiry, fields)
    return inquiry


# --- who works it ---------------------------------------------------------------------------


def _name(user) -> str:
    return user.get_username() if user else ""


def inquiry_claim(*, actor: Actor, inquiry: Inquiry) -> Inquiry:
    """Take an unassigned inquiry. First claim wins: the loser is told who has it."""
    actor = as_actor(actor)
    require(actor, perms.CLAIM)
    if actor.user is None:
        raise PermissionDenied()
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        if inquiry.assignee_id == actor.user.pk:
            return inquiry
        if inquiry.assignee_id is not None:
            holder = get_user_model().objects.filter(pk=inquiry.assignee_id).first()
            name = (holder.get_full_name() or holder.get_username()) if holder else "?"
            raise Conflict(_("%(name)s has already claimed this inquiry.") % {"name": name})
        if inquiry.status not in ACTIVE:
            raise InvalidInput(_("Only an active inquiry can be claimed."))
        inquiry.assignee = actor.user
        fields = ["assignee"]
        events.assigned(inquiry, actor, old="", new=_name(actor.user), claimed=True)
        save(inquiry, fields)
    return inquiry


def inquiry_assign(*, actor: Actor, inquiry: Inquiry, assignee=None) -> Inquiry:
    """Give the inquiry to someone (senior reps and up), or release one's own (``assignee=None``)."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        releasing_own = assignee is None and actor.user is not None and inquiry.assignee_id == actor.user.pk
        if not releasing_own:
            require(actor, perms.ASSIGN)
        if assignee is not None:
            if not assignee.is_active or not assignee.tier:
                raise InvalidInput(field_errors={"assignee": [_("This person cannot take inquiries.")]})
            if assignee.tier < inquiry.tier:
                raise InvalidInput(
                    field_errors={
                        "assignee": [
                            _("This inquiry needs someone at the %(tier)s tier or above.")
                            % {"tier": Tier(inquiry.tier).label}
                        ]
                    }
                )
        if inquiry.assignee_id == (assignee.pk if assignee else None):
            return inquiry
        old = _name(inquiry.assignee)
        inquiry.assignee = assignee
        events.assigned(inquiry, actor, old=old, new=_name(assignee), claimed=False)
        save(inquiry, ["assignee"])
    return inquiry


# --- orders ------------------------------------------------------------------------------------


def link_order(*, actor: Actor, inquiry: Inquiry, order: Order) -> InquiryOrder:
    actor = as_actor(actor)
    require(actor, perms.WORK)
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        if order.customer_id != inquiry.customer_id:
            raise InvalidInput(field_errors={"order": [_("This order belongs to another customer.")]})
        link, created = InquiryOrder.objects.get_or_create(inquiry=inquiry, order=order)
        if not created:
            raise InvalidInput(field_errors={"order": [_("This order is already linked.")]})
        events.order_linked(inquiry, actor, number=str(order))
        save(inquiry, [])
    return link


def unlink_order(*, actor: Actor, inquiry: Inquiry, order: Order) -> None:
    actor = as_actor(actor)
    require(actor, perms.WORK)
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        deleted, _rows = InquiryOrder.objects.filter(inquiry=inquiry, order=order).delete()
        if not deleted:
            raise InvalidInput(field_errors={"order": [_("This order is not linked.")]})
        events.order_unlinked(inquiry, actor, number=str(order))
        save(inquiry, [])


def handoff_to_department(
    *,
    actor: Actor,
    inquiry: Inquiry,
    order: Order,
    department: str,
    summary: str,
    owner=None,
    due_date: dt.date | None = None,
    wait: bool = True,
) -> Handoff:
    """Hand work on a linked order to a department: the order's hand-off, recorded on both
    timelines; the inquiry waits on the department unless told otherwise."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        if not InquiryOrder.objects.filter(inquiry=inquiry, order=order).exists():
            raise InvalidInput(field_errors={"order": [_("Link the order to this inquiry first.")]})
        handoff = order_services.handoff_create(
            actor=actor, order=order, department=department, summary=summary, owner=owner, due_date=due_date
        )
        events.handoff(inquiry, actor, order=str(order), department=department, summary=handoff.summary)
        fields = []
        if wait and InquiryStatus.WAITING_DEPARTMENT in allowed_targets(inquiry.status):
            fields = _move(inquiry, actor, InquiryStatus.WAITING_DEPARTMENT)
        save(inquiry, fields)
    return handoff


def customer_adjust(*, actor: Actor, inquiry: Inquiry, expected_version: int | None = None, **data):
    """Account adjustments (address, contact details) from the inquiry: through the customer
    service, so they land on the customer's timeline and on this inquiry's."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    with transaction.atomic():
        inquiry = lock(inquiry)
        require_workable(actor, inquiry)
        customer = inquiry.customer
        before = {k: str(getattr(customer, k)) for k in data if hasattr(customer, k)}
        customer = order_services.customer_update(
            actor=actor, customer=customer, expected_version=expected_version, **data
        )
        changes = {k: [v, str(getattr(customer, k))] for k, v in before.items() if str(getattr(customer, k)) != v}
        if changes:
            events.customer_updated(inquiry, actor, changes=changes)
            save(inquiry, [])
    return customer


# --- presence (not audited: it is who is looking, not a change) ---------------------------------


def presence_ping(*, user, inquiry: Inquiry, composing: bool = False) -> None:
    now = clock.now()
    updated = Presence.objects.filter(inquiry=inquiry, user=user).update(seen_at=now, composing=composing)
    if not updated:
        Presence.objects.bulk_create(
            [Presence(inquiry=inquiry, user=user, seen_at=now, composing=composing)], ignore_conflicts=True
        )


def presence_leave(*, user, inquiry: Inquiry) -> None:
    Presence.objects.filter(inquiry=inquiry, user=user).delete()


def presence_others(*, user, inquiry: Inquiry) -> list[Presence]:
    since = clock.now() - dt.timedelta(seconds=PRESENCE_SECONDS)
    return list(
        Presence.objects.filter(inquiry=inquiry, seen_at__gte=since)
        .exclude(user=user)
        .select_related("user")
        .order_by("-composing", "user__username")
    )
