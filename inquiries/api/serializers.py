"""API shapes for inquiries. Input serializers validate shape only (the rules live in the
services); output is built by plain functions from rows already loaded (no queries), with
serializer classes that describe the same shape for the OpenAPI schema."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from fulfillment import clock
from fulfillment.tiers import Specialty, Tier
from orders.api.serializers import CustomerSummaryOut, StrictSerializer, _dt

from ..enums import Category, Channel, InquiryStatus, MessageKind, Priority, ServiceState
from ..models import DueKind, Inquiry, Message
from ..selectors import service_state
from ..services._common import MAX_BODY
from ..services.tags import MAX_TAGS

MAX_ID = 2**63 - 1
MAX_ORDERS = 20

# --- input ----------------------------------------------------------------------------------


def _body(**kwargs) -> serializers.CharField:
    """A message text: kept exactly as written (no trimming), at most MAX_BODY characters."""
    return serializers.CharField(max_length=MAX_BODY, trim_whitespace=False, **kwargs)


def _tags(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=MAX_TAGS, help_text=_("Tag names."), **kwargs
    )


class NewCustomerIn(StrictSerializer):
    """A customer named by email: matched when one customer has it, created when none does."""

    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(
        max_length=200, required=False, help_text=_("Needed only when no customer has this email yet.")
    )
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    preferred_language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)


class InquiryCreateIn(StrictSerializer):
    customer = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text=_("Our customer id."))
    customer_by_email = NewCustomerIn(required=False, help_text=_("Or: the customer by email address."))
    subject = serializers.CharField(max_length=200)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.WEB)
    category = serializers.ChoiceField(choices=Category.choices, default=Category.OTHER)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    specialty_needed = serializers.ChoiceField(choices=Specialty.choices, required=False, allow_blank=True)
    body = _body(required=False, allow_blank=True, help_text=_("The customer's first message."))
    orders = serializers.ListField(
        child=serializers.CharField(max_length=30),
        max_length=MAX_ORDERS,
        required=False,
        help_text=_("Numbers of the customer's orders this inquiry is about."),
    )
    tags = _tags(required=False)

    def validate(self, attrs):
        if ("customer" in attrs) == ("customer_by_email" in attrs):
            raise serializers.ValidationError({"customer": [_("Give either customer (our id) or customer_by_email.")]})
        return attrs


class InquiryUpdateIn(StrictSerializer):
    subject = serializers.CharField(max_length=200, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    specialty_needed = serializers.ChoiceField(choices=Specialty.choices, required=False, allow_blank=True)
    tags = _tags(required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict) and "status" in data:
            raise serializers.ValidationError(
                {"status": [_("The status is not changed here: POST it to the inquiry's status/ endpoint.")]}
            )
        return super().to_internal_value(data)


class ReplyIn(StrictSerializer):
    body = _body(required=False, allow_blank=True)
    template = serializers.CharField(
        max_length=100, required=False, help_text=_("A response template's name or id (instead of body).")
    )
    seen_message_id = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_ID,
        help_text=_("The newest message id you have read; if newer ones arrived, the reply is held back (409)."),
    )
    then_status = serializers.ChoiceField(choices=InquiryStatus.choices, required=False)
    frame = serializers.BooleanField(
        default=True, help_text=_("Add the greeting and closing in the customer's language.")
    )

    def validate(self, attrs):
        if not (attrs.get("body") or "").strip() and not attrs.get("template"):
            raise serializers.ValidationError({"body": [_("Write a reply or name a template.")]})
        return attrs


class CustomerMessageIn(StrictSerializer):
    body = _body()
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, help_text=_("Default: the inquiry's channel.")
    )
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True)
    sender_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class NoteIn(StrictSerializer):
    body = _body()


class StatusIn(StrictSerializer):
    status = serializers.ChoiceField(choices=InquiryStatus.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    override_open_steps = serializers.BooleanField(
        default=False, help_text=_("Resolve although plan steps are open (needs a reason).")
    )


class LinkOrderIn(StrictSerializer):
    order = serializers.CharField(max_length=30, help_text=_("The order number."))


# --- output (documentation of the dicts built below) ---------------------------------------


class AssigneeOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class PolicyOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DeadlinesOut(serializers.Serializer):
    due_at = serializers.DateTimeField(allow_null=True, help_text=_("The nearest of the others while active."))
    due_kind = serializers.ChoiceField(
        choices=DueKind.choices, allow_blank=True, help_text=_("What due_at is for; empty when nothing is due.")
    )
    warn_at = serializers.DateTimeField(
        allow_null=True, help_text=_("The earliest instant a live deadline reaches its warning share (at risk).")
    )
    service_state = serializers.ChoiceField(
        choices=ServiceState.choices,
        allow_blank=True,
        help_text=_(
            "At the time of the response: breached once due_at has passed, at_risk once warn_at has, else "
            "on_track; paused while waiting on the customer with nothing due; empty when resolved or closed."
        ),
    )
    policy = PolicyOut(allow_null=True, help_text=_("The service policy that sets the targets."))
    response_due_at = serializers.DateTimeField(allow_null=True)
    resolve_due_at = serializers.DateTimeField(allow_null=True)
    next_callback_at = serializers.DateTimeField(allow_null=True)
    next_step_due = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()


class InquiryOut(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=InquiryStatus.choices)
    allowed_statuses = serializers.ListField(child=serializers.ChoiceField(choices=InquiryStatus.choices))
    channel = serializers.ChoiceField(choices=Channel.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    tier = serializers.ChoiceField(choices=Tier.choices)
    specialty_needed = serializers.CharField()
    customer = CustomerSummaryOut()
    assignee = AssigneeOut(allow_null=True)
    orders = serializers.ListField(child=serializers.CharField(), help_text=_("Linked order numbers."))
    tags = serializers.ListField(child=serializers.CharField())
    message_count = serializers.IntegerField(help_text=_("Customer messages and replies (notes not counted)."))
    last_message_id = serializers.IntegerField(help_text=_("Send it as seen_message_id with a reply."))
    deadlines = DeadlinesOut()
    first_response_at = serializers.DateTimeField(allow_null=True)
    last_inbound_at = serializers.DateTimeField(allow_null=True)
    last_outbound_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    reopen_count = serializers.IntegerField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AttachmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=MessageKind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    subject = serializers.CharField()
    body = serializers.CharField(help_text=_("Plain text as written; render it as text, never as HTML."))
    author_name = serializers.CharField()
    sender_email = serializers.CharField()
    to_email = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    attachments = AttachmentOut(many=True)


class StaleReplyOut(serializers.Serializer):
    """Documents the 409 of reply/ (the one error shape plus the new message ids)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    new_message_ids = serializers.ListField(child=serializers.IntegerField())


