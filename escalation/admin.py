"""Admin for escalation: authority limits per tier, the automatic-escalation rules, and, read-only,
the escalations (the ladder's history, coaching notes included) and the rules' firings.

Only those who may configure escalation (supervisors and superusers: ``permissions.CONFIGURE``)
see or change anything here, whatever model permissions a staff account holds: the escalations
carry coaching notes that reps may not read about each other. History is never rewritten, so
escalations and firings cannot be added, changed or deleted here.

Approval requests (remedies waiting in ``pending_approval``) have no admin list: a proxy model
for them would need a migration. The review queue shows them.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fulfillment import clock
from fulfillment.actors import as_actor
from fulfillment.permissions import can
from fulfillment.tiers import Tier
from inquiries.models import AuthorityLimit, parse_reference, reference_for
from inquiries.templatetags.inquiry_tags import duration
from orders.admin import ReadOnlyAdmin

from .enums import Trigger
from .models import Escalation, EscalationRule, RuleFiring
from .permissions import CONFIGURE
from .services import set_rules_active

# --- permissions ----------------------------------------------------------------------------------


def may_configure(request) -> bool:
    return can(as_actor(request.user), CONFIGURE)


class ConfigureOnlyMixin:
    """Seen and changed only by those who may configure escalation (model permissions are not
    enough)."""

    def _may_configure(self, request, obj=None) -> bool:
        return may_configure(request)

    has_module_permission = has_view_permission = _may_configure
    has_add_permission = has_change_permission = has_delete_permission = _may_configure


class HistoryAdmin(ReadOnlyAdmin):
    """Seen only by those who may configure escalation, and read-only for them too: history is
    never rewritten."""

    def _may_configure(self, request, obj=None) -> bool:
        return may_configure(request)

    has_module_permission = has_view_permission = _may_configure


# --- shared helpers -------------------------------------------------------------------------------


def inquiry_link(inquiry_id: int):
    """The inquiry's reference, linked to its page on the desk (where its timeline is)."""
    url = reverse("inquiries:detail", args=[inquiry_id])
    return format_html('<a href="{}">{}</a>', url, reference_for(inquiry_id))


class InquirySearchMixin:
    """Search by inquiry: its number (123) or reference (INQ-000123). One indexed filter."""

    search_fields = ("=inquiry__id",)
    search_help_text = _("An inquiry's number or reference, e.g. INQ-000123.")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        pk = int(term) if term.isdigit() else parse_reference(term)
        if pk is None:
            return queryset.none(), False
        return queryset.filter(inquiry_id=pk), False


def no_limit(value) -> str:
    return _("no limit") if value is None else str(value)


# --- authority limits -----------------------------------------------------------------------------

AMOUNT_FIELDS = ("max_refund", "max_credit")
GRANT_FIELDS = ("may_replace", "may_extra_help")
GRANT_WORDS = {"may_replace": _("send a replacement"), "may_extra_help": _("arrange extra help")}


def _tier_name(tier: int) -> str:
    return str(Tier(tier).label).lower()


def covers(field: str, higher, lower) -> bool:
    """Does the higher tier's ``field`` allow at least what the lower tier's does? (An empty
    amount has no limit.)"""
    if field in GRANT_FIELDS:
        return bool(higher) or not lower
    if higher is None:
        return True
    return lower is not None and lower <= higher


def not_negative(value) -> None:
    if value is not None and value < 0:
        raise ValidationError(_("An amount cannot be negative (leave it empty for no limit)."), code="negative")


