"""The reports' filter form: a date range (or a preset), tier, category, channel and team → ``Filters``.
The browser page, the CSV downloads, the weekly report and the API all parse input with it."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fulfillment import clock
from fulfillment.models import Team
from fulfillment.tiers import Tier
from inquiries.enums import Category, Channel

from .metrics import Filters

#: The longest range a report covers (a year and a day: a leap year fits).
MAX_DAYS = 366


class Preset:
    LAST_7 = "last7"
    LAST_WEEK = "last_week"
    LAST_30 = "last30"
    CHOICES = [
        (LAST_7, _("Last 7 days")),
        (LAST_WEEK, _("Last week (Monday to Sunday)")),
        (LAST_30, _("Last 30 days")),
    ]


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if preset == Preset.LAST_WEEK:
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    days = 30 if preset == Preset.LAST_30 else 7
    return today - dt.timedelta(days=days - 1), today


DATE = forms.DateInput(attrs={"type": "date"})


class FilterForm(forms.Form):
    preset = forms.ChoiceField(label=_("Period"), required=False, choices=[("", _("Dates below")), *Preset.CHOICES])
    start = forms.DateField(
        label=pgettext_lazy("date range", "From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=pgettext_lazy("date range", "To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    tier = forms.TypedChoiceField(
        label=_("Tier"), required=False, coerce=int, empty_value=None, choices=[("", _("All tiers")), *Tier.choices]
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *Category.choices]
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices])
    team = forms.ModelChoiceField(
        label=_("Team"),
        required=False,
        queryset=Team.objects.order_by("name"),
        empty_label=_("All teams"),
        error_messages={"invalid_choice": _("Choose one of the teams.")},
    )

    def __init__(self, data=None, *, locked_tier: int | None = None, **kwargs):
        super().__init__(data, **kwargs)
        self.locked_tier = locked_tier
        if locked_tier is not None:
            self.fields["tier"].choices = [(locked_tier, Tier(locked_tier).label)]
            self.fields["tier"].required = False
            self.fields["tier"].disabled = True
            self.fields["tier"].initial = locked_tier

    def clean(self):
        data = super().clean()
        start, end, preset = data.get("start"), data.get("end"), data.get("preset")
        if self.errors:
            return data
        if preset or (start is None and end is None):
            start, end = preset_range(preset or Preset.LAST_7, clock.today())
        elif start is None or end is None:
            raise forms.ValidationError(_("Give both dates, or choose a period."))
        if end < start:
            self.add_error("end", _("The end date is before the start date."))
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("end", _("A report covers at most %(days)s days.") % {"days": MAX_DAYS})
        data["start"], data["end"] = start, end
        if self.locked_tier is not None:
            data["tier"] = self.locked_tier
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            start=data["start"],
            end=data["end"],
            tier=data.get("tier") or None,
            category=data.get("category") or "",
            channel=data.get("channel") or "",
            team=data["team"].pk if data.get("team") else None,
        )


def parse_week(value: str) -> tuple[dt.date, dt.date] | None:
    """``2026-W10`` → (Monday, Sunday) of that ISO week; None if malformed."""
    try:
        year, week = value.split("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
    except (ValueError, TypeError):
        return None
    return monday, monday + dt.timedelta(days=6)


def iso_week(day: dt.date) -> str:
    year, week, _day = day.isocalendar()
    return f"{year}-W{week:02d}"