def inquiry_dict(inquiry: Inquiry, *, now: dt.datetime | None = None) -> dict:
    """The representation of an inquiry loaded with its customer, assignee, policy, tags and
    order links. ``now`` judges the service state (a list passes one for all its rows)."""
    customer, assignee, policy = inquiry.customer, inquiry.assignee, inquiry.policy
    return {
        "id": inquiry.pk,
        "reference": inquiry.reference,
        "subject": inquiry.subject,
        "status": inquiry.status,
        "allowed_statuses": inquiry.allowed_statuses,
        "channel": inquiry.channel,
        "category": inquiry.category,
        "priority": inquiry.priority,
        "tier": inquiry.tier,
        "specialty_needed": inquiry.specialty_needed,
        "customer": {"id": customer.pk, "name": customer.name, "email": customer.email, "phone": customer.phone},
        "assignee": {"id": assignee.pk, "username": assignee.get_username()} if assignee else None,
        "orders": [str(link.order) for link in inquiry.order_links.all()],
        "tags": sorted(tag.name for tag in inquiry.tags.all()),
        "message_count": inquiry.message_count,
        "last_message_id": inquiry.last_message_id,
        "deadlines": {
            "due_at": _dt(inquiry.due_at),
            "due_kind": inquiry.due_kind,
            "warn_at": _dt(inquiry.warn_at),
            "service_state": service_state(inquiry, now or clock.now()),
            "policy": {"id": policy.pk, "name": policy.name} if policy else None,
            "response_due_at": _dt(inquiry.response_due_at),
            "resolve_due_at": _dt(inquiry.resolve_due_at),
            "next_callback_at": _dt(inquiry.next_callback_at),
            "next_step_due": inquiry.next_step_due.isoformat() if inquiry.next_step_due else None,
            "overdue": inquiry.is_overdue,
        },
        "first_response_at": _dt(inquiry.first_response_at),
        "last_inbound_at": _dt(inquiry.last_inbound_at),
        "last_outbound_at": _dt(inquiry.last_outbound_at),
        "resolved_at": _dt(inquiry.resolved_at),
        "closed_at": _dt(inquiry.closed_at),
        "reopen_count": inquiry.reopen_count,
        "version": inquiry.version,
        "created_at": _dt(inquiry.created_at),
        "updated_at": _dt(inquiry.updated_at),
    }


def message_dict(message: Message) -> dict:
    """A message loaded with its attachments (prefetched)."""
    return {
        "id": message.pk,
        "kind": message.kind,
        "channel": message.channel,
        "subject": message.subject,
        "body": message.body,
        "author_name": message.author_name,
        "sender_email": message.sender_email,
        "to_email": message.to_email,
        "created_at": _dt(message.created_at),
        "sent_at": _dt(message.sent_at),
        "attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
    }
