"""Operations: what the scheduled work is doing, for the supervisors' page (/operations/), the
admin's beat-schedule page and ``manage.py scheduled_work`` — one set of reads for all three.

A job is in one of these *buckets* (derived from its state and times, ``bucket_filter``):

- ``due``     scheduled, due now (less than ``scheduling.overdue_after()`` ago): the sweep takes it
              within seconds;
- ``overdue`` scheduled, due longer ago than that: beat or the workers are not keeping up;
- ``stuck``   handed to a worker and not finished within ``scheduling.LEASE``: the sweep hands
              it out again (the broker lost it, or the worker died);
- ``failed``  failed for good after its handler's ``max_attempts``: a person reads ``last_error``,
              fixes the cause and retries it (``scheduling.retry``).

Counts cover failures of the last ``FAILED_WINDOW`` and jobs done in the last ``DONE_WINDOW``;
lists show every failed job, however old, since each one can still be retried.

Higher apps add what only they can count (missed follow-up calls) with ``@panel`` and say where a
``ref`` like ``order:7`` links with ``@ref_link("order")`` — the kernel never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import clock, scheduling
from .actors import as_actor
from .models import DeliveryState, Heartbeat, Job, JobState, WebhookDelivery
from .permissions import Rule
from .tiers import Tier

#: Who sees the operations page and retries failed jobs: supervisors (and ``is_staff`` users).
VIEW = Rule("fulfillment.operations", min_tier=Tier.SUPERVISOR, api_scope=None)

FAILED_WINDOW = dt.timedelta(days=7)
DONE_WINDOW = dt.timedelta(hours=24)

DUE, OVERDUE, STUCK, FAILED = "due", "overdue", "stuck", "failed"
#: The buckets in the order pages show them, with their labels.
BUCKETS = {
    DUE: _("Due now"),
    OVERDUE: _("Overdue"),
    STUCK: _("Handed out, lease ended"),
    FAILED: _("Failed"),
}
#: What a list shows when no bucket is chosen: everything that needs a look.
PROBLEMS = (OVERDUE, STUCK, FAILED)
#: Each bucket's list order: (the keyset column, ascending) — the column its partial index holds.
ORDER = {DUE: ("due_at", True), OVERDUE: ("due_at", True), STUCK: ("claimed_at", True), FAILED: ("updated_at", False)}


def may_view(user) -> bool:
    """Supervisors (administrators count as supervisors) and Django ``is_staff`` users."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or VIEW.allows(as_actor(user))


def bucket_filter(bucket: str, now: dt.datetime) -> Q:
    """The jobs in ``bucket`` at ``now`` (each condition is a range on one of the partial indexes)."""
    late = now - scheduling.overdue_after()
    if bucket == DUE:
        return Q(state=JobState.SCHEDULED, due_at__lte=now, due_at__gt=late)
    if bucket == OVERDUE:
        return Q(state=JobState.SCHEDULED, due_at__lte=late)
    if bucket == STUCK:
        return Q(state=JobState.QUEUED, claimed_at__lte=now - scheduling.LEASE)
    if bucket == FAILED:
        return Q(state=JobState.FAILED)
    raise ValueError(f"unknown bucket {bucket!r}")


def bucket_of(job: Job, now: dt.datetime) -> str:
    """Which bucket ``job`` is in at ``now`` ("" when none: not due yet, running, done, cancelled)."""
    if job.state == JobState.SCHEDULED and job.due_at <= now:
        return OVERDUE if job.due_at <= now - scheduling.overdue_after() else DUE
    if job.state == JobState.QUEUED and job.claimed_at is not None and job.claimed_at <= now - scheduling.LEASE:
        return STUCK
    return FAILED if job.state == JobState.FAILED else ""


# --- counts --------------------------------------------------------------------------------------


@dataclass
class KindCounts:
    kind: str
    due: int = 0
    overdue: int = 0
    stuck: int = 0
    failed: int = 0  # within FAILED_WINDOW
    done: int = 0  # within DONE_WINDOW

    @property
    def needs_attention(self) -> bool:
        return bool(self.overdue or self.stuck or self.failed)


@dataclass
class Counts:
    rows: list[KindCounts]
    total: KindCounts = field(default_factory=lambda: KindCounts(kind=""))