class AuthorityLimitForm(forms.ModelForm):
    """A negative amount is refused, and so is a tier allowed less than a tier below it (a
    senior rep may not be allowed less than a rep): checked against the other tiers' rows as
    they are when the form is saved, locked in tier order inside the admin's transaction."""

    class Meta:
        model = AuthorityLimit
        fields = ("tier", *AMOUNT_FIELDS, *GRANT_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in AMOUNT_FIELDS:
            self.fields[name].validators.append(not_negative)
            self.fields[name].widget.attrs["min"] = "0"

    def _other_rows(self, tier: int) -> list[AuthorityLimit]:
        rows = AuthorityLimit.objects.exclude(tier=tier).order_by("tier")
        if transaction.get_connection().in_atomic_block:
            rows = rows.select_for_update()
        return list(rows)

    def clean(self):
        data = super().clean()
        tier = data.get("tier", self.instance.tier)
        if tier is None:
            return data
        for row in self._other_rows(tier):
            below = row.tier < tier
            for field in (*AMOUNT_FIELDS, *GRANT_FIELDS):
                if field not in data:
                    continue  # already refused by the field's own check
                mine, theirs = data[field], getattr(row, field)
                if covers(field, higher=mine, lower=theirs) if below else covers(field, higher=theirs, lower=mine):
                    continue
                lower, higher = (row.tier, tier) if below else (tier, row.tier)
                params = {"higher": _tier_name(higher), "lower": _tier_name(lower)}
                if field in GRANT_FIELDS:
                    message = _(
                        "A %(higher)s may not be allowed less than a %(lower)s: only the %(lower)s may %(what)s."
                    )
                    params["what"] = GRANT_WORDS[field]
                elif theirs is None:
                    message = _("A %(higher)s may not be allowed less than a %(lower)s: the %(other)s has no limit.")
                    params["other"] = _tier_name(row.tier)
                else:
                    message = _(
                        "A %(higher)s may not be allowed less than a %(lower)s: the %(other)s limit is %(limit)s."
                    )
                    params.update(other=_tier_name(row.tier), limit=theirs)
                self.add_error(field, ValidationError(message, code="less_than_lower_tier", params=params))
        return data


@admin.register(AuthorityLimit)
class AuthorityLimitAdmin(ConfigureOnlyMixin, admin.ModelAdmin):
    form = AuthorityLimitForm
    list_display = ("tier", "refund_limit", "credit_limit", "may_replace", "may_extra_help", "updated_at")
    fields = ("tier", *AMOUNT_FIELDS, *GRANT_FIELDS, "updated_at")
    ordering = ("tier",)

    def get_readonly_fields(self, request, obj=None):
        return ("tier", "updated_at") if obj is not None else ("updated_at",)

    def has_delete_permission(self, request, obj=None) -> bool:
        # A tier without a row may grant nothing: set its limits to 0 instead.
        return False

    @admin.display(description=_("highest refund"), ordering="max_refund")
    def refund_limit(self, obj: AuthorityLimit) -> str:
        return no_limit(obj.max_refund)

    @admin.display(description=_("highest credit or gift"), ordering="max_credit")
    def credit_limit(self, obj: AuthorityLimit) -> str:
        return no_limit(obj.max_credit)

    def save_model(self, request, obj, form, change):
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)


# --- automatic-escalation rules -------------------------------------------------------------------


class EscalationRuleForm(forms.ModelForm):
    """Contacts are counted by the "customer contacts" rule only, and it needs them; a grace
    period is zero or more minutes."""

    class Meta:
        model = EscalationRule
        fields = ("name", "trigger", "contacts", "grace_minutes", "up_to_tier", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grace_minutes"].error_messages["min_value"] = _("The grace period is zero or more minutes.")
        self.fields["contacts"].min_value = 1
        self.fields["contacts"].validators.append(at_least_one)
        self.fields["contacts"].widget.attrs["min"] = "1"

    def clean(self):
        data = super().clean()
        trigger, contacts = data.get("trigger"), data.get("contacts")
        if trigger == Trigger.REPEAT_CONTACTS and contacts is None and "contacts" not in self.errors:
            self.add_error(
                "contacts",
                ValidationError(_("Say how many customer contacts make this rule fire."), code="contacts_needed"),
            )
        if trigger and trigger != Trigger.REPEAT_CONTACTS and contacts is not None:
            self.add_error(
                "contacts",
                ValidationError(
                    _("Only a “%(trigger)s” rule counts contacts: leave this empty.")
                    % {"trigger": Trigger.REPEAT_CONTACTS.label},
                    code="contacts_not_counted",
                ),
            )
        return data


def at_least_one(value) -> None:
    if value is not None and value < 1:
        raise ValidationError(_("At least one contact."), code="min_value")


def firing_count() -> Coalesce:
    """How many times a rule fired (a subquery, so the changelist stays one query)."""
    counted = (
        RuleFiring.objects.filter(rule=OuterRef("pk")).order_by().values("rule").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted), 0)


