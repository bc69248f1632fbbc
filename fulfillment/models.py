"""Kernel models: staff users with their tier, specialties and language; the timeline base."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import clock
from .actors import ActorKind
from .tiers import Specialty, Tier


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
