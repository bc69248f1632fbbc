"""Service targets: business calendars, policies with their targets, the rules that choose a
policy, the records of targets met or missed, and recompute jobs.

Tables only; ``inquiries/services/targets.py`` does the work. Imported by ``inquiries.models``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fulfillment import clock
from orders.enums import CustomerTier

from ..enums import Category, Channel, Priority
from .businesstime import CalendarError, time_zone


def validate_time_zone(value: str) -> None:
    try:
        time_zone(value)
    except CalendarError:
        raise ValidationError(
            _("“%(value)s” is not a known time zone (e.g. Asia/Kolkata)."), params={"value": value}
        ) from None


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class TargetKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_REPLY = "next_reply", _("Next reply")
    RESOLUTION = "resolution", _("Resolution")
    CALLBACK = "callback", _("Callback")


class DueKind(models.TextChoices):
    """What the inquiry's nearest deadline (``Inquiry.due_at``) is for."""

    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_REPLY = "next_reply", _("Next reply")
    RESOLUTION = "resolution", _("Resolution")
    CALLBACK = "callback", _("Callback")
    PLAN_STEP = "plan_step", _("Plan step")


class BusinessCalendar(models.Model):
    """A team's working week: opening hours per weekday in a time zone, and holidays."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    team = models.CharField(_("team"), max_length=100, blank=True, help_text=_("The team that works these hours."))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=settings.TIME_ZONE, validators=[validate_time_zone]
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OpeningHours(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"), help_text=_("00:00 means midnight at the end of the day."))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="openinghours_weekday_valid"),
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")) | Q(closes=dt.time(0)), name="openinghours_closes_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class ServicePolicy(models.Model):
    """Targets per priority and channel, counted on one calendar."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="policies"
    )
    warn_percent = models.PositiveSmallIntegerField(
        _("at risk from (%)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("An inquiry is “at risk” once this share of a target's time is used."),
    )
    is_default = models.BooleanField(
        _("default policy"), default=False, help_text=_("Used when no rule matches. Exactly one policy is the default.")
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("service policy")
        verbose_name_plural = _("service policies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="servicepolicy_one_default"
            ),
            models.CheckConstraint(condition=Q(warn_percent__gte=1, warn_percent__lte=99), name="servicepolicy_warn"),
        ]

    def __str__(self) -> str:
        return self.name


class PolicyTarget(models.Model):
    """Business minutes allowed per target, for one priority (and one channel, or any)."""

    policy = models.ForeignKey(ServicePolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, blank=True, help_text=_("Empty: any channel.")
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response (business minutes)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    next_reply_minutes = models.PositiveIntegerField(
        _("next reply (business minutes)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (business minutes)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["policy", "-priority", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority", "channel"], name="policytarget_unique"),
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="policytarget_priority_valid"),
            models.CheckConstraint(
                condition=Q(first_response_minutes__isnull=True) | Q(first_response_minutes__gt=0),
                name="policytarget_first_response_positive",
            ),
            models.CheckConstraint(
                condition=Q(next_reply_minutes__isnull=True) | Q(next_reply_minutes__gt=0),
                name="policytarget_next_reply_positive",
            ),
            models.CheckConstraint(
                condition=Q(resolution_minutes__isnull=True) | Q(resolution_minutes__gt=0),
                name="policytarget_resolution_positive",
            ),
        ]

    def __str__(self) -> str:
        channel = self.get_channel_display() if self.channel else _("any channel")
        return f"{self.get_priority_display()} · {channel}"


class PolicyRule(models.Model):
    """The first active rule (by position) whose conditions all match chooses the policy.
    An empty condition matches anything."""

    position = models.PositiveIntegerField(_("position"), default=100)
    name = models.CharField(_("name"), max_length=100)
    policy = models.ForeignKey(ServicePolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="rules")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    customer_tier = models.CharField(_("customer tier"), max_length=10, choices=CustomerTier.choices, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("policy rule")
        verbose_name_plural = _("policy rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class TargetRecord(models.Model):
    """A target that stopped: how much business time it took against what was allowed. Written
    once, when the clock stops, with the target in force then; reports read these rows."""

    inquiry = models.ForeignKey("inquiries.Inquiry", on_delete=models.CASCADE, related_name="target_records")
    kind = models.CharField(_("target"), max_length=20, choices=TargetKind.choices)
    cycle = models.PositiveIntegerField(_("cycle"), default=1)
    policy = models.ForeignKey(ServicePolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("started"))
    stopped_at = models.DateTimeField(_("stopped"))
    stopped_by = models.CharField(_("stopped by"), max_length=20, blank=True)
    target_minutes = models.PositiveIntegerField(_("target (minutes)"), null=True, blank=True)
    taken_seconds = models.PositiveIntegerField(_("business time taken (seconds)"))
    met = models.BooleanField(_("met"), null=True)

    class Meta:
        verbose_name = _("target record")
        verbose_name_plural = _("target records")
        ordering = ["stopped_at", "id"]
        constraints = [models.UniqueConstraint(fields=["inquiry", "kind", "cycle"], name="targetrecord_unique")]
        indexes = [models.Index(fields=["kind", "stopped_at"], name="targetrecord_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.cycle}"

    @property
    def taken_minutes(self) -> float:
        return self.taken_seconds / 60


class RecomputeState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class TargetRecompute(models.Model):
    """Recomputing the deadlines of open inquiries after a policy, calendar or rule changed.
    Worked in batches by a Celery task (or ``manage.py recompute_targets``); resumable."""

    reason = models.CharField(_("reason"), max_length=200)
    policy = models.ForeignKey(ServicePolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=RecomputeState.choices, default=RecomputeState.PENDING)
    total = models.PositiveIntegerField(_("inquiries"), default=0)
    done = models.PositiveIntegerField(_("recomputed"), default=0)
    last_id = models.BigIntegerField(default=0, editable=False)
    requested_by = models.CharField(_("requested by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("requested"), default=clock.now)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("deadline recompute")
        verbose_name_plural = _("deadline recomputes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reason} ({self.get_state_display()})"


__all__ = [
    "BusinessCalendar",
    "DueKind",
    "Holiday",
    "OpeningHours",
    "PolicyRule",
    "PolicyTarget",
    "RecomputeState",
    "ServicePolicy",
    "TargetKind",
    "TargetRecompute",
    "TargetRecord",
    "Weekday",
]
