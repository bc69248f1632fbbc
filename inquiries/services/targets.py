"""Service targets at work: choosing an inquiry's policy, turning its history into clocks and
deadlines, recording targets met or missed, and recomputing open inquiries after an edit.

The rules of the clocks are in ``inquiries.targets.clocks`` (pure) and docs/service-targets.md.
This module only feeds them: the history from the inquiry's timeline, the targets and the
calendar from the policy tables; and writes back the few columns queues read:

``response_due_at`` (first response or next reply), ``resolve_due_at``, ``due_at`` (the nearest
of those, the next callback and the next plan step: queues sort by it), ``due_kind`` (what it is
for) and ``warn_at`` (when the first live deadline reaches its warning share).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

from celery import current_app
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2.extras import Json, execute_values

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import InvalidInput
from fulfillment.permissions import require

from .. import events
from .. import permissions as perms
from ..enums import ACTIVE, CallbackState, CallOutcome, EventType, InquiryStatus
from ..models import (
    BusinessCalendar,
    Callback,
    DueKind,
    Holiday,
    Inquiry,
    InquiryEvent,
    OpeningHours,
    PolicyRule,
    PolicyTarget,
    RecomputeState,
    ServicePolicy,
    TargetKind,
    TargetRecompute,
    TargetRecord,
)
from ..targets import businesstime, clocks

log = logging.getLogger(__name__)

#: Calls in which the customer was answered count as a response.
ANSWERING_OUTCOMES = frozenset({CallOutcome.RESOLVED, CallOutcome.INFO_GIVEN, CallOutcome.CALLBACK})
HISTORY_TYPES = (
    EventType.CREATED,
    EventType.STATUS_CHANGED,
    EventType.MESSAGE_IN,
    EventType.MESSAGE_OUT,
    EventType.CALL,
    EventType.POLICY_CHANGED,
)
#: Fields whose change makes the rules choose the policy again.
CHOICE_FIELDS = frozenset({"priority", "channel", "category"})
BATCH_SIZE = 1000


# --- configuration ------------------------------------------------------------------------------

_calendars: dict[tuple[int, int], businesstime.BusinessCalendar] = {}
_calendars_lock = threading.Lock()


def calendar_for(calendar_id: int, version: int, time_zone: str) -> businesstime.BusinessCalendar:
    """A calendar's arithmetic, cached per process by (id, version): editing bumps the version."""
    key = (calendar_id, version)
    found = _calendars.get(key)
    if found is None:
        hours = OpeningHours.objects.filter(calendar_id=calendar_id).values_list("weekday", "opens", "closes")
        holidays = Holiday.objects.filter(calendar_id=calendar_id).values_list("date", flat=True)
        found = businesstime.BusinessCalendar(time_zone_name=time_zone, hours=list(hours), holidays=list(holidays))
        with _calendars_lock:
            if len(_calendars) > 256:
                _calendars.clear()
            _calendars[key] = found
    return found


@dataclasses.dataclass(frozen=True, slots=True)
class Applied:
    """What governs one inquiry: its policy, calendar and targets."""

    policy_id: int | None
    calendar_id: int | None
    calendar: businesstime.BusinessCalendar | None
    targets: clocks.Targets


NO_TARGETS = clocks.Targets()


def _rule_matches(rule: PolicyRule, *, priority: int, channel: str, category: str, customer_tier: str) -> bool:
    return (
        (rule.priority is None or rule.priority == priority)
        and (not rule.channel or rule.channel == channel)
        and (not rule.category or rule.category == category)
        and (not rule.customer_tier or rule.customer_tier == customer_tier)
    )