@admin.register(EscalationRule)
class EscalationRuleAdmin(ConfigureOnlyMixin, admin.ModelAdmin):
    form = EscalationRuleForm
    list_display = (
        "name",
        "trigger",
        "contacts",
        "grace_minutes",
        "up_to_tier",
        "active",
        "times_fired",
        "updated_at",
    )
    list_filter = ("active", "trigger")
    search_fields = ("name",)
    readonly_fields = ("times_fired", "created_at", "updated_at")
    actions = ["activate", "deactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(fired=firing_count())

    @admin.display(description=_("times fired"), ordering="fired")
    def times_fired(self, obj: EscalationRule) -> int:
        return getattr(obj, "fired", 0)

    def save_model(self, request, obj, form, change):
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)

    def get_deleted_objects(self, objs, request):
        """A rule that has fired is part of the history (its firings, the escalations that name
        it): switch it off instead."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        fired = dict(
            RuleFiring.objects.filter(rule__in=list(objs))
            .values("rule")
            .annotate(n=Count("pk"))
            .values_list("rule", "n")
        )
        for rule in objs:
            if fired.get(rule.pk):
                protected.append(
                    ngettext(
                        "“%(name)s” fired %(count)d time: switch it off instead.",
                        "“%(name)s” fired %(count)d times: switch it off instead.",
                        fired[rule.pk],
                    )
                    % {"name": rule, "count": fired[rule.pk]}
                )
        if fired:
            perms_needed = set()  # the firings are why: say so, rather than "no permission"
        return deleted, counts, perms_needed, protected

    def _switch(self, request, queryset, *, active: bool) -> None:
        changed = set_rules_active(actor=request.user, rules=queryset, active=active)
        for rule in changed:
            self.log_change(request, rule, [{"changed": {"fields": ["active"]}}])
        if active:
            text = ngettext("%d rule switched on.", "%d rules switched on.", len(changed))
        else:
            text = ngettext("%d rule switched off.", "%d rules switched off.", len(changed))
        self.message_user(request, text % len(changed), messages.SUCCESS)

    @admin.action(description=_("Switch on the selected rules"), permissions=["change"])
    def activate(self, request, queryset):
        self._switch(request, queryset, active=True)

    @admin.action(description=_("Switch off the selected rules"), permissions=["change"])
    def deactivate(self, request, queryset):
        self._switch(request, queryset, active=False)


# --- history (read-only) --------------------------------------------------------------------------


class OpenFilter(admin.SimpleListFilter):
    title = _("open")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Still at the tier")), ("no", _("Left the tier"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(closed_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(Escalation)
class EscalationAdmin(InquirySearchMixin, HistoryAdmin):
    list_display = (
        "created_at",
        "inquiry_reference",
        "tiers",
        "kind",
        "reason",
        "actor_name",
        "outcome_or_open",
        "time_at_tier",
        "coached",
    )
    list_display_links = ("created_at",)
    list_filter = (OpenFilter, "kind", "to_tier", "outcome", "reason")
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    fieldsets = (
        (
            _("The move"),
            {
                "fields": (
                    "inquiry",
                    "kind",
                    ("from_tier", "to_tier", "specialty"),
                    "actor_name",
                    "from_user",
                    "from_assignee",
                    "to_user",
                    "reason",
                    "reason_text",
                    "tried",
                    "skip_reason",
                    "rule",
                    "customer_told",
                    "created_at",
                    "time_before",
                )
            },
        ),
        (_("Taken over"), {"fields": ("taken_by", "taken_at")}),
        (
            _("Outcome"),
            {
                "fields": (
                    "outcome",
                    "closed_at",
                    "closed_by_name",
                    "outcome_tier",
                    "outcome_note",
                    "time_at_tier",
                )
            },
        ),
        (_("Coaching"), {"fields": ("coaching_note", "coached_user", "coach")}),
        (_("Record"), {"fields": ("actor_kind", "notified_at", "updated_at")}),
    )

    @admin.display(description=_("inquiry"), ordering="inquiry_id")
    def inquiry_reference(self, obj: Escalation):
        return inquiry_link(obj.inquiry_id)

    @admin.display(description=_("from → to tier"), ordering="to_tier")
    def tiers(self, obj: Escalation) -> str:
        return f"{obj.get_from_tier_display()} → {obj.get_to_tier_display()}"

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_or_open(self, obj: Escalation) -> str:
        return obj.get_outcome_display() if obj.outcome else _("still at the tier")

    @admin.display(description=_("time at the tier"))
    def time_at_tier(self, obj: Escalation) -> str:
        if obj.seconds_at_tier is not None:
            return duration(dt.timedelta(seconds=obj.seconds_at_tier), "days")
        return _("%(time)s so far") % {"time": duration(clock.now() - obj.created_at, "days")}

    @admin.display(description=_("time at the tier before"))
    def time_before(self, obj: Escalation) -> str:
        return duration(dt.timedelta(seconds=obj.from_tier_seconds), "days")

    @admin.display(description=_("coached"), boolean=True)
    def coached(self, obj: Escalation) -> bool:
        return bool(obj.coaching_note)


@admin.register(RuleFiring)
class RuleFiringAdmin(InquirySearchMixin, HistoryAdmin):
    list_display = ("fired_at", "rule", "inquiry_reference", "key", "moved", "escalation_link")
    list_filter = ("moved", "rule")
    list_select_related = ("rule",)
    ordering = ("-fired_at", "-id")
    show_full_result_count = False
    fields = ("rule", "inquiry", "key", "fired_at", "moved", "escalation", "notified_at")

    @admin.display(description=_("inquiry"), ordering="inquiry_id")
    def inquiry_reference(self, obj: RuleFiring):
        return inquiry_link(obj.inquiry_id)

    @admin.display(description=_("escalation"))
    def escalation_link(self, obj: RuleFiring):
        if obj.escalation_id is None:
            return "—"
        url = reverse("admin:escalation_escalation_change", args=[obj.escalation_id])
        return format_html('<a href="{}">#{}</a>', url, obj.escalation_id)
