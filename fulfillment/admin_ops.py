"""Admin for scheduled work: the Job list (filters, search by key or ref, retry and cancel
actions) and a read-only "Beat schedule" page (``/admin/beat-schedule/``, listed under the kernel
app on the admin index) showing every CELERY_BEAT_SCHEDULE entry with its last runs.

Imported by ``fulfillment/admin.py``. The actions call the scheduling engine, as the operations
page and ``manage.py scheduled_work`` do."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import clock, ops, scheduling
from .models import Job, JobState


class KindFilter(admin.SimpleListFilter):
    """The registered kinds (no SELECT DISTINCT over the whole job table)."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, kind) for kind in ops.kinds()]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Read-only rows; "Retry now" runs failed or cancelled jobs again, "Cancel" stops scheduled
    ones. Search takes an exact key or ref (``inquiry:42``), which the indexes answer."""

    list_display = ("id", "kind", "ref", "state", "due_at", "attempts", "short_error", "updated_at")
    list_filter = (KindFilter, "state")
    search_fields = ("key", "ref")
    search_help_text = _("An exact key or ref, e.g. inquiry:42 or follow-up:7:due.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # each facet would count the whole table
    ordering = ("-id",)
    readonly_fields = (
        "kind",
        "key",
        "ref",
        "payload",
        "state",
        "due_at",
        "attempts",
        "claimed_at",
        "last_error",
        "created_at",
        "updated_at",
        "done_at",
    )
    fields = readonly_fields
    actions = ["retry_now", "cancel_jobs"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(key=term) | queryset.filter(ref=term), False

    @admin.display(description=_("last error"))
    def short_error(self, job: Job) -> str:
        return Truncator(job.last_error).chars(80)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry now (failed or cancelled jobs)"), permissions=["change"])
    def retry_now(self, request, queryset):
        retried = 0
        for job in queryset.filter(state__in=[JobState.FAILED, JobState.CANCELLED]).only("id"):
            if scheduling.retry(job=job).state == JobState.SCHEDULED:
                retried += 1
        self.message_user(
            request,
            ngettext("%(n)d job will run again now.", "%(n)d jobs will run again now.", retried) % {"n": retried},
        )

    @admin.action(description=_("Cancel (scheduled jobs that have not run)"), permissions=["change"])
    def cancel_jobs(self, request, queryset):
        keys = list(queryset.filter(state=JobState.SCHEDULED).values_list("key", flat=True))
        cancelled = scheduling.cancel(keys=keys) if keys else 0
        self.message_user(
            request, ngettext("%(n)d job cancelled.", "%(n)d jobs cancelled.", cancelled) % {"n": cancelled}
        )


# --- the beat schedule page ----------------------------------------------------------------------


def _may_see_beat(request) -> bool:
    return request.user.is_active and request.user.has_perm("fulfillment.view_job")


def beat_schedule_view(request):
    """Every beat entry: name, task, interval, last start, last success, last failure and its error."""
    if not _may_see_beat(request):
        raise PermissionDenied
    now = clock.now()
    context = {
        **admin.site.each_context(request),
        "title": _("Beat schedule"),
        "entries": ops.beat_schedule(now=now),
        "now": now,
    }
    return TemplateResponse(request, "admin/fulfillment/beat_schedule.html", context)


def _with_beat_page(site: admin.AdminSite) -> None:
    """Add the page to ``site``'s URLs and list it beside the kernel's models on the index."""
    urls, app_list = site.get_urls, site.get_app_list

    def get_urls():
        return [path("beat-schedule/", site.admin_view(beat_schedule_view), name="beat_schedule"), *urls()]

    def get_app_list(request, app_label=None):
        apps = app_list(request, app_label)
        if not _may_see_beat(request):
            return apps
        try:
            url = reverse("admin:beat_schedule", current_app=site.name)
        except NoReverseMatch:
            return apps
        entry = {
            "name": _("Beat schedule"),
            "object_name": "BeatSchedule",
            "perms": {"view": True, "add": False, "change": False, "delete": False},
            "admin_url": url,
            "add_url": None,
            "view_only": True,
        }
        for app in apps:
            if app["app_label"] == "fulfillment":
                app["models"] = sorted([*app["models"], entry], key=lambda m: str(m["name"]))
        return apps

    site.get_urls = get_urls
    site.get_app_list = get_app_list


_with_beat_page(admin.site)