class Configuration:
    """Rules, policies, targets and calendars, read once (per save, or per recompute run).

    Answers are remembered per combination of the inputs: a recompute asks the same few
    questions (four priorities, four channels, …) for every one of 100,000 inquiries."""

    def __init__(self) -> None:
        self.rules = list(PolicyRule.objects.filter(is_active=True).order_by("position", "id"))
        self.default_id = ServicePolicy.objects.filter(is_default=True).values_list("pk", flat=True).first()
        self.policies = {p.pk: p for p in ServicePolicy.objects.select_related("calendar").prefetch_related("targets")}
        self._chosen: dict[tuple[int, str, str, str], int | None] = {}
        self._applied: dict[tuple[int | None, int, str], Applied] = {}

    def choose(self, *, priority: int, channel: str, category: str, customer_tier: str) -> int | None:
        key = (priority, channel, category, customer_tier)
        try:
            return self._chosen[key]
        except KeyError:
            pass
        found = self.default_id
        for rule in self.rules:
            if _rule_matches(rule, priority=priority, channel=channel, category=category, customer_tier=customer_tier):
                found = rule.policy_id
                break
        self._chosen[key] = found
        return found

    def applied(self, policy_id: int | None, *, priority: int, channel: str) -> Applied:
        key = (policy_id, priority, channel)
        found = self._applied.get(key)
        if found is None:
            found = self._applied[key] = self._applied_now(policy_id, priority=priority, channel=channel)
        return found

    def names(self, *policy_ids: int | None) -> dict[str, str]:
        """``old_name`` / ``new_name`` for a policy-change event."""
        found = [self.policies[i].name if i in self.policies else "" for i in policy_ids]
        return {"old_name": found[0], "new_name": found[1]}

    def calendar_of(self, policy_id: int | None) -> businesstime.BusinessCalendar | None:
        policy = self.policies.get(policy_id) if policy_id else None
        if policy is None:
            return None
        cal = policy.calendar
        return calendar_for(cal.pk, cal.version, cal.time_zone)

    def _applied_now(self, policy_id: int | None, *, priority: int, channel: str) -> Applied:
        policy = self.policies.get(policy_id) if policy_id else None
        if policy is None:
            return Applied(None, None, None, NO_TARGETS)
        target = _target_row(policy.targets.all(), priority=priority, channel=channel)
        cal = policy.calendar
        return Applied(
            policy.pk,
            cal.pk,
            calendar_for(cal.pk, cal.version, cal.time_zone),
            _targets(target, policy.warn_percent),
        )


def _target_row(rows: Iterable[PolicyTarget], *, priority: int, channel: str) -> PolicyTarget | None:
    """R12: the row for the priority and the channel wins over the row for the priority on any
    channel."""
    found = {(t.priority, t.channel): t for t in rows}
    return found.get((priority, channel)) or found.get((priority, ""))


def _targets(row: PolicyTarget | None, warn_percent: int) -> clocks.Targets:
    if row is None:
        return clocks.Targets(warn_percent=warn_percent)
    return clocks.Targets(
        first_response=row.first_response_minutes,
        next_reply=row.next_reply_minutes,
        resolution=row.resolution_minutes,
        warn_percent=warn_percent,
    )


def _applied_for_save(inquiry: Inquiry, rechoose: bool) -> Applied:
    """The policy for one inquiry, with as few queries as a save can afford."""
    if rechoose or inquiry.policy_id is None:
        config = Configuration()
        policy_id = config.choose(
            priority=inquiry.priority,
            channel=inquiry.channel,
            category=inquiry.category,
            customer_tier=inquiry.customer.tier,
        )
        return config.applied(policy_id, priority=inquiry.priority, channel=inquiry.channel)
    policy = ServicePolicy.objects.select_related("calendar").filter(pk=inquiry.policy_id).first()
    if policy is None:
        return Applied(None, None, None, NO_TARGETS)
    rows = PolicyTarget.objects.filter(policy_id=policy.pk, priority=inquiry.priority)
    row = _target_row(rows, priority=inquiry.priority, channel=inquiry.channel)
    cal = policy.calendar
    calendar = calendar_for(cal.pk, cal.version, cal.time_zone)
    return Applied(policy.pk, cal.pk, calendar, _targets(row, policy.warn_percent))


# --- history ------------------------------------------------------------------------------------


def _policy_id(value: object) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _fact(
    type_: str, at: dt.datetime, new: str | None, outcome: str | None, auto: object, old: object = None
) -> clocks.Fact | None:
    if type_ == EventType.POLICY_CHANGED:
        return clocks.Fact(at, clocks.CALENDAR, policy=_policy_id(new), previous=_policy_id(old))
    if type_ == EventType.CREATED:
        return clocks.Fact(at, clocks.CREATED, InquiryStatus.NEW)
    if type_ == EventType.STATUS_CHANGED:
        return clocks.Fact(at, clocks.STATUS, new or "")
    if type_ == EventType.MESSAGE_IN:
        return None if auto is True else clocks.Fact(at, clocks.CUSTOMER_MESSAGE)
    if type_ == EventType.MESSAGE_OUT:
        return clocks.Fact(at, clocks.RESPONSE)
    if type_ == EventType.CALL and outcome in ANSWERING_OUTCOMES:
        return clocks.Fact(at, clocks.RESPONSE)
    return None


