"""The operations page (/operations/): scheduled work at a glance for supervisors and ``is_staff``
users — counts per kind and bucket, the figures higher apps register (missed follow-up calls),
the overdue / stuck / failed jobs with a Retry button for each failed one, and the beat schedule.
Everything it reads comes from ``fulfillment.ops``; the retry is ``scheduling.retry``."""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from . import clock, ops, scheduling
from .models import Job, JobState
from .pagination import keyset_page

log = logging.getLogger(__name__)

PAGE_SIZE = 50


def operations_required(view):
    """Login, then a supervisor (or an administrator, or a Django ``is_staff`` user)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not ops.may_view(request.user):
            raise PermissionDenied(_("The operations page is for supervisors."))
        return view(request, *args, **kwargs)

    return wrapper


class JobFilterForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("Needs a look (overdue, stuck, failed)")), *ops.BUCKETS.items()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *((kind, kind) for kind in ops.kinds())]


@operations_required
@require_GET
def operations(request):
    """Constant queries whatever the rows: session, user, the two counts, one per registered
    figure, the beat runs, the page of jobs and at most one per linked ref prefix."""
    now = clock.now()
    form = JobFilterForm(request.GET)
    bucket = kind = ""
    status = 200
    if form.is_valid():
        bucket, kind = form.cleaned_data["state"], form.cleaned_data["kind"]
    else:
        status = 400
    key, ascending = ops.list_order(bucket)
    page = keyset_page(
        ops.jobs(buckets=[bucket] if bucket else (), kind=kind, now=now),
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
        key=key,
        ascending=ascending,
    )
    ops.attach_links(page.items, admin=request.user.is_staff)
    for job in page.items:
        job.bucket = ops.bucket_of(job, now)
        job.bucket_label = ops.BUCKETS.get(job.bucket, job.get_state_display())
    filters = {name: value for name, value in (("kind", kind), ("state", bucket)) if value}
    context = {
        "now": now,
        "counts": ops.counts(now=now),
        "panels": ops.panels(now=now),
        "entries": ops.beat_schedule(now=now),
        "form": form,
        "page": page,
        "query": urlencode(filters),
        "ascending": ascending,
        "here": request.get_full_path(),
        "overdue_minutes": int(scheduling.overdue_after().total_seconds() // 60),
        "lease_minutes": int(scheduling.LEASE.total_seconds() // 60),
        "failed_days": ops.FAILED_WINDOW.days,
    }
    return render(request, "fulfillment/operations.html", context, status=status)


@operations_required
@require_POST
def operations_retry(request, job_id: int):
    """Run a failed job again now (``scheduling.retry``), then back to the page it was clicked on."""
    job = Job.objects.filter(pk=job_id).only("id", "state", "kind").first()
    if job is None:
        raise Http404(_("No such scheduled job."))
    if job.state not in (JobState.FAILED, JobState.CANCELLED):
        messages.error(
            request,
            _("Job %(id)d is not failed (it is %(state)s): nothing to retry.")
            % {
                "id": job.pk,
                "state": job.get_state_display(),
            },
        )
    else:
        scheduling.retry(job=job)
        log.info("scheduled job %s (%s) retried by %s", job.pk, job.kind, request.user.get_username())
        messages.success(request, _("Job %(id)d (%(kind)s) will run again now.") % {"id": job.pk, "kind": job.kind})
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=set(), require_https=False):
        return redirect(target)
    return redirect("operations")
