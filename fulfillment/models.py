"""Kernel models: staff users with their tier, specialties and language; the timeline base."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import clock
from .actors import ActorKind
from .tiers import Specialty, Tier


class Team(models.Model):
    """A group of staff working together under a lead (a site, a shift, a language desk). The
    reports filter by it: an inquiry belongs to the team of its assignee."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    lead = models.ForeignKey(
        "User",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams_led",
        help_text=_("Usually a supervisor or senior rep."),
    )
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~models.Q(name=""), name="team_name_not_empty")]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A staff member. ``tier`` places them on the ladder; admins are superusers."""

    tier = models.PositiveSmallIntegerField(
        _("tier"),
        choices=Tier.choices,
        null=True,
        blank=True,
        help_text=_("Place on the escalation ladder. Empty for accounts that work no inquiries."),
    )
    language = models.CharField(_("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en")
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        help_text=_("The reports count an inquiry for the team of the person it is assigned to."),
    )
    weekly_report = models.BooleanField(
        _("weekly report on Monday"),
        default=True,
        help_text=_("Last week's headline figures, in the app and by email (senior reps and above)."),
    )

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tier__isnull=True) | models.Q(tier__in=Tier.values),
                name="user_tier_valid",
            ),
        ]

    @property
    def role_label(self) -> str:
        if self.tier:
            return str(Tier(self.tier).label)
        return str(_("Administrator")) if self.is_superuser else str(_("No role"))


class StaffSpecialty(models.Model):
    """A specialist covers one or more areas."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="specialties")
    specialty = models.CharField(_("specialty"), max_length=20, choices=Specialty.choices)

    class Meta:
        verbose_name = _("staff specialty")
        verbose_name_plural = _("staff specialties")
        constraints = [
            models.UniqueConstraint(fields=["user", "specialty"], name="staffspecialty_unique"),
            models.CheckConstraint(condition=models.Q(specialty__in=Specialty.values), name="staffspecialty_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_specialty_display()}"


class TimelineEvent(models.Model):
    """Base of every timeline: one append-only row per event, with its actor.

    Rows are written only by the event functions of an app's ``events.py``, called by
    services inside their transaction. Nothing updates or deletes them.
    """

    created_at = models.DateTimeField(_("time"), default=clock.now, db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=12, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor"), max_length=150)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Timeline events are append-only.")
        super().save(*args, **kwargs)


class Heartbeat(models.Model):
    """Last time a periodic job ran; /healthz reports its age."""

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField()
    #: A failure row's error text (``failed:<task>``), for the operations page.
    detail = models.TextField(_("detail"), blank=True, default="")

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return self.name


class ApiScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


class ApiClient(models.Model):
    """A REST client (shop front, ERP, warehouse). Its key is shown once and stored hashed."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, help_text=_("Any of: read, write."))
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # DRF treats the authenticated principal as request.user.
    is_authenticated = True
    is_active = True

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes or [])


class IdempotencyRecord(models.Model):
    """The first response to a POST with an ``Idempotency-Key``, replayed on retries."""

    owner = models.CharField(max_length=80)  # "client:<id>" or "user:<id>"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # method, path and body, hashed
    status_code = models.PositiveSmallIntegerField()
    #: The JSON text of the response, as rendered (PostgreSQL's jsonb refuses the \u0000 that a
    #: client's input echoed in an error may carry; text holds the escaped form).
    response_body = models.TextField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class Notification(models.Model):
    """An in-app notice to one staff member (services in ``fulfillment.notifications``). ``key``
    names what it is about (e.g. ``escalation:42``): the same notice created twice is one row."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=120)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    #: A site-relative link to the thing the notice is about ("" when there is none).
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_recipient_key_unique")]
        indexes = [
            models.Index(fields=["recipient", "created_at", "id"], name="notification_list"),
            models.Index(
                fields=["recipient", "created_at", "id"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.key}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class JobState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("Handed to a worker")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Job(models.Model):
    """One piece of scheduled work: the row is the schedule (``fulfillment.scheduling``).

    Written in the same transaction as the business change that asks for it. A beat sweep claims
    due rows (``scheduled`` → ``queued``, with a lease) and hands them to a worker; the worker
    locks the row, runs the handler registered for ``kind`` and marks it ``done`` in the same
    transaction, so a job delivered twice runs once. A failure is retried with back-off until
    the handler's ``max_attempts``; then ``failed``. ``key`` names the job for de-duplication:
    asking twice for the same job (``follow-up:42:1``) is one row.
    """

    kind = models.CharField(_("kind"), max_length=60)
    #: Unique (a constraint, not ``unique=True``: no second ``LIKE`` index for PostgreSQL to keep
    #: up on every state change; nothing searches keys by prefix).
    key = models.CharField(_("key"), max_length=200)
    #: What it is about, for people (``inquiry:42``, ``order:7``): the operations page links it.
    ref = models.CharField(_("about"), max_length=100, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.SCHEDULED)
    due_at = models.DateTimeField(_("due"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    #: When it was handed to a worker (the lease starts): a queued job older than the lease is
    #: handed out again (the broker was down, or the worker died before finishing it).
    claimed_at = models.DateTimeField(_("handed out"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    done_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        indexes = [
            # the sweep's claim: due rows only (a small part of the table), oldest first
            models.Index(fields=["due_at", "id"], condition=models.Q(state="scheduled"), name="job_due"),
            # handed out and never finished: the lease check
            models.Index(fields=["claimed_at", "id"], condition=models.Q(state="queued"), name="job_leased"),
            models.Index(fields=["-updated_at", "-id"], condition=models.Q(state="failed"), name="job_failed"),
            models.Index(fields=["ref", "kind"], name="job_ref"),
            # finished jobs: the operations page's "done in the last 24 h", and the purge
            models.Index(fields=["done_at"], condition=models.Q(state="done"), name="job_done"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="job_key_unique"),
            models.CheckConstraint(condition=models.Q(state__in=JobState.values), name="job_state_valid"),
        ]

    def __str__(self) -> str:
        return self.key


class WebhookEventType(models.TextChoices):
    ORDER_CREATED = "order.created", _("Order created")
    ORDER_UPDATED = "order.updated", _("Order updated")
    ORDER_STATUS_CHANGED = "order.status_changed", _("Order status changed")
    ORDER_SHIPPED = "order.shipped", _("Order shipped")
    ORDER_EXPEDITE_AT_RISK = "order.expedite_at_risk", _("Order at risk")
    INQUIRY_CREATED = "inquiry.created", _("Inquiry opened")
    INQUIRY_UPDATED = "inquiry.updated", _("Inquiry updated")
    INQUIRY_STATUS_CHANGED = "inquiry.status_changed", _("Inquiry status changed")
    INQUIRY_RESOLVED = "inquiry.resolved", _("Inquiry resolved")


class WebhookSubscription(models.Model):
    """An API client's endpoint for events (``fulfillment.webhooks``). Each delivery is signed
    with ``secret`` (HMAC-SHA256 of the raw body); the secret is shown in the admin so the
    client can verify."""

    client = models.ForeignKey(
        ApiClient, verbose_name=_("API client"), on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(_("endpoint URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=80, editable=False)
    events = models.JSONField(_("events"), default=list, help_text=_("Which events to send; empty: all."))
    active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["client__name", "id"]

    def __str__(self) -> str:
        return f"{self.client} → {self.url}"


class WebhookEvent(models.Model):
    """The outbox: one row per event, written in the same transaction as the change it tells of.
    ``event_id`` is in the payload so a receiver can drop a repeat."""

    event_id = models.UUIDField(_("event id"), unique=True)
    type = models.CharField(_("event"), max_length=40, choices=WebhookEventType.choices)
    ref = models.CharField(_("about"), max_length=100, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("time"), default=clock.now, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.ref}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event to one subscription: a job (``webhooks.deliver``) posts it, retrying with
    growing back-off for hours; every try is a ``WebhookAttempt`` in the delivery log."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(_("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    #: Bumped by "redeliver": each round is its own job.
    round = models.PositiveSmallIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["subscription", "-created_at", "-id"], name="webhook_delivery_log")]
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once")]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField(_("time"), default=clock.now)
    status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.at:%Y-%m-%d %H:%M:%S} {self.status or self.error}"
