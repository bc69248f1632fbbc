"""Admin for follow-up calls (docs/follow-ups.md): the delays by category and priority (edited in
the list), the one scheduled-work settings row (no second one, never deleted), and the follow-up
calls themselves, read-only (they change through the calls-due page and their jobs)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fulfillment import clock
from orders.admin import ReadOnlyAdmin

from .models import FollowUpCall, FollowUpDelay, SchedulePolicy, parse_reference


@admin.register(FollowUpDelay)
class FollowUpDelayAdmin(admin.ModelAdmin):
    list_display = ("__str__", "category", "priority", "delay_minutes", "enabled")
    list_editable = ("delay_minutes", "enabled")
    list_filter = ("enabled", "category")
    fields = ("category", "priority", "delay_minutes", "enabled")


@admin.register(SchedulePolicy)
class SchedulePolicyAdmin(admin.ModelAdmin):
    """The single settings row (pk=1, made by migration 0014): edited, never added twice or deleted."""

    list_display = (
        "__str__",
        "follow_up_window_hours",
        "follow_up_max_attempts",
        "follow_up_retry_minutes",
        "updated_at",
    )
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request) -> bool:
        # The row always exists (migration 0014, and ``SchedulePolicy.current()`` makes it), so never
        # a second; answered without a query, as the admin asks on every page for its side bar.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        obj.pk = 1
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)


@admin.register(FollowUpCall)
class FollowUpCallAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "cycle",
        "state",
        "assignee",
        "due_at",
        "window_ends_at",
        "attempts",
        "max_attempts",
        "outcome",
    )
    list_filter = ("state", "assignee")
    list_select_related = ("inquiry", "assignee")
    search_fields = ("inquiry__subject",)
    search_help_text = _("An inquiry reference (INQ-000123) or words of its subject.")
    ordering = ("-due_at", "-id")
    show_full_result_count = False

    @admin.display(description=_("inquiry"), ordering="inquiry_id")
    def reference(self, call: FollowUpCall) -> str:
        return call.inquiry.reference

    def get_search_results(self, request, queryset, search_term):
        """A reference finds that inquiry's calls by id (an index lookup); other words search subjects."""
        pk = parse_reference(search_term)
        if pk is not None:
            return queryset.filter(inquiry_id=pk), False
        return super().get_search_results(request, queryset, search_term)
