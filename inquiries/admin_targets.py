"""Admin for service targets (docs/service-targets.md): business calendars, service policies with
their targets, the rules that choose a policy, and, read-only, target records and recompute jobs.

Only staff who may configure targets (supervisors and superusers: ``CONFIGURE_TARGETS``) add,
change or delete here; other staff see these screens only with the model's view permission.
The rules R9 (opening hours) and R10/R11 (targets, one default policy) are checked by the forms
below. Every save then goes through ``services/targets.py`` (``calendar_changed``,
``policy_changed``, ``rules_changed``), which bumps the version and asks for a recompute job.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fulfillment import errors
from fulfillment.actors import as_actor
from fulfillment.permissions import can
from orders.admin import ReadOnlyAdmin

from .enums import ACTIVE
from .models import (
    BusinessCalendar,
    Holiday,
    Inquiry,
    OpeningHours,
    PolicyRule,
    PolicyTarget,
    RecomputeState,
    ServicePolicy,
    TargetRecompute,
    TargetRecord,
    reference_for,
)
from .permissions import CONFIGURE_TARGETS
from .services import targets as target_services
from .targets.businesstime import CalendarError, check_hours

MINUTE_FIELDS = ("first_response_minutes", "next_reply_minutes", "resolution_minutes")
MIDNIGHT_LABEL = "24:00"


# --- permissions --------------------------------------------------------------------------------


def may_configure(request) -> bool:
    return can(as_actor(request.user), CONFIGURE_TARGETS)


class ViewTargetsMixin:
    """Seen by those who may configure targets, and by staff given the model's view permission."""

    def has_module_permission(self, request) -> bool:
        return may_configure(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_configure(request) or super().has_view_permission(request, obj)


class ConfigureTargetsMixin(ViewTargetsMixin):
    """Changed only by those who may configure targets: model permissions alone are not enough,
    because the services behind every save check the same rule."""

    def has_add_permission(self, request, obj=None) -> bool:
        return may_configure(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return may_configure(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return may_configure(request)


def call_service(function, **kwargs) -> TargetRecompute:
    """A refused service call is a 403 (and rolls the admin's transaction back), never a 500."""
    try:
        return function(**kwargs)
    except errors.PermissionDenied as exc:
        raise PermissionDenied(str(exc.message)) from exc


# --- shared helpers -----------------------------------------------------------------------------


def open_inquiry_count(field: str) -> Coalesce:
    """The number of open inquiries whose ``field`` (policy or calendar) is this row (a subquery
    on the partial indexes of open inquiries, so a changelist stays one query)."""
    counted = (
        Inquiry.objects.filter(**{field: OuterRef("pk")}, status__in=ACTIVE)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def recompute_message(request, job: TargetRecompute) -> None:
    text = ngettext(
        "Recomputing deadlines of %(count)d open inquiry.",
        "Recomputing deadlines of %(count)d open inquiries.",
        job.total,
    ) % {"count": job.total}
    url = reverse("admin:inquiries_targetrecompute_change", args=[job.pk])
    messages.info(request, format_html('{} <a href="{}">{}</a>', text, url, _("Follow its progress.")))


def anything_changed(form, formsets) -> bool:
    return form.has_changed() or any(formset.has_changed() for formset in formsets)


def closing_label(value) -> str:
    return MIDNIGHT_LABEL if value.hour == 0 and value.minute == 0 else f"{value:%H:%M}"


def hours_summary(hours) -> str:
    """``Mon–Fri 09:00–17:00; Sat 10:00–14:00``: consecutive days with the same hours merged."""
    by_day: dict[int, list] = defaultdict(list)
    for row in hours:
        by_day[row.weekday].append((row.opens, row.closes))
    spans: list[list] = []  # [first day, last day, hours]
    for day in range(7):
        ranges = tuple(sorted(by_day[day]))
        if not ranges:
            continue
        if spans and spans[-1][1] == day - 1 and spans[-1][2] == ranges:
            spans[-1][1] = day
        else:
            spans.append([day, day, ranges])
    parts = []
    for first, last, ranges in spans:
        days = str(WEEKDAYS_ABBR[first]) if first == last else f"{WEEKDAYS_ABBR[first]}–{WEEKDAYS_ABBR[last]}"
        times = ", ".join(f"{opens:%H:%M}–{closing_label(closes)}" for opens, closes in ranges)
        parts.append(f"{days} {times}")
    return "; ".join(parts) or str(_("never open"))


def refuse_delete_in_use(protected: list, obj, count: int) -> None:
    if count:
        protected.append(
            ngettext(
                "“%(name)s” governs %(count)d open inquiry: change the rules or policies first.",
                "“%(name)s” governs %(count)d open inquiries: change the rules or policies first.",
                count,
            )
            % {"name": obj, "count": count}
        )


# --- business calendars (R1–R9) -----------------------------------------------------------------


class OpeningHoursForm(forms.ModelForm):
    class Meta:
        model = OpeningHours
        fields = ("weekday", "opens", "closes")

    def clean(self):
        data = super().clean()
        weekday, opens, closes = data.get("weekday"), data.get("opens"), data.get("closes")
        if weekday is not None and opens is not None and closes is not None:
            try:
                check_hours([(int(weekday), opens, closes)])
            except CalendarError:
                self.add_error(
                    "closes",
                    ValidationError(
                        _("The closing time must be after the opening time (00:00 means midnight)."),
                        code="closes_before_opens",
                    ),
                )
        return data


class OpeningHoursFormSet(BaseInlineFormSet):
    """R9: hours on one weekday may not overlap, and the calendar is open at least once a week."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rows = [
            (int(form.cleaned_data["weekday"]), form.cleaned_data["opens"], form.cleaned_data["closes"])
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]
        if not rows:
            raise ValidationError(
                _("A calendar must be open at least once a week: add opening hours."), code="never_open"
            )
        problems = []
        for weekday, day_rows in itertools.groupby(sorted(rows), key=lambda row: row[0]):
            try:
                check_hours(day_rows)
            except CalendarError:
                problems.append(
                    ValidationError(
                        _("%(day)s: opening hours overlap."),
                        code="overlap",
                        params={"day": OpeningHours(weekday=weekday).get_weekday_display()},
                    )
                )
        if problems:
            raise ValidationError(problems)


class OpeningHoursInline(ConfigureTargetsMixin, admin.TabularInline):
    model = OpeningHours
    form = OpeningHoursForm
    formset = OpeningHoursFormSet
    extra = 1


class HolidayInline(ConfigureTargetsMixin, admin.TabularInline):
    model = Holiday
    fields = ("date", "name")
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ConfigureTargetsMixin, admin.ModelAdmin):
    list_display = ("name", "team", "time_zone", "hours", "open_inquiries", "version", "updated_at")
    search_fields = ("name", "team")
    fields = ("name", "team", "time_zone", "version", "updated_at")
    readonly_fields = ("version", "updated_at")
    inlines = [OpeningHoursInline, HolidayInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("hours")
            .annotate(open_inquiries=open_inquiry_count("calendar"))
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "time_zone":
            field.help_text = _("An IANA time zone name, e.g. Asia/Kolkata or Europe/Berlin.")
        return field

    @admin.display(description=_("opening hours"))
    def hours(self, obj: BusinessCalendar) -> str:
        return hours_summary(obj.hours.all())

    @admin.display(description=_("open inquiries"), ordering="open_inquiries")
    def open_inquiries(self, obj: BusinessCalendar) -> int:
        return obj.open_inquiries

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if anything_changed(form, formsets):
            job = call_service(target_services.calendar_changed, actor=request.user, calendar=form.instance)
            recompute_message(request, job)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for calendar in objs:
            refuse_delete_in_use(
                protected, calendar, Inquiry.objects.filter(calendar=calendar, status__in=ACTIVE).count()
            )
        return deleted, counts, perms_needed, protected


# --- service policies (R10, R12) ----------------------------------------------------------------


class ServicePolicyForm(forms.ModelForm):
    class Meta:
        model = ServicePolicy
        fields = ("name", "description", "calendar", "warn_percent", "is_default")

    def clean(self):
        data = super().clean()
        if "is_default" in data and not data["is_default"]:
            others = ServicePolicy.objects.filter(is_default=True)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if not others.exists():
                self.add_error(
                    "is_default",
                    ValidationError(
                        _("One policy must be the default: make another policy the default instead."),
                        code="default_needed",
                    ),
                )
        return data

    def _get_validation_exclusions(self):
        # "At most one default" is kept by the admin, which unsets the old default in the same
        # transaction; the form must not refuse the new one for it.
        exclude = super()._get_validation_exclusions()
        exclude.add("is_default")
        return exclude


class PolicyTargetFormSet(BaseInlineFormSet):
    """Saves rows that swap priority and channel. The formset holds every target of the policy
    and refuses duplicates among them; but rows are written one by one, and the unique
    constraint would see two rows briefly share a key. So the rows that move to another
    priority or channel, and the rows being deleted, leave the table first, and the moved ones
    are inserted again under the same id."""

    KEY = frozenset({"priority", "channel"})

    def save_existing_objects(self, commit=True):
        self._reinsert = set()
        if commit:
            deleted = set(self.deleted_forms)
            moved = [
                form.instance.pk
                for form in self.initial_forms
                if form.instance.pk and form not in deleted and self.KEY & set(form.changed_data)
            ]
            leaving = moved + [form.instance.pk for form in deleted if form.instance.pk]
            if moved:
                PolicyTarget.objects.filter(pk__in=leaving).delete()
                self._reinsert = set(moved)
        return super().save_existing_objects(commit)

    def save_existing(self, form, obj, commit=True):
        if commit and obj.pk in self._reinsert:
            obj = form.save(commit=False)
            obj.save(force_insert=True)
            return obj
        return super().save_existing(form, obj, commit)


class PolicyTargetInline(ConfigureTargetsMixin, admin.TabularInline):
    model = PolicyTarget
    formset = PolicyTargetFormSet
    fields = ("priority", "channel", *MINUTE_FIELDS)
    extra = 1

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in MINUTE_FIELDS:
            kwargs["min_value"] = 1
            kwargs["error_messages"] = {
                "min_value": _("A target is a positive number of business minutes (leave it empty for none).")
            }
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(ServicePolicy)
class ServicePolicyAdmin(ConfigureTargetsMixin, admin.ModelAdmin):
    form = ServicePolicyForm
    list_display = ("name", "calendar", "warn_percent", "is_default", "open_inquiries", "version", "updated_at")
    list_filter = ("is_default",)
    list_select_related = ("calendar",)
    search_fields = ("name",)
    readonly_fields = ("version", "updated_at")
    inlines = [PolicyTargetInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(open_inquiries=open_inquiry_count("policy"))

    @admin.display(description=_("open inquiries"), ordering="open_inquiries")
    def open_inquiries(self, obj: ServicePolicy) -> int:
        return obj.open_inquiries

    def save_model(self, request, obj, form, change):
        # The admin's change view runs in one transaction: the old default is unset just before
        # the new one is saved, so there is exactly one default before and after.
        if obj.is_default:
            others = ServicePolicy.objects.filter(is_default=True)
            if obj.pk:
                others = others.exclude(pk=obj.pk)
            others.update(is_default=False)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not anything_changed(form, formsets):
            return
        if "is_default" in form.changed_data:
            # Which policy applies when no rule matches changed: every open inquiry may move.
            reason = _("The default policy is now “%(name)s”") % {"name": form.instance.name}
            job = call_service(target_services.rules_changed, actor=request.user, reason=str(reason))
        else:
            job = call_service(target_services.policy_changed, actor=request.user, policy=form.instance)
        recompute_message(request, job)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for policy in objs:
            if policy.is_default:
                protected.append(
                    _("“%(name)s” is the default policy: make another policy the default first.") % {"name": policy}
                )
            rules = PolicyRule.objects.filter(policy=policy).count()
            if rules:
                protected.append(
                    ngettext(
                        "%(count)d policy rule chooses “%(name)s”: change or delete it first.",
                        "%(count)d policy rules choose “%(name)s”: change or delete them first.",
                        rules,
                    )
                    % {"name": policy, "count": rules}
                )
            refuse_delete_in_use(protected, policy, Inquiry.objects.filter(policy=policy, status__in=ACTIVE).count())
        return deleted, counts, perms_needed, protected


# --- policy rules (R11) -------------------------------------------------------------------------


@admin.register(PolicyRule)
class PolicyRuleAdmin(ConfigureTargetsMixin, admin.ModelAdmin):
    list_display = ("position", "name", "policy", "priority", "channel", "category", "customer_tier", "is_active")
    list_display_links = ("name",)
    list_editable = ("position", "is_active")
    list_filter = ("is_active", "policy")
    list_select_related = ("policy",)
    search_fields = ("name",)
    ordering = ("position", "id")
    fields = ("position", "name", "policy", "priority", "channel", "category", "customer_tier", "is_active")

    def rules_changed(self, request) -> None:
        """One recompute per request, however many rules a list edit or bulk delete touched."""
        if getattr(request, "_fd_rules_recompute", None) is None:
            request._fd_rules_recompute = job = call_service(target_services.rules_changed, actor=request.user)
            recompute_message(request, job)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.has_changed() or not change:
            self.rules_changed(request)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self.rules_changed(request)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            self.rules_changed(request)


# --- records and recomputes (read-only) ---------------------------------------------------------


@admin.register(TargetRecord)
class TargetRecordAdmin(ViewTargetsMixin, ReadOnlyAdmin):
    list_display = ("stopped_at", "inquiry_reference", "kind", "cycle", "taken_vs_target", "met", "stopped_by")
    list_filter = ("kind", "met")
    ordering = ("-stopped_at", "-id")
    show_full_result_count = False

    @admin.display(description=_("inquiry"), ordering="inquiry_id")
    def inquiry_reference(self, obj: TargetRecord):
        url = reverse("admin:inquiries_inquiry_change", args=[obj.inquiry_id])
        return format_html('<a href="{}">{}</a>', url, reference_for(obj.inquiry_id))

    @admin.display(description=_("taken / target (business minutes)"))
    def taken_vs_target(self, obj: TargetRecord) -> str:
        target = "—" if obj.target_minutes is None else obj.target_minutes
        return f"{obj.taken_minutes:.0f} / {target}"


@admin.register(TargetRecompute)
class TargetRecomputeAdmin(ViewTargetsMixin, ReadOnlyAdmin):
    list_display = ("created_at", "reason", "scope", "state", "progress", "requested_by", "finished_at", "short_error")
    list_filter = ("state",)
    list_select_related = ("policy", "calendar")
    fields = (
        "reason",
        "scope",
        "state",
        "progress",
        "requested_by",
        "created_at",
        "heartbeat_at",
        "finished_at",
        "error",
    )
    readonly_fields = fields
    actions = ["run_again"]

    @admin.display(description=_("open inquiries of"))
    def scope(self, obj: TargetRecompute) -> str:
        if obj.policy_id:
            return _("policy “%(name)s”") % {"name": obj.policy}
        if obj.calendar_id:
            return _("calendar “%(name)s”") % {"name": obj.calendar}
        return _("all policies")

    @admin.display(description=_("progress"))
    def progress(self, obj: TargetRecompute) -> str:
        share = 100 if obj.total == 0 else min(100, obj.done * 100 // obj.total)
        return f"{obj.done} / {obj.total} ({share} %)"

    @admin.display(description=_("error"))
    def short_error(self, obj: TargetRecompute) -> str:
        return obj.error[:120]

    def has_run_again_permission(self, request) -> bool:
        return may_configure(request)

    @admin.action(description=_("Run again (failed recomputes)"), permissions=["run_again"])
    def run_again(self, request, queryset):
        queued = skipped = 0
        for job in queryset.order_by("pk"):
            if job.state != RecomputeState.FAILED:
                skipped += 1
                continue
            try:
                target_services.recompute_retry(actor=request.user, job=job)
            except errors.InvalidInput:
                skipped += 1  # it changed state since the list was shown
            else:
                queued += 1
        if queued:
            text = ngettext("%d recompute will run again.", "%d recomputes will run again.", queued)
            self.message_user(request, text % queued, messages.SUCCESS)
        if skipped:
            text = ngettext(
                "%d recompute skipped: only failed ones run again.",
                "%d recomputes skipped: only failed ones run again.",
                skipped,
            )
            self.message_user(request, text % skipped, messages.WARNING)