#: The same rows as the ORM query in ``histories``, as one plain statement (PostgreSQL): a
#: recompute reads about ten events per inquiry, and the ORM's per-row work (JSON decoding of
#: three key lookups, converters) was most of the time spent reading them. ``auto`` is true only
#: for a JSON ``true``, as ``auto is True`` is on the decoded value.
_HISTORY_SQL = """
    SELECT inquiry_id, type, created_at, details ->> 'new', details ->> 'outcome',
           (details -> 'auto') = 'true'::jsonb, details ->> 'old'
    FROM inquiries_inquiryevent
    WHERE inquiry_id = ANY(%s) AND type = ANY(%s)
    ORDER BY inquiry_id, created_at, id
"""


def histories(inquiry_ids: Iterable[int]) -> dict[int, list[clocks.Fact]]:
    """The facts the clocks need, per inquiry, oldest first, read from the timeline. Every
    inquiry is opened as "new" (intake writes no other first status)."""
    inquiry_ids = list(inquiry_ids)
    found: dict[int, list[clocks.Fact]] = defaultdict(list)
    if not inquiry_ids:
        return found
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_HISTORY_SQL, [inquiry_ids, [str(t) for t in HISTORY_TYPES]])
            rows = cursor.fetchall()
    else:
        rows = (
            InquiryEvent.objects.filter(inquiry_id__in=inquiry_ids, type__in=HISTORY_TYPES)
            .order_by("inquiry_id", "created_at", "id")
            .values_list(
                "inquiry_id", "type", "created_at", "details__new", "details__outcome", "details__auto", "details__old"
            )
            .iterator(chunk_size=5000)
        )
    for inquiry_id, type_, at, new, outcome, auto, old in rows:
        fact = _fact(type_, at, new, outcome, auto, old)
        if fact is not None:
            found[inquiry_id].append(fact)
    return found


# --- deadlines ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Deadlines:
    """The columns an inquiry's clocks write."""

    response_due_at: dt.datetime | None = None
    resolve_due_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    due_kind: str = ""
    warn_at: dt.datetime | None = None

    FIELDS = ("response_due_at", "resolve_due_at", "due_at", "due_kind", "warn_at")


def callback_warn_at(made_at: dt.datetime, due_at: dt.datetime, warn_percent: int) -> dt.datetime:
    """A callback promise is at risk once the warning share of the time until it has passed."""
    lead = max(due_at - made_at, dt.timedelta(0))
    return made_at + lead * warn_percent / 100


