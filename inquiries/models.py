"""Inquiries (tickets): messages and notes, calls, callbacks, remedies, resolution plans,
response templates, attachments, inbound mail, presence — and the inquiry timeline.

Tables, constraints and indexes only: every change goes through ``inquiries/services``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from fulfillment import clock
from fulfillment.models import TimelineEvent
from fulfillment.tiers import Specialty, Tier
from orders.models import MONEY, Customer, Order, Payment

from .enums import (
    ACTIVE,
    DONE,
    CallbackState,
    CallDirection,
    CallOutcome,
    Category,
    Channel,
    EventType,
    FollowUpOutcome,
    FollowUpState,
    InquiryStatus,
    MessageKind,
    Priority,
    RemedyKind,
    RemedyState,
    UpdateMode,
    allowed_targets,
)
from .targets.models import *  # noqa: F403  (the service-target tables belong to this app)
from .targets.models import BusinessCalendar, DueKind, ServicePolicy

REFERENCE_PREFIX = "INQ-"
_REFERENCE_RE = re.compile(r"\bINQ-?(\d{1,12})\b", re.IGNORECASE)


def reference_for(pk: int) -> str:
    return f"{REFERENCE_PREFIX}{pk:06d}"


def parse_reference(text: str) -> int | None:
    """The inquiry id in a reference like ``INQ-000123`` anywhere in ``text`` (a subject line)."""
    match = _REFERENCE_RE.search(text or "")
    return int(match.group(1)) if match else None


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Inquiry(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="inquiries"
    )
    subject = models.CharField(_("subject"), max_length=200)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.OTHER)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=20, choices=InquiryStatus.choices, default=InquiryStatus.NEW)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, default=Tier.REP)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_inquiries",
    )
    specialty_needed = models.CharField(_("specialty needed"), max_length=20, choices=Specialty.choices, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="inquiries")
    orders = models.ManyToManyField(
        Order, verbose_name=_("linked orders"), through="InquiryOrder", blank=True, related_name="inquiries"
    )

    created_at = models.DateTimeField(_("opened"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    version = models.PositiveIntegerField(default=1)

    # Deadlines. ``due_at`` is the nearest of them while the inquiry is active (queues sort by it).
    response_due_at = models.DateTimeField(_("reply due"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    next_callback_at = models.DateTimeField(_("next callback"), null=True, blank=True)
    next_step_due = models.DateField(_("next plan step due"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    # When the inquiry reached its tier (null: at the rep tier since it was opened).
    tier_changed_at = models.DateTimeField(_("at this tier since"), null=True, blank=True)
    #: What ``due_at`` is for, and when the first live target reaches its warning share.
    due_kind = models.CharField(_("due next"), max_length=20, choices=DueKind.choices, blank=True)
    warn_at = models.DateTimeField(_("at risk from"), null=True, blank=True)

    # The service policy and calendar chosen for it (recorded; see docs/service-targets.md).
    policy = models.ForeignKey(
        ServicePolicy,
        verbose_name=_("service policy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: How many stopped target clocks have their TargetRecord written.
    targets_recorded = models.PositiveSmallIntegerField(default=0, editable=False)

    # Facts kept on the row so queues need no joins.
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_inbound_at = models.DateTimeField(_("last customer message"), null=True, blank=True)
    last_outbound_at = models.DateTimeField(_("last reply"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("reopened"), default=0)
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    plan_steps_total = models.PositiveSmallIntegerField(default=0)
    plan_steps_done = models.PositiveSmallIntegerField(default=0)
    last_message_id = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["assignee", "due_at", "id"], condition=Q(status__in=ACTIVE), name="inquiry_mine_due_idx"
            ),
            models.Index(
                fields=["tier", "due_at", "id"],
                condition=Q(status__in=ACTIVE, assignee__isnull=True),
                name="inquiry_unassigned_due_idx",
            ),
            models.Index(fields=["tier", "due_at", "id"], condition=Q(status__in=ACTIVE), name="inquiry_team_due_idx"),
            models.Index(fields=["policy", "id"], condition=Q(status__in=ACTIVE), name="inquiry_open_policy_idx"),
            models.Index(fields=["calendar", "id"], condition=Q(status__in=ACTIVE), name="inquiry_open_calendar_idx"),
            models.Index(fields=["customer", "-created_at"], name="inquiry_customer_idx"),
            models.Index(fields=["updated_at", "id"], name="inquiry_updated_idx"),
            models.Index(fields=["-created_at", "-id"], name="inquiry_created_idx"),
            # the reports: open inquiries by tier, status and age, filtered by category, channel
            # and assignee without reading the table (backlog, age, open per rep)
            models.Index(
                fields=["tier", "status", "created_at"],
                include=["category", "channel", "assignee"],
                condition=Q(status__in=ACTIVE),
                name="inquiry_open_report_idx",
            ),
            # the reports: inquiries resolved in a date range (first contact, load per rep)
            models.Index(fields=["resolved_at"], condition=Q(resolved_at__isnull=False), name="inquiry_resolved_idx"),
            # scheduled sweeps: service targets at their warning share; customers who heard nothing
            models.Index(fields=["warn_at", "id"], condition=Q(status__in=ACTIVE), name="inquiry_warn_sweep_idx"),
            models.Index(
                Coalesce("last_outbound_at", "created_at"),
                "id",
                condition=Q(status__in=ACTIVE),
                name="inquiry_quiet_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=InquiryStatus.values), name="inquiry_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="inquiry_channel_valid"),
            models.CheckConstraint(condition=Q(category__in=Category.values), name="inquiry_category_valid"),
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="inquiry_priority_valid"),
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="inquiry_tier_valid"),
            models.CheckConstraint(condition=~Q(subject=""), name="inquiry_subject_not_empty"),
            models.CheckConstraint(
                condition=Q(plan_steps_done__lte=models.F("plan_steps_total")), name="inquiry_plan_counts"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject[:60]}"

    @property
    def reference(self) -> str:
        return reference_for(self.pk) if self.pk else ""

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_done(self) -> bool:
        return self.status in DONE

    @property
    def allowed_statuses(self) -> list[str]:
        return [s for s in InquiryStatus.values if s in allowed_targets(self.status)]

    @property
    def plan_open_steps(self) -> int:
        return self.plan_steps_total - self.plan_steps_done

    @property
    def is_overdue(self) -> bool:
        return bool(self.is_active and self.due_at and self.due_at <= clock.now())


class InquiryOrder(models.Model):
    """An order linked to an inquiry."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="order_links")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="inquiry_links")
    linked_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("linked order")
        verbose_name_plural = _("linked orders")
        ordering = ["linked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["inquiry", "order"], name="inquiryorder_unique")]

    def __str__(self) -> str:
        return f"{self.inquiry_id} → {self.order_id}"


class Message(models.Model):
    """Words in and out: a customer's message, a reply, or an internal note. Never edited."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(_("from"), max_length=200)
    sender_email = models.EmailField(_("sender email"), max_length=254, blank=True)
    to_email = models.EmailField(_("recipient email"), max_length=254, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True, help_text=_("For letters."))
    created_at = models.DateTimeField(_("time"), default=clock.now)
    #: RFC 5322 Message-ID of the mail that carried it (in or out), for threading.
    email_message_id = models.CharField(max_length=300, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    send_error = models.CharField(_("sending failed"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["inquiry", "id"], name="message_inquiry_idx")]
        constraints = [models.CheckConstraint(condition=Q(kind__in=MessageKind.values), name="message_kind_valid")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.author_name}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{clock.now():%Y/%m}/{instance.inquiry_id}/{filename}"


class Attachment(models.Model):
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class CallLog(models.Model):
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="calls")
    direction = models.CharField(_("direction"), max_length=10, choices=CallDirection.choices)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("time"), default=clock.now)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent_name = models.CharField(_("taken by"), max_length=150)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(direction__in=CallDirection.values), name="call_direction_valid"),
            models.CheckConstraint(condition=Q(outcome__in=CallOutcome.values), name="call_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} · {self.get_outcome_display()}"

    @property
    def duration_display(self) -> str:
        minutes, seconds = divmod(self.duration_seconds, 60)
        return f"{minutes}:{seconds:02d}"


class Callback(models.Model):
    """A promise to call the customer back by ``due_at`` ("I'll call you back by 3 pm")."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="callbacks")
    due_at = models.DateTimeField(_("call back by"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=CallbackState.choices, default=CallbackState.PENDING)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    promised_by_name = models.CharField(_("promised by"), max_length=150)
    created_at = models.DateTimeField(default=clock.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("callback promise")
        verbose_name_plural = _("callback promises")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["owner", "due_at"], condition=Q(state=CallbackState.PENDING), name="callback_pending_idx"
            ),
            models.Index(fields=["due_at"], condition=Q(state=CallbackState.PENDING), name="callback_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=CallbackState.values), name="callback_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.inquiry.reference} · {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_overdue(self) -> bool:
        return self.state == CallbackState.PENDING and self.due_at < clock.now()


class FollowUpCall(models.Model):
    """A call to the customer after resolution ("did that fix it?"), scheduled when the inquiry
    is resolved (services.followups). One per resolution cycle (``cycle`` = the inquiry's
    reopen count then). The row is the schedule: its jobs make it due, retry it and notice when
    its window has passed."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="follow_ups")
    cycle = models.PositiveIntegerField(default=0, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caller"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_up_calls",
    )
    state = models.CharField(_("state"), max_length=10, choices=FollowUpState.choices, default=FollowUpState.SCHEDULED)
    due_at = models.DateTimeField(_("call at"))
    #: Past this without a call, the follow-up is missed and goes to the escalation rules.
    window_ends_at = models.DateTimeField(_("call by"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"), default=3)
    outcome = models.CharField(_("last outcome"), max_length=20, choices=FollowUpOutcome.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("scheduled"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by_name = models.CharField(_("logged by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        ordering = ["due_at", "id"]
        indexes = [
            # the calls-due queue of one person, and of everyone
            models.Index(fields=["assignee", "due_at", "id"], condition=Q(state="due"), name="follow_up_due_idx"),
            models.Index(
                fields=["window_ends_at", "id"], condition=Q(state__in=["scheduled", "due"]), name="follow_up_open_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["inquiry", "cycle"], name="follow_up_one_per_cycle"),
            models.CheckConstraint(condition=Q(state__in=FollowUpState.values), name="follow_up_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.inquiry.reference} · {self.due_at:%Y-%m-%d %H:%M}"


class FollowUpDelay(models.Model):
    """How long after resolution the follow-up call comes due, by category and priority (blank:
    any). The most specific matching row wins; no row (or ``enabled`` off): no follow-up call."""

    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, null=True, blank=True)
    delay_minutes = models.PositiveIntegerField(_("call after (minutes)"), default=24 * 60)
    enabled = models.BooleanField(_("schedule a follow-up call"), default=True)

    class Meta:
        verbose_name = _("follow-up call delay")
        verbose_name_plural = _("follow-up call delays")
        ordering = ["category", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "priority"], name="follow_up_delay_unique", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display() or '*'} / {self.get_priority_display() or '*'}"


class SchedulePolicy(models.Model):
    """The desk's settings for scheduled work: one row (pk=1), edited in the admin."""

    follow_up_window_hours = models.PositiveIntegerField(
        _("follow-up window (hours)"),
        default=24,
        help_text=_("A follow-up call not made this long after it came due is missed."),
    )
    follow_up_max_attempts = models.PositiveSmallIntegerField(_("follow-up attempts"), default=3)
    follow_up_retry_minutes = models.PositiveIntegerField(
        _("first retry after (minutes)"), default=120, help_text=_("Each further retry waits twice as long.")
    )
    callback_reminder_minutes = models.PositiveIntegerField(_("remind before a callback (minutes)"), default=15)
    expedite_reminder_hours = models.PositiveIntegerField(_("expedite reminder every (hours)"), default=4)
    at_risk_update = models.CharField(
        _("when an order is at risk"), max_length=10, choices=UpdateMode.choices, default=UpdateMode.REMIND
    )
    quiet_hours = models.PositiveIntegerField(
        _("customer update after (hours without a reply)"),
        default=48,
        help_text=_("An open inquiry with no outbound message for this long. 0: never."),
    )
    quiet_update = models.CharField(
        _("when a customer has heard nothing"), max_length=10, choices=UpdateMode.choices, default=UpdateMode.REMIND
    )
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        verbose_name = _("scheduled-work settings")
        verbose_name_plural = _("scheduled-work settings")

    def __str__(self) -> str:
        return str(_("Scheduled-work settings"))

    @classmethod
    def current(cls) -> SchedulePolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class Remedy(models.Model):
    """A tool management gives reps: proposed, then accepted or declined by the customer."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="remedies")
    order = models.ForeignKey(
        Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="remedies"
    )
    kind = models.CharField(_("remedy"), max_length=20, choices=RemedyKind.choices)
    state = models.CharField(_("state"), max_length=20, choices=RemedyState.choices, default=RemedyState.PROPOSED)
    amount = models.DecimalField(_("amount"), null=True, blank=True, **MONEY)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    description = models.CharField(_("what is offered"), max_length=500, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    alternative_to = models.ForeignKey(
        "self",
        verbose_name=_("alternative to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alternatives",
    )
    proposed_by_name = models.CharField(_("proposed by"), max_length=150)
    created_at = models.DateTimeField(_("proposed"), default=clock.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by_name = models.CharField(_("recorded by"), max_length=150, blank=True)
    decision_note = models.CharField(_("customer's words"), max_length=500, blank=True)
    replacement_order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="replacement_for"
    )
    refund_payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Who proposed it (nobody approves their own request), and the approval when it needed one.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approval_tier = models.PositiveSmallIntegerField(
        _("needs approval from"),
        choices=Tier.choices,
        null=True,
        blank=True,
        help_text=_("The lowest tier that may grant it, when it was above the proposer's authority."),
    )
    requested_amount = models.DecimalField(_("amount asked for"), null=True, blank=True, **MONEY)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approval_decided_at = models.DateTimeField(_("approval decided"), null=True, blank=True)
    approval_note = models.CharField(_("approver's note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("remedy")
        verbose_name_plural = _("remedies")
        ordering = ["created_at", "id"]
        indexes = [
            # The review queue's approvals: those waiting on one tier, oldest first.
            models.Index(
                fields=["approval_tier", "created_at", "id"],
                condition=Q(state=RemedyState.PENDING_APPROVAL),
                name="remedy_pending_approval_idx",
            ),
            # the metrics' approval requests made in a range
            models.Index(
                fields=["created_at"], condition=Q(approval_tier__isnull=False), name="remedy_approval_requests_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RemedyKind.values), name="remedy_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=RemedyState.values), name="remedy_state_valid"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="remedy_amount_positive"),
            models.CheckConstraint(
                condition=~Q(state=RemedyState.PENDING_APPROVAL) | Q(approval_tier__isnull=False),
                name="remedy_pending_has_approval_tier",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"


class AuthorityLimit(models.Model):
    """How much one tier may grant without asking: the highest refund, the highest goodwill
    credit or gift, and whether it may send a replacement or arrange extra help. Information is
    always allowed. A tier without a row may grant nothing but information. Empty amount = no
    limit. A remedy above the proposer's limit becomes an approval request to the lowest tier
    whose limit allows it (``inquiries.services.remedies``)."""

    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, unique=True)
    max_refund = models.DecimalField(
        _("highest refund"), null=True, blank=True, help_text=_("Empty: no limit."), **MONEY
    )
    max_credit = models.DecimalField(
        _("highest credit or gift"), null=True, blank=True, help_text=_("Empty: no limit."), **MONEY
    )
    may_replace = models.BooleanField(_("may send a replacement"), default=True)
    may_extra_help = models.BooleanField(_("may arrange extra help"), default=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        verbose_name = _("authority limit")
        verbose_name_plural = _("authority limits")
        ordering = ["tier"]
        constraints = [
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="authoritylimit_tier_valid"),
            models.CheckConstraint(
                condition=Q(max_refund__isnull=True) | Q(max_refund__gte=0), name="authoritylimit_refund_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(max_credit__isnull=True) | Q(max_credit__gte=0), name="authoritylimit_credit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(Tier(self.tier).label)


class PlanStep(models.Model):
    """One step of a multi-step resolution plan: an owner and a due date."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="plan_steps")
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("step"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan_steps",
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by_name = models.CharField(_("done by"), max_length=150, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("plan step")
        verbose_name_plural = _("plan steps")
        ordering = ["inquiry", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["inquiry", "position"], name="planstep_position_unique")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return bool(not self.is_done and self.due_date and self.due_date < clock.today())


class ResponseTemplate(models.Model):
    """A canned reply in one language, with placeholders filled in when used."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    body = models.TextField(
        _("text"),
        max_length=10000,
        help_text=_("Placeholders: {first_name}, {customer_name}, {order_number}, {reference}, {rep_name}."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        ordering = ["name", "language"]
        constraints = [models.UniqueConstraint(fields=["name", "language"], name="template_name_language_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class InboundMail(models.Model):
    """Every inbound mail as it arrived, kept before it is parsed: nothing is lost."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Could not be processed")
        IGNORED = "ignored", _("Ignored (duplicate)")

    source = models.CharField(_("source"), max_length=40)  # imap, maildir, webhook
    message_id = models.CharField(_("Message-ID"), max_length=300, blank=True, db_index=True)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size in bytes"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RECEIVED)
    error = models.TextField(_("error"), blank=True)
    inquiry = models.ForeignKey(Inquiry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(_("received"), default=clock.now, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound mail")
        verbose_name_plural = _("inbound mail")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} {self.message_id or self.pk}"


class Presence(models.Model):
    """Who has an inquiry open right now, and whether they are writing a reply."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="presence")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=clock.now)
    composing = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("presence")
        verbose_name_plural = _("presence")
        constraints = [models.UniqueConstraint(fields=["inquiry", "user"], name="presence_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.inquiry_id}"


class SearchTerm(models.Model):
    """Every word of the messages and subjects (PostgreSQL only): a word still being typed is
    expanded into whole words from here, which the full-text index answers exactly and fast."""

    word = models.CharField(max_length=100, unique=True)
    documents = models.PositiveIntegerField(default=0)  # how many messages and subjects (nightly)

    class Meta:
        verbose_name = _("search term")
        verbose_name_plural = _("search terms")

    def __str__(self) -> str:
        return self.word


class InquiryEvent(TimelineEvent):
    """One entry on an inquiry's timeline. Messages and calls point at their rows."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("event"), max_length=30, choices=EventType.choices)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    call = models.ForeignKey(CallLog, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("inquiry event")
        verbose_name_plural = _("inquiry events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["inquiry", "created_at", "id"], name="inquiryevent_inquiry_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.actor_name}"


__all__ = [
    "Attachment",
    "AuthorityLimit",
    "CallLog",
    "Callback",
    "InboundMail",
    "Inquiry",
    "InquiryEvent",
    "InquiryOrder",
    "Message",
    "PlanStep",
    "Presence",
    "Remedy",
    "RemedyKind",
    "ResponseTemplate",
    "SearchTerm",
    "Tag",
]