def counts(*, now: dt.datetime | None = None, kind: str = "") -> Counts:
    """Jobs per kind in each bucket (failed: last 7 days), and done in the last 24 hours.

    Two queries: the buckets (ranges on the partial indexes job_due, job_leased, job_failed) and
    the done count (no index of its own: it reads the done rows of the day)."""
    now = now or clock.now()
    late = now - scheduling.overdue_after()
    rows = Job.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    open_rows = rows.filter(
        Q(state=JobState.SCHEDULED, due_at__lte=now)
        | bucket_filter(STUCK, now)
        | Q(state=JobState.FAILED, updated_at__gte=now - FAILED_WINDOW)
    )
    by_kind: dict[str, KindCounts] = {name: KindCounts(kind=name) for name in sorted(scheduling.handlers())}
    if kind:
        by_kind = {kind: KindCounts(kind=kind)}
    for row in (
        open_rows.values("kind")
        .annotate(
            due=Count("id", filter=Q(state=JobState.SCHEDULED, due_at__gt=late)),
            overdue=Count("id", filter=Q(state=JobState.SCHEDULED, due_at__lte=late)),
            stuck=Count("id", filter=Q(state=JobState.QUEUED)),
            failed=Count("id", filter=Q(state=JobState.FAILED)),
        )
        .order_by()
    ):
        entry = by_kind.setdefault(row["kind"], KindCounts(kind=row["kind"]))
        entry.due, entry.overdue, entry.stuck, entry.failed = row["due"], row["overdue"], row["stuck"], row["failed"]
    done = rows.filter(state=JobState.DONE, done_at__gte=now - DONE_WINDOW).values("kind").annotate(n=Count("id"))
    for row in done.order_by():
        by_kind.setdefault(row["kind"], KindCounts(kind=row["kind"])).done = row["n"]
    result = Counts(rows=[by_kind[name] for name in sorted(by_kind)])
    for entry in result.rows:
        for name in ("due", "overdue", "stuck", "failed", "done"):
            setattr(result.total, name, getattr(result.total, name) + getattr(entry, name))
    return result


# --- lists ---------------------------------------------------------------------------------------


def jobs(*, buckets: Iterable[str] = (), kind: str = "", now: dt.datetime | None = None) -> QuerySet[Job]:
    """The jobs in any of ``buckets`` (every problem bucket when none is given), unordered."""
    now = now or clock.now()
    condition = Q()
    for name in buckets or PROBLEMS:
        condition |= bucket_filter(name, now)
    rows = Job.objects.filter(condition).only(
        "id", "kind", "key", "ref", "state", "due_at", "attempts", "claimed_at", "last_error", "updated_at"
    )
    if kind:
        rows = rows.filter(kind=kind)
    return rows


def list_order(bucket: str) -> tuple[str, bool]:
    """(keyset column, ascending) for a bucket's list; the problem list goes oldest-due first."""
    return ORDER.get(bucket, ("due_at", True))


def kinds() -> list[str]:
    """The job kinds handlers are registered for (no query)."""
    return sorted(scheduling.handlers())


def kind_exists(kind: str) -> bool:
    return kind in scheduling.handlers() or Job.objects.filter(kind=kind).exists()


def retry_failed(*, kind: str = "", ids: Iterable[int] | None = None) -> int:
    """Retry every failed job (of ``kind``, or these ``ids``); returns how many went back."""
    rows = Job.objects.filter(state=JobState.FAILED)
    if kind:
        rows = rows.filter(kind=kind)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    retried = 0
    for job in rows.only("id").order_by("id").iterator():
        if scheduling.retry(job=job).state == JobState.SCHEDULED:
            retried += 1
    return retried


# --- links to what a job is about ----------------------------------------------------------------

_ref_links: dict[str, Callable[[list[int]], dict[int, str]]] = {}
#: Prefixes whose pages are in the Django admin: linked only for ``is_staff`` users.
_admin_links: set[str] = set()


def ref_link(prefix: str, *, in_admin: bool = False):
    """Register how refs ``<prefix>:<id>`` link: ``func(ids) -> {id: url}`` (one query at most)."""

    def register(func):
        _ref_links[prefix] = func
        if in_admin:
            _admin_links.add(prefix)
        return func

    return register


def attach_links(rows: list[Job], *, admin: bool = False) -> list[Job]:
    """Set ``job.ref_url`` ("" when the ref has no page for this user) on each row, one lookup
    per prefix; ``admin``: the user may open admin pages."""
    wanted: dict[str, set[int]] = {}
    for job in rows:
        prefix, _sep, ident = job.ref.partition(":")
        if prefix in _ref_links and ident.isdigit() and (admin or prefix not in _admin_links):
            wanted.setdefault(prefix, set()).add(int(ident))
    found = {prefix: _ref_links[prefix](sorted(ids)) for prefix, ids in wanted.items()}
    for job in rows:
        prefix, _sep, ident = job.ref.partition(":")
        job.ref_url = found.get(prefix, {}).get(int(ident), "") if ident.isdigit() else ""
    return rows


@ref_link("webhook-delivery", in_admin=True)
def webhook_delivery_links(ids: list[int]) -> dict[int, str]:
    """A delivery's page is its admin page (its attempts and the "redeliver" action)."""
    try:
        return {pk: reverse("admin:fulfillment_webhookdelivery_change", args=[pk]) for pk in ids}
    except NoReverseMatch:  # not registered in the admin
        return {}


# --- panels: figures the page shows beside the job counts -------------------------------------------


@dataclass(frozen=True)
class PanelFigure:
    title: str
    value: int
    note: str = ""
    url: str = ""

    @property
    def alarming(self) -> bool:
        return self.value > 0


_panels: dict[str, Callable[[dt.datetime], PanelFigure]] = {}


