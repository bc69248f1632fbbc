"""Signed customer links (status page, survey) and satisfaction ratings. Changes go through
``portal.services``."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fulfillment import clock
from inquiries.models import Inquiry

from .enums import LOW_SCORE, SCORES, LinkPurpose


class CustomerLink(models.Model):
    """A link that lets a customer, without an account, see one inquiry (or rate it).

    Only a hash of the token is kept. The token is an HMAC (the project's secret key) of a
    random ``salt`` from ``secrets``: the database alone does not give a working link, and a live
    link can be put into the next mail again instead of making a new one per mail."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="customer_links")
    purpose = models.CharField(_("purpose"), max_length=10, choices=LinkPurpose.choices)
    cycle = models.PositiveIntegerField(_("resolution cycle"), default=0)
    salt = models.CharField(max_length=40, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("issued"), default=clock.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by_name = models.CharField(_("revoked by"), max_length=150, blank=True)
    last_used_at = models.DateTimeField(_("last opened"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer link")
        verbose_name_plural = _("customer links")
        indexes = [models.Index(fields=["inquiry", "purpose", "expires_at"], name="customerlink_live_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(purpose__in=LinkPurpose.values), name="customerlink_purpose_valid")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.inquiry_id}"

    def is_live(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class SatisfactionRating(models.Model):
    """The customer's 1–5 rating of one resolution (cycle) of an inquiry: one per cycle, the
    first answer counts (a second click shows it and changes nothing)."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="ratings")
    cycle = models.PositiveIntegerField(_("resolution cycle"), default=0)
    score = models.PositiveSmallIntegerField(_("score"), choices=[(n, str(n)) for n in SCORES])
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated"), default=clock.now, db_index=True)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["inquiry", "cycle"], name="rating_one_per_cycle"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.inquiry_id}/{self.cycle}: {self.score}"

    @property
    def is_low(self) -> bool:
        return self.score <= LOW_SCORE
