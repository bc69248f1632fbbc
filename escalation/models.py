"""Escalations (the history of an inquiry's climb and return), automatic-escalation rules and
their firings. Tables, constraints and indexes only: every change goes through ``services``.

Authority limits and approval requests belong to the remedies they govern, in ``inquiries``
(``AuthorityLimit``, ``Remedy.approval_tier``): the remedy services check them in the same
transaction that creates the remedy, and inquiries may not import this app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fulfillment import clock
from fulfillment.actors import ActorKind
from fulfillment.tiers import Specialty, Tier
from inquiries.models import Inquiry

from .enums import Kind, Outcome, Reason, Trigger


class EscalationRule(models.Model):
    """Move an inquiry up one tier when ``trigger`` happens. Each firing is recorded once per
    breach (``RuleFiring``), so a sweep that runs every minute escalates a breach once."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    trigger = models.CharField(_("when"), max_length=30, choices=Trigger.choices)
    contacts = models.PositiveSmallIntegerField(
        _("customer contacts"),
        null=True,
        blank=True,
        help_text=_("For “customer contacts without resolution”: how many messages and calls from the customer."),
    )
    grace_minutes = models.PositiveIntegerField(
        _("grace (minutes)"), default=0, help_text=_("Fire this long after the breach or the missed callback.")
    )
    up_to_tier = models.PositiveSmallIntegerField(
        _("highest tier"),
        choices=Tier.choices,
        default=Tier.SUPERVISOR,
        help_text=_("The rule moves nothing above this tier; at it, it only notifies."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        verbose_name = _("automatic escalation rule")
        verbose_name_plural = _("automatic escalation rules")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(trigger__in=Trigger.values), name="escalationrule_trigger_valid"),
            models.CheckConstraint(condition=Q(up_to_tier__in=Tier.values), name="escalationrule_tier_valid"),
            models.CheckConstraint(
                condition=~Q(trigger=Trigger.REPEAT_CONTACTS) | Q(contacts__gte=1),
                name="escalationrule_contacts_needed",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Escalation(models.Model):
    """One move up the ladder, and — once the inquiry leaves ``to_tier`` again — its outcome:
    escalated further, returned with coaching, reassigned lower, or de-escalated when done.

    Time at each tier: ``from_tier_seconds`` is how long the inquiry had been at ``from_tier``
    when it went up; ``seconds_at_tier`` how long it then stayed at ``to_tier`` (set on close).
    At most one escalation of an inquiry is open (not closed) at a time.
    """

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="escalations")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MANUAL)
    from_tier = models.PositiveSmallIntegerField(_("from tier"), choices=Tier.choices)
    to_tier = models.PositiveSmallIntegerField(_("to tier"), choices=Tier.choices)
    specialty = models.CharField(_("specialty"), max_length=20, choices=Specialty.choices, blank=True)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee before"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_kind = models.CharField(_("actor kind"), max_length=12, choices=ActorKind.choices)
    actor_name = models.CharField(pgettext_lazy("who did it", "by"), max_length=150)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    reason_text = models.CharField(_("reason in words"), max_length=1000, blank=True)
    tried = models.TextField(_("what was tried"), max_length=4000, blank=True)
    skip_reason = models.CharField(_("why a tier was skipped"), max_length=1000, blank=True)
    rule = models.ForeignKey(
        EscalationRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalations",
    )
    customer_told = models.BooleanField(_("customer told"), default=False)
    created_at = models.DateTimeField(_("escalated"), default=clock.now)
    from_tier_seconds = models.PositiveIntegerField(_("seconds at the tier before"), default=0)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken over by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    taken_at = models.DateTimeField(_("taken over"), null=True, blank=True)
    # the outcome, once the inquiry left to_tier
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(_("left the tier"), null=True, blank=True)
    closed_by_name = models.CharField(_("closed by"), max_length=150, blank=True)
    outcome_tier = models.PositiveSmallIntegerField(_("went to tier"), choices=Tier.choices, null=True, blank=True)
    outcome_note = models.CharField(_("note"), max_length=1000, blank=True)
    seconds_at_tier = models.PositiveIntegerField(_("seconds at the tier"), null=True, blank=True)
    # A coaching note is for the person coached (and those above them), never for other reps.
    coaching_note = models.TextField(_("coaching note"), max_length=4000, blank=True)
    coached_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("coached"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coaching_received",
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("coach"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notified_at = models.DateTimeField(_("notified"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["inquiry", "created_at", "id"], name="escalation_inquiry_idx"),
            models.Index(fields=["updated_at", "id"], name="escalation_updated_idx"),
            models.Index(fields=["created_at", "id"], name="escalation_created_idx"),
            models.Index(fields=["from_user", "created_at"], name="escalation_from_user_idx"),
            models.Index(
                fields=["coached_user", "closed_at"],
                condition=Q(coached_user__isnull=False),
                name="escalation_coached_idx",
            ),
            # the metrics' "left the tier in the range"
            models.Index(
                fields=["closed_at", "id"], condition=Q(closed_at__isnull=False), name="escalation_closed_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["inquiry"], condition=Q(closed_at__isnull=True), name="escalation_one_open_per_inquiry"
            ),
            models.CheckConstraint(condition=Q(to_tier__gt=models.F("from_tier")), name="escalation_goes_up"),
            models.CheckConstraint(condition=Q(reason__in=Reason.values), name="escalation_reason_valid"),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(outcome__in=Outcome.values), name="escalation_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True, outcome="") | Q(closed_at__isnull=False) & ~Q(outcome=""),
                name="escalation_closed_with_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.inquiry_id}: {self.get_from_tier_display()} → {self.get_to_tier_display()}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def skipped(self) -> bool:
        return bool(self.skip_reason)


class RuleFiring(models.Model):
    """A rule fired for one breach of one inquiry (``key`` names the breach: the first
    response, the resolution of one cycle, one callback, the contacts of one cycle). The unique
    key is what makes a breach escalate once however many sweeps see it."""

    rule = models.ForeignKey(EscalationRule, on_delete=models.CASCADE, related_name="firings")
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=60)
    fired_at = models.DateTimeField(default=clock.now)
    escalation = models.OneToOneField(
        Escalation, null=True, blank=True, on_delete=models.SET_NULL, related_name="firing"
    )
    moved = models.BooleanField(default=False, help_text=_("False: already at the rule's highest tier."))
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rule firing")
        verbose_name_plural = _("rule firings")
        constraints = [
            models.UniqueConstraint(fields=["rule", "inquiry", "key"], name="rulefiring_once_per_breach"),
        ]
        indexes = [
            # the sweep's catch-up: firings at the top of the ladder whose notice is not sent
            models.Index(
                fields=["fired_at"],
                condition=Q(notified_at__isnull=True, moved=False),
                name="rulefiring_unsent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} · {self.inquiry_id} · {self.key}"