def plan_step_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A plan step is at risk on its due day and overdue after it (desk time zone)."""
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(day, dt.time(0), tzinfo=tz),
        dt.datetime.combine(day, dt.time(23, 59), tzinfo=tz),
    )


def deadlines(
    *,
    status: str,
    result: clocks.Clocks | None,
    warn_percent: int,
    next_callback_at: dt.datetime | None,
    callbacks: Iterable[tuple[dt.datetime, dt.datetime]] = (),
    next_step_due: dt.date | None,
) -> Deadlines:
    """Combine the clocks, callback promises and plan steps into the columns queues read."""
    if status not in ACTIVE:
        return Deadlines()
    due: list[tuple[dt.datetime, str]] = []
    warns: list[dt.datetime] = []
    response_due = resolve_due = None
    if result is not None:
        response = result.response
        if response is not None and response.state == clocks.RUNNING and response.due_at is not None:
            response_due = response.due_at
            due.append((response_due, response.kind))
            warns.append(response.warn_at)
        resolution = result.current(clocks.RESOLUTION)
        if resolution is not None and resolution.state == clocks.RUNNING and resolution.due_at is not None:
            resolve_due = resolution.due_at
            due.append((resolve_due, DueKind.RESOLUTION))
            warns.append(resolution.warn_at)
    if next_callback_at is not None:
        due.append((next_callback_at, DueKind.CALLBACK))
        warns.extend(callback_warn_at(made, at, warn_percent) for made, at in callbacks)
    if next_step_due is not None:
        opens, closes = plan_step_window(next_step_due)
        due.append((closes, DueKind.PLAN_STEP))
        warns.append(opens)
    if not due:
        return Deadlines(response_due, resolve_due)
    due_at, kind = min(due, key=lambda pair: pair[0])
    present = [w for w in warns if w is not None]
    return Deadlines(response_due, resolve_due, due_at, str(kind), min(present) if present else None)


def _pending_callbacks(inquiry_ids: Iterable[int]) -> dict[int, list[tuple[dt.datetime, dt.datetime]]]:
    found: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    rows = Callback.objects.filter(inquiry_id__in=list(inquiry_ids), state=CallbackState.PENDING).values_list(
        "inquiry_id", "created_at", "due_at"
    )
    for inquiry_id, made, due_at in rows:
        found[inquiry_id].append((made, due_at))
    return found


def place_calendars(
    facts: list[clocks.Fact], calendar_of, current: businesstime.BusinessCalendar
) -> tuple[list[clocks.Fact], businesstime.BusinessCalendar | None]:
    """Give each change of policy in the history the calendar it counts on from then on, and
    return the calendar the inquiry was opened on (None: it never changed policy)."""
    switches = [f for f in facts if f.kind == clocks.CALENDAR]
    if not switches:
        return facts, None
    opening = calendar_of(switches[0].previous) or current
    placed = [
        dataclasses.replace(f, calendar=calendar_of(f.policy) or current) if f.kind == clocks.CALENDAR else f
        for f in facts
    ]
    return placed, opening


def _calendars_of_policies(facts: list[clocks.Fact]):
    ids = {i for f in facts if f.kind == clocks.CALENDAR for i in (f.policy, f.previous) if i}
    if not ids:
        return lambda _policy_id: None
    found = {
        p.pk: calendar_for(p.calendar.pk, p.calendar.version, p.calendar.time_zone)
        for p in ServicePolicy.objects.select_related("calendar").filter(pk__in=ids)
    }
    return found.get


def _compute(facts: list[clocks.Fact], applied: Applied, calendar_of, **options) -> clocks.Clocks:
    placed, opening = place_calendars(facts, calendar_of, applied.calendar)
    return clocks.compute(
        placed, targets=applied.targets, calendar=applied.calendar, opening_calendar=opening, **options
    )


def evaluate(
    inquiry: Inquiry, *, rechoose: bool = False, applied: Applied | None = None
) -> tuple[Applied, clocks.Clocks | None]:
    """The inquiry's policy and clocks now (reads only). The inquiry page shows these."""
    applied = applied or _applied_for_save(inquiry, rechoose)
    if applied.calendar is None:
        return applied, None
    facts = histories([inquiry.pk]).get(inquiry.pk, [])
    return applied, _compute(facts, applied, _calendars_of_policies(facts))


def _record_policy_change(inquiry: Inquiry, old: int, new: int | None) -> None:
    names = dict(ServicePolicy.objects.filter(pk__in=[old, new]).values_list("pk", "name"))
    events.policy_changed(inquiry, Actor.system(_("service targets")), old=old, new=new, names=names)


def apply(inquiry: Inquiry, fields: Iterable[str]) -> list[str]:
    """Bring the inquiry's deadline columns up to date inside the caller's transaction (called
    by ``_common.save`` for every change); returns the fields it set. Writes the records of
    clocks that have just stopped, and a timeline event when the inquiry moves to another
    policy (its clocks count on the new calendar from then on)."""
    fields = set(fields)
    applied = _applied_for_save(inquiry, bool(fields & CHOICE_FIELDS))
    if inquiry.policy_id is not None and applied.policy_id != inquiry.policy_id:
        _record_policy_change(inquiry, inquiry.policy_id, applied.policy_id)
    applied, result = evaluate(inquiry, applied=applied)
    callbacks = _pending_callbacks([inquiry.pk]).get(inquiry.pk, []) if inquiry.next_callback_at else []
    values = deadlines(
        status=inquiry.status,
        result=result,
        warn_percent=applied.targets.warn_percent,
        next_callback_at=inquiry.next_callback_at,
        callbacks=callbacks,
        next_step_due=inquiry.next_step_due,
    )
    changed = []
    for name in Deadlines.FIELDS:
        setattr(inquiry, name, getattr(values, name))
    changed += Deadlines.FIELDS
    if (inquiry.policy_id, inquiry.calendar_id) != (applied.policy_id, applied.calendar_id):
        inquiry.policy_id, inquiry.calendar_id = applied.policy_id, applied.calendar_id
        changed += ["policy", "calendar"]
    if result is not None:
        stopped = result.stopped
        if len(stopped) > inquiry.targets_recorded:
            _record(inquiry.pk, applied.policy_id, stopped)
        if len(stopped) != inquiry.targets_recorded:
            inquiry.targets_recorded = len(stopped)
            changed.append("targets_recorded")
    return list(changed)