def panel(func: Callable[[dt.datetime], PanelFigure]) -> Callable[[dt.datetime], PanelFigure]:
    """Register a figure for the operations page: ``func(now) -> PanelFigure`` (one query)."""
    _panels[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def panels(*, now: dt.datetime | None = None) -> list[PanelFigure]:
    now = now or clock.now()
    return [_panels[name](now) for name in sorted(_panels)]


@panel
def failed_webhook_deliveries(now: dt.datetime) -> PanelFigure:
    return PanelFigure(
        title=_("Failed webhook deliveries"),
        value=WebhookDelivery.objects.filter(state=DeliveryState.FAILED).count(),
        note=_("gave up, not redelivered"),
    )


# --- the beat schedule ---------------------------------------------------------------------------

RAN, OK, FAILED_RUN = "ran", "ok", "failed"
#: The first start ever recorded of a beat task (kept, never moved): how long beat has been
#: running, so an hourly task that has not run yet is "late" only after beat ran two hours.
FIRST = "1st"


def heartbeat_name(what: str, task: str) -> str:
    """The Heartbeat row of a beat task's last start, success or failure (50 characters at most)."""
    return f"{what}:{task}"[:50]


@dataclass
class BeatEntry:
    name: str
    task: str
    seconds: float | None
    every: str
    last_ran: dt.datetime | None = None
    last_ok: dt.datetime | None = None
    last_failed: dt.datetime | None = None
    last_error: str = ""
    late: bool = False

    @property
    def failing(self) -> bool:
        """Its last finished run failed."""
        return self.last_failed is not None and (self.last_ok is None or self.last_failed > self.last_ok)

    def is_late(self, now: dt.datetime, *, beat_since: dt.datetime | None = None) -> bool:
        """Not started for more than twice its interval (and a minute): beat or the workers are
        down. Never started: late once beat has run (``beat_since``, or never) that long."""
        if self.seconds is None:
            return False
        since = self.last_ran or beat_since
        if since is None:
            return True
        return now - since > dt.timedelta(seconds=2 * self.seconds + 60)


def _every(schedule) -> tuple[float | None, str]:
    """(seconds, "every 10 seconds") of a schedule entry; a crontab keeps its own description."""
    if isinstance(schedule, dt.timedelta):
        schedule = schedule.total_seconds()
    if not isinstance(schedule, int | float):
        return None, str(schedule)
    seconds = float(schedule)
    if seconds >= 86400 and seconds % 86400 == 0:
        n = int(seconds // 86400)
        return seconds, ngettext("every day", "every %(n)d days", n) % {"n": n}
    if seconds >= 3600 and seconds % 3600 == 0:
        n = int(seconds // 3600)
        return seconds, ngettext("every hour", "every %(n)d hours", n) % {"n": n}
    if seconds >= 60 and seconds % 60 == 0:
        n = int(seconds // 60)
        return seconds, ngettext("every minute", "every %(n)d minutes", n) % {"n": n}
    return seconds, ngettext("every %(n)s second", "every %(n)s seconds", int(seconds)) % {"n": f"{seconds:g}"}


def beat_schedule(*, now: dt.datetime | None = None) -> list[BeatEntry]:
    """Every CELERY_BEAT_SCHEDULE entry with its last start, success and failure (one query)."""
    now = now or clock.now()

    entries = []
    for name, spec in settings.CELERY_BEAT_SCHEDULE.items():
        seconds, every = _every(spec["schedule"])
        entries.append(BeatEntry(name=name, task=spec["task"], seconds=seconds, every=every))
    names = [heartbeat_name(what, entry.task) for entry in entries for what in (RAN, OK, FAILED_RUN, FIRST)]
    rows = Heartbeat.objects.filter(name__in=names).values_list("name", "at", "detail")
    seen, details = {}, {}
    for name, at, detail in rows:
        seen[name], details[name] = at, detail
    firsts = [seen[heartbeat_name(FIRST, entry.task)] for entry in entries if heartbeat_name(FIRST, entry.task) in seen]
    beat_since = min(firsts, default=None)
    for entry in entries:
        entry.last_ran = seen.get(heartbeat_name(RAN, entry.task))
        entry.last_ok = seen.get(heartbeat_name(OK, entry.task))
        entry.last_failed = seen.get(heartbeat_name(FAILED_RUN, entry.task))
        entry.last_error = details.get(heartbeat_name(FAILED_RUN, entry.task), "")
        entry.late = entry.is_late(now, beat_since=beat_since)
    return entries


def beat_tasks() -> set[str]:
    return {spec["task"] for spec in settings.CELERY_BEAT_SCHEDULE.values()}


def record_beat_run(*, task: str, what: str, error: str = "") -> None:
    """Note that beat task ``task`` started (RAN), succeeded (OK) or failed (FAILED_RUN) now.

    The times are Heartbeat rows (every process sees them); a failure's row keeps its error text."""
    now = clock.now()
    defaults = {"at": now, "detail": error[:2000]} if what == FAILED_RUN else {"at": now}
    with transaction.atomic():
        Heartbeat.objects.update_or_create(name=heartbeat_name(what, task), defaults=defaults)
        if what == RAN:
            Heartbeat.objects.get_or_create(name=heartbeat_name(FIRST, task), defaults={"at": now})
