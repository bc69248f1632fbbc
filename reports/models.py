"""The reports' rollups (reports/rollups.py): stored query results."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Rollup(models.Model):
    """One metric query's result, by the SHA-256 of its SQL text: raw numbers, codes and dates
    (JSON, tagged by ``rollups.encode``), never translated text."""

    key = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=10)
    value = models.JSONField()
    computed_at = models.DateTimeField(_("computed"), db_index=True)

    class Meta:
        verbose_name = _("report rollup")
        verbose_name_plural = _("report rollups")

    def __str__(self) -> str:
        return f"{self.kind} {self.key[:12]} @ {self.computed_at:%Y-%m-%d %H:%M}"