def _record(inquiry_id: int, policy_id: int | None, stopped: Iterable[clocks.Clock]) -> None:
    TargetRecord.objects.bulk_create(_record_rows(inquiry_id, policy_id, stopped), ignore_conflicts=True)


def _record_rows(inquiry_id: int, policy_id: int | None, stopped: Iterable[clocks.Clock]) -> list[TargetRecord]:
    return [
        TargetRecord(
            inquiry_id=inquiry_id,
            kind=c.kind,
            cycle=c.cycle,
            policy_id=policy_id,
            started_at=c.started_at,
            stopped_at=c.stopped_at,
            stopped_by=c.stopped_by,
            target_minutes=c.target_minutes,
            taken_seconds=round(c.taken.total_seconds()),
            met=c.met,
        )
        for c in stopped
    ]


def record_callback(callback: Callback) -> None:
    """A kept (or late) callback promise, in the same records as the other targets."""
    lead = callback.due_at - callback.created_at
    TargetRecord.objects.bulk_create(
        [
            TargetRecord(
                inquiry_id=callback.inquiry_id,
                kind=TargetKind.CALLBACK,
                cycle=callback.pk,
                started_at=callback.created_at,
                stopped_at=callback.done_at,
                stopped_by="callback",
                target_minutes=max(round(lead.total_seconds() / 60), 0),
                taken_seconds=max(round((callback.done_at - callback.created_at).total_seconds()), 0),
                met=callback.done_at <= callback.due_at,
            )
        ],
        ignore_conflicts=True,
    )


# --- recompute after an edit --------------------------------------------------------------------

RECOMPUTE_TASK = "inquiries.tasks.recompute_targets"
#: A running recompute that shows no progress for this long is taken over by the next sweep.
STALE_AFTER = dt.timedelta(minutes=5)


def recompute_request(
    *,
    actor: Actor,
    reason: str,
    policy: ServicePolicy | None = None,
    calendar: BusinessCalendar | None = None,
    enqueue: bool = True,
) -> TargetRecompute:
    """Ask for the open inquiries governed by ``policy`` or ``calendar`` (or all open ones, when
    neither: a rule changed) to be recomputed. The row is the schedule: a worker is asked on
    commit, and the every-minute sweep picks up any row a worker never saw."""
    actor = as_actor(actor)
    require(actor, perms.CONFIGURE_TARGETS)
    reason = (reason or "").strip()[:200]
    if not reason:
        raise InvalidInput(field_errors={"reason": [_("Say why the deadlines are recomputed.")]})
    job = TargetRecompute.objects.create(
        reason=reason,
        policy=policy,
        calendar=calendar,
        requested_by=actor.name[:150],
        total=_scope(policy.pk if policy else None, calendar.pk if calendar else None).count(),
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    try:
        current_app.send_task(RECOMPUTE_TASK, args=[job_id])
    except Exception as exc:  # the broker may be down: the sweep runs the job later
        log.warning("recompute %s: could not reach the broker (%r); the sweep will run it", job_id, exc)


def _scope(policy_id: int | None, calendar_id: int | None):
    """The open inquiries a recompute covers: those of the policy or calendar, or all."""
    qs = Inquiry.objects.filter(status__in=ACTIVE)
    if policy_id is not None and calendar_id is not None:
        return qs.filter(Q(policy_id=policy_id) | Q(calendar_id=calendar_id))
    if policy_id is not None:
        return qs.filter(policy_id=policy_id)
    if calendar_id is not None:
        return qs.filter(calendar_id=calendar_id)
    return qs


def recompute_claim(job_id: int | None = None) -> int | None:
    """Claim a recompute that is waiting (or stalled): ``job_id``, or the oldest. Returns its id,
    or None when there is nothing to claim, so a task delivered twice, or a task and the sweep,
    never run one job at the same time."""
    now = clock.now()
    with transaction.atomic():
        jobs = TargetRecompute.objects.select_for_update(skip_locked=True)
        if job_id is not None:
            jobs = jobs.filter(pk=job_id)
        job = (
            jobs.filter(
                Q(state=RecomputeState.PENDING) | Q(state=RecomputeState.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
            )
            .order_by("created_at", "id")
            .first()
        )
        if job is None:
            return None
        job.state, job.heartbeat_at = RecomputeState.RUNNING, now
        job.save(update_fields=["state", "heartbeat_at"])
        return job.pk


def recompute_run(job_id: int, *, batch_size: int = BATCH_SIZE, time_budget: float | None = None) -> TargetRecompute:
    """Work one recompute job in batches of ``batch_size`` inquiries, each in its own short
    transaction (the desk keeps working: a rep waits at most one batch for a row). Resumable:
    progress is saved with every batch. Idempotent: a finished job is left alone. With
    ``time_budget`` (seconds) it stops after the batch that uses it up and leaves the job
    waiting, to be continued (a task must end inside the worker's time limit)."""
    started = time.monotonic()
    with transaction.atomic():
        job = TargetRecompute.objects.select_for_update().get(pk=job_id)
        if job.state == RecomputeState.DONE:
            return job
        job.state, job.heartbeat_at = RecomputeState.RUNNING, clock.now()
        job.save(update_fields=["state", "heartbeat_at"])
    config = Configuration()
    actor = clocks_actor(job)
    try:
        while True:
            with transaction.atomic():
                ids = list(
                    _scope(job.policy_id, job.calendar_id)
                    .filter(pk__gt=job.last_id)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not ids:
                    break
                recompute_batch(ids, config=config, actor=actor, reason=job.reason)
                job.last_id, job.done = ids[-1], job.done + len(ids)
                job.heartbeat_at = clock.now()
                TargetRecompute.objects.filter(pk=job.pk).update(
                    last_id=job.last_id, done=job.done, heartbeat_at=job.heartbeat_at
                )
            if time_budget is not None and time.monotonic() - started > time_budget:
                job.state = RecomputeState.PENDING
                TargetRecompute.objects.filter(pk=job.pk).update(state=job.state)
                return job
    except Exception as exc:
        log.exception("recompute %s failed after inquiry %s", job.pk, job.last_id)
        TargetRecompute.objects.filter(pk=job.pk).update(state=RecomputeState.FAILED, error=str(exc)[:2000])
        raise
    job.state, job.finished_at = RecomputeState.DONE, clock.now()
    TargetRecompute.objects.filter(pk=job.pk).update(state=job.state, finished_at=job.finished_at)
    if job.done >= ANALYZE_AFTER:
        _analyze_deadlines()
    return job


#: A recompute of at least this many inquiries refreshes the planner's statistics of the columns
#: it writes when it finishes.
ANALYZE_AFTER = 10_000
_WRITTEN_COLUMNS = (
    "response_due_at",
    "resolve_due_at",
    "due_at",
    "due_kind",
    "warn_at",
    "policy_id",
    "calendar_id",
    "targets_recorded",
)


def _analyze_deadlines() -> None:
    """``ANALYZE`` the deadline columns (PostgreSQL; under a second at 1,000,000 inquiries).

    Queues filter on ``warn_at`` and ``due_at`` and PostgreSQL plans by its statistics of them.
    Autovacuum refreshes those only after a tenth of the table has changed: a first fill of
    100,000 open inquiries in 1,000,000 stays just below that, and the planner went on believing
    no inquiry had a ``warn_at``: a queue's "Needs attention" read the whole table (0.7-0.9 s)
    instead of its index (under a millisecond). bench/README.md, "Service targets"."""
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE inquiries_inquiry ({', '.join(_WRITTEN_COLUMNS)})")
    except Exception as exc:  # statistics are an optimisation: the job itself is done
        log.warning("recompute: ANALYZE after the job failed (%r)", exc)


def clocks_actor(job: TargetRecompute) -> Actor:
    return Actor.system(_("deadline recompute (%(by)s)") % {"by": job.requested_by or "system"})


#: Columns a recompute reads per inquiry.
_ROW = (
    "pk",
    "status",
    "priority",
    "channel",
    "category",
    "customer__tier",
    "policy_id",
    "calendar_id",
    "next_callback_at",
    "next_step_due",
    "targets_recorded",
    *Deadlines.FIELDS,
)


def recompute_batch(ids: Sequence[int], *, config: Configuration, actor: Actor, reason: str) -> int:
    """Recompute these inquiries (locked for the batch) in the caller's transaction; writes only
    the rows whose deadlines or policy changed, each with a timeline event. Returns that count."""
    rows = list(
        Inquiry.objects.filter(pk__in=ids, status__in=ACTIVE)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list(*_ROW)
    )
    facts = histories([r[0] for r in rows])
    callbacks = _pending_callbacks([r[0] for r in rows if r[8] is not None])
    now = clock.now()
    updates: list[tuple[int, Deadlines, int | None, int | None, int]] = []
    events: list[tuple[int, str | None, str | None]] = []
    records: list[TargetRecord] = []
    moves: list[InquiryEvent] = []
    mover = Actor.system(_("service targets")).event_fields()
    for row in rows:
        pk, status, priority, channel, category, tier, policy_id, calendar_id, next_cb, next_step, recorded = row[:11]
        old = Deadlines(*row[11:])
        chosen = config.choose(priority=priority, channel=channel, category=category, customer_tier=tier)
        applied = config.applied(chosen, priority=priority, channel=channel)
        history = facts.get(pk, [])
        if policy_id is not None and chosen != policy_id:  # moved by a rule: the old calendar counts until now
            moves.append(InquiryEvent(inquiry_id=pk, type=EventType.POLICY_CHANGED, created_at=now, **mover))
            moves[-1].details = {"old": policy_id, "new": chosen, **config.names(policy_id, chosen)}
            history = [*history, clocks.Fact(now, clocks.CALENDAR, policy=chosen, previous=policy_id)]
        result = None
        if applied.calendar is not None:
            result = _compute(history, applied, config.calendar_of, running_only=True)
        new = deadlines(
            status=status,
            result=result,
            warn_percent=applied.targets.warn_percent,
            next_callback_at=next_cb,
            callbacks=callbacks.get(pk, []),
            next_step_due=next_step,
        )
        stopped = result.stopped if result is not None else []
        if len(stopped) > recorded:
            records += _record_rows(pk, applied.policy_id, stopped)
        same_policy = (policy_id, calendar_id) == (applied.policy_id, applied.calendar_id)
        if new == old and same_policy and len(stopped) == recorded:
            continue
        updates.append((pk, new, applied.policy_id, applied.calendar_id, len(stopped)))
        events.append(
            (
                pk,
                old.due_at.isoformat() if old.due_at else None,
                new.due_at.isoformat() if new.due_at else None,
            )
        )
    # One statement each for the batch's records, rows and events (they were one per inquiry).
    if records:
        TargetRecord.objects.bulk_create(records, batch_size=1000, ignore_conflicts=True)
    if moves:
        InquiryEvent.objects.bulk_create(moves, batch_size=1000)
    _write(updates, now)
    _write_events(events, reason=reason, actor=actor, now=now)
    return len(updates)


def _write_events(events: list[tuple[int, str | None, str | None]], *, reason: str, actor: Actor, now) -> None:
    """A "Deadlines recomputed" timeline event per written inquiry: ``(inquiry_id, old due_at,
    new due_at)``. On PostgreSQL one INSERT … VALUES for the batch, the same row ``bulk_create``
    would write (without building a model instance per row)."""
    if not events:
        return
    fields = actor.event_fields()
    user = fields["actor_user"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor,
                "INSERT INTO inquiries_inquiryevent"
                " (created_at, actor_kind, actor_user_id, actor_name, details, inquiry_id, type, message_id, call_id)"
                " VALUES %s",
                [
                    (
                        now,
                        str(fields["actor_kind"]),
                        user.pk if user is not None else None,
                        fields["actor_name"],
                        Json({"reason": reason, "old_due_at": old, "new_due_at": new}),
                        pk,
                        EventType.DEADLINES_RECOMPUTED.value,
                    )
                    for pk, old, new in events
                ],
                template="(%s, %s, %s, %s, %s, %s, %s, NULL, NULL)",
                page_size=len(events),
            )
        return
    InquiryEvent.objects.bulk_create(
        [
            InquiryEvent(
                inquiry_id=pk,
                type=EventType.DEADLINES_RECOMPUTED,
                details={"reason": reason, "old_due_at": old, "new_due_at": new},
                created_at=now,
                **fields,
            )
            for pk, old, new in events
        ],
        batch_size=1000,
    )


def _write(updates: list[tuple[int, Deadlines, int | None, int | None, int]], now: dt.datetime) -> None:
    if not updates:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor,
                """
                UPDATE inquiries_inquiry AS i SET
                    response_due_at = v.response_due_at, resolve_due_at = v.resolve_due_at,
                    due_at = v.due_at, due_kind = v.due_kind, warn_at = v.warn_at,
                    policy_id = v.policy_id, calendar_id = v.calendar_id,
                    targets_recorded = v.recorded, version = i.version + 1, updated_at = v.updated_at
                FROM (VALUES %s) AS v(id, response_due_at, resolve_due_at, due_at, due_kind, warn_at,
                                      policy_id, calendar_id, recorded, updated_at)
                WHERE i.id = v.id
                """,
                [
                    (pk, d.response_due_at, d.resolve_due_at, d.due_at, d.due_kind, d.warn_at, policy, cal, n, now)
                    for pk, d, policy, cal, n in updates
                ],
                template=_VALUES_TEMPLATE,
                page_size=len(updates),
            )
        return
    objs = []
    for pk, d, policy, cal, recorded in updates:
        obj = Inquiry(pk=pk, policy_id=policy, calendar_id=cal, targets_recorded=recorded, updated_at=now)
        obj.version = F("version") + 1
        for name in Deadlines.FIELDS:
            setattr(obj, name, getattr(d, name))
        objs.append(obj)
    Inquiry.objects.bulk_update(
        objs, [*Deadlines.FIELDS, "policy", "calendar", "targets_recorded", "updated_at", "version"]
    )


_VALUES_TEMPLATE = (
    "(%s, %s::timestamptz, %s::timestamptz, %s::timestamptz, %s, %s::timestamptz, %s::bigint, %s::bigint, %s::int,"
    " %s::timestamptz)"
)


# --- configuration changes (the admin calls these) ----------------------------------------------


def calendar_changed(*, actor: Actor, calendar: BusinessCalendar, reason: str = "") -> TargetRecompute:
    """After a calendar's hours, holidays or time zone changed: a new version (every process
    drops its cached arithmetic) and a recompute of the open inquiries it governs."""
    actor = as_actor(actor)
    require(actor, perms.CONFIGURE_TARGETS)
    with transaction.atomic():
        BusinessCalendar.objects.filter(pk=calendar.pk).update(version=F("version") + 1, updated_at=clock.now())
        return recompute_request(
            actor=actor,
            reason=reason or _("Calendar “%(name)s” changed") % {"name": calendar.name},
            calendar=calendar,
        )


def policy_changed(*, actor: Actor, policy: ServicePolicy, reason: str = "") -> TargetRecompute:
    """After a policy's targets, warning share or calendar changed."""
    actor = as_actor(actor)
    require(actor, perms.CONFIGURE_TARGETS)
    with transaction.atomic():
        ServicePolicy.objects.filter(pk=policy.pk).update(version=F("version") + 1, updated_at=clock.now())
        return recompute_request(
            actor=actor,
            reason=reason or _("Policy “%(name)s” changed") % {"name": policy.name},
            policy=policy,
        )


def rules_changed(*, actor: Actor, reason: str = "") -> TargetRecompute:
    """After a rule (or the default policy) changed: every open inquiry may get another policy."""
    actor = as_actor(actor)
    require(actor, perms.CONFIGURE_TARGETS)
    with transaction.atomic():
        return recompute_request(actor=actor, reason=reason or _("Policy rules changed"))


def recompute_retry(*, actor: Actor, job: TargetRecompute) -> TargetRecompute:
    """Put a failed recompute back in the queue (the admin's "Run again"). It resumes after the
    last inquiry it finished; a worker is asked on commit, and the sweep picks it up otherwise."""
    actor = as_actor(actor)
    require(actor, perms.CONFIGURE_TARGETS)
    with transaction.atomic():
        job = TargetRecompute.objects.select_for_update().get(pk=job.pk)
        if job.state != RecomputeState.FAILED:
            raise InvalidInput(
                _("Only a failed recompute can run again; this one is “%(state)s”.")
                % {"state": job.get_state_display()}
            )
        job.state, job.error, job.heartbeat_at, job.finished_at = RecomputeState.PENDING, "", None, None
        job.save(update_fields=["state", "error", "heartbeat_at", "finished_at"])
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job
