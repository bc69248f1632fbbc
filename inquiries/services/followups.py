"""Follow-up calls after resolution ("did that fix it?"), docs/follow-ups.md.

``status_changed`` is called by every inquiry status move, in its transaction: resolving
schedules one call per resolution cycle (delay by category and priority, ``FollowUpDelay``;
none when the customer opted out); reopening cancels the open one. The rep logs the outcome with
``follow_up_log``: satisfied closes the inquiry, "the problem remains" reopens it, voicemail or
no answer tries again later (growing intervals) until the attempts run out. The jobs
(``inquiries.jobs.followups``) make a call due and notice a missed window.

Do not import ``.work`` at module level: it imports this module.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from fulfillment import clock, notifications, scheduling
from fulfillment.actors import Actor, ActorKind, as_actor
from fulfillment.errors import InvalidInput, NotFound, PermissionDenied
from fulfillment.permissions import require
from fulfillment.tiers import Tier

from .. import events
from .. import permissions as perms
from ..enums import (
    ACTIVE,
    DONE,
    FOLLOW_UP_OPEN,
    FOLLOW_UP_RETRY,
    CallDirection,
    CallOutcome,
    EventType,
    FollowUpOutcome,
    FollowUpState,
    InquiryStatus,
)
from ..models import FollowUpCall, FollowUpDelay, Inquiry, SchedulePolicy
from ._common import clean_text, lock

DUE_KIND = "inquiries.follow_up_due"
WINDOW_KIND = "inquiries.follow_up_window"
#: States in which an outcome may be logged: open, or missed (a late call still counts).
LOGGABLE = (*FOLLOW_UP_OPEN, FollowUpState.MISSED)
LOGGED_FIELDS = [
    "attempts",
    "outcome",
    "notes",
    "updated_at",
    "state",
    "due_at",
    "window_ends_at",
    "done_at",
    "done_by_name",
]
#: What the call log records for each follow-up outcome.
CALL_OUTCOMES = {
    FollowUpOutcome.SATISFIED: CallOutcome.INFO_GIVEN,
    FollowUpOutcome.PROBLEM_REMAINS: CallOutcome.INFO_GIVEN,
    FollowUpOutcome.VOICEMAIL: CallOutcome.VOICEMAIL,
    FollowUpOutcome.NO_ANSWER: CallOutcome.NO_ANSWER,
}


# --- which delay -----------------------------------------------------------------------------


def delay_for(*, category: str, priority: int) -> FollowUpDelay | None:
    """The most specific ``FollowUpDelay`` row for (category, priority): (category, priority) >
    (category, any) > (any, priority) > (any, any). None when no row matches or the winning one
    is switched off (``enabled`` False means "no follow-up call" for that match)."""
    rows = FollowUpDelay.objects.filter(
        Q(category=category) | Q(category=""), Q(priority=priority) | Q(priority__isnull=True)
    )
    best = max(rows, key=lambda row: (bool(row.category), row.priority is not None), default=None)
    return best if best is not None and best.enabled else None


# --- jobs ------------------------------------------------------------------------------------


def _person(user) -> str:
    """How the timeline names a caller: their full name, else their username."""
    return user.get_full_name() or user.get_username()


def _job_keys(call: FollowUpCall) -> list[str]:
    """The due and window jobs of the call's current attempt (a retry gets fresh keys)."""
    return [f"follow-up:{call.pk}:{call.attempts}:due", f"follow-up:{call.pk}:{call.attempts}:window"]


def _schedule_jobs(call: FollowUpCall) -> None:
    due_key, window_key = _job_keys(call)
    ref = f"inquiry:{call.inquiry_id}"
    payload = {"call": call.pk, "attempt": call.attempts}
    scheduling.schedule(kind=DUE_KIND, key=due_key, due_at=call.due_at, ref=ref, payload=payload)
    scheduling.schedule(kind=WINDOW_KIND, key=window_key, due_at=call.window_ends_at, ref=ref, payload=payload)


def _cancel_jobs(call: FollowUpCall) -> None:
    scheduling.cancel(keys=_job_keys(call))


# --- scheduling and cancelling with the inquiry's status -------------------------------------


def status_changed(inquiry: Inquiry, actor: Actor, *, old: str, new: str) -> None:
    """Schedule a follow-up call when an inquiry is resolved; cancel an open one when it reopens.
    Runs inside the status move's transaction, on the locked inquiry."""
    if new == InquiryStatus.RESOLVED:
        _schedule(inquiry, as_actor(actor))
    elif old in DONE and new in ACTIVE:
        _cancel_open(inquiry, as_actor(actor))


def _schedule(inquiry: Inquiry, actor: Actor) -> FollowUpCall | None:
    if inquiry.customer.no_follow_up_calls:
        return None
    delay = delay_for(category=inquiry.category, priority=inquiry.priority)
    if delay is None:
        return None
    if FollowUpCall.objects.filter(inquiry=inquiry, cycle=inquiry.reopen_count).exists():
        return None  # this cycle has its call already (resolved, closed, resolved again…)
    policy = SchedulePolicy.current()
    now = clock.now()
    due_at = now + dt.timedelta(minutes=delay.delay_minutes)
    call = FollowUpCall.objects.create(
        inquiry=inquiry,
        cycle=inquiry.reopen_count,
        assignee_id=inquiry.assignee_id or (actor.user.pk if actor.user is not None else None),
        due_at=due_at,
        window_ends_at=due_at + dt.timedelta(hours=policy.follow_up_window_hours),
        max_attempts=max(policy.follow_up_max_attempts, 1),
        created_at=now,
        updated_at=now,
    )
    events.follow_up(
        inquiry,
        actor,
        EventType.FOLLOW_UP_SCHEDULED,
        call=call,
        caller=_person(call.assignee) if call.assignee_id else "",
        window_ends_at=call.window_ends_at.isoformat(),
    )
    _schedule_jobs(call)
    return call


def _cancel_open(inquiry: Inquiry, actor: Actor) -> None:
    now = clock.now()
    for call in FollowUpCall.objects.select_for_update().filter(inquiry=inquiry, state__in=FOLLOW_UP_OPEN):
        _cancel_jobs(call)
        call.state, call.updated_at = FollowUpState.CANCELLED, now
        call.save(update_fields=["state", "updated_at"])
        events.follow_up(inquiry, actor, EventType.FOLLOW_UP_CANCELLED, call=call)


# --- logging the call ------------------------------------------------------------------------


def may_log(actor: Actor, call: FollowUpCall) -> bool:
    """The caller, anyone above the caller's tier (their seniors) and the supervisors; the system.
    A call without a caller: any senior rep or above."""
    if actor.kind == ActorKind.SYSTEM:
        return True
    if actor.kind != ActorKind.USER or actor.tier is None:
        return False
    if call.assignee_id is not None and actor.user.pk == call.assignee_id:
        return True
    if actor.tier >= Tier.SUPERVISOR:
        return True
    caller_tier = call.assignee.tier if call.assignee_id and call.assignee.tier else Tier.REP
    return actor.tier > caller_tier


def _lock_call(call: FollowUpCall | int) -> tuple[Inquiry, FollowUpCall]:
    """Lock the inquiry, then the call (the order every status move takes)."""
    pk = call.pk if isinstance(call, FollowUpCall) else call
    inquiry_id = FollowUpCall.objects.filter(pk=pk).values_list("inquiry_id", flat=True).first()
    if inquiry_id is None:
        raise NotFound(_("This follow-up call does not exist."))
    inquiry = lock(inquiry_id)
    call = FollowUpCall.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=pk)
    return inquiry, call


def follow_up_log(*, actor: Actor, call: FollowUpCall | int, outcome: str, notes: str = "") -> FollowUpCall:
    """Record the follow-up call's outcome (and the call itself in the call log).

    satisfied → done, the inquiry closed; the problem remains → done, the inquiry reopened (a new
    cycle, which gets its own follow-up when resolved again); voicemail / no answer → tried
    again after ``follow_up_retry_minutes`` × 2^(attempts − 1), the window moving by as much,
    until ``max_attempts``: then "customer not reached" (final)."""
    actor = as_actor(actor)
    require(actor, perms.WORK)
    if outcome not in FollowUpOutcome.values:
        raise InvalidInput(field_errors={"outcome": [_("Choose one of the offered values.")]})
    notes = clean_text(notes, "notes", 10_000)
    from .intake import call_log
    from .work import inquiry_set_status

    with transaction.atomic():
        inquiry, call = _lock_call(call)
        if not may_log(actor, call):
            raise PermissionDenied(_("Only the caller, a senior colleague or a supervisor may log this call."))
        if call.state not in LOGGABLE:
            raise InvalidInput(
                _("This follow-up call is %(state)s: there is nothing to log.")
                % {"state": call.get_state_display().lower()},
                field_errors={"outcome": [_("This follow-up call is no longer open.")]},
            )
        if inquiry.status not in DONE:
            raise InvalidInput(
                _("The inquiry was reopened since: this follow-up call no longer applies."),
                field_errors={"outcome": [_("This follow-up call is no longer open.")]},
            )
        call_log(
            actor=actor,
            inquiry=inquiry,
            direction=CallDirection.OUTBOUND,
            outcome=CALL_OUTCOMES[outcome],
            notes=notes,
        )
        now = clock.now()
        _cancel_jobs(call)
        call.attempts += 1
        call.outcome, call.notes, call.updated_at = outcome, notes, now
        if outcome in FOLLOW_UP_RETRY and call.attempts < call.max_attempts:
            policy = SchedulePolicy.current()
            wait = dt.timedelta(minutes=policy.follow_up_retry_minutes * 2 ** (call.attempts - 1))
            window = call.window_ends_at - call.due_at
            call.due_at = now + wait
            call.window_ends_at = call.due_at + window
            call.state = FollowUpState.SCHEDULED
            _schedule_jobs(call)
        else:
            call.state = FollowUpState.UNREACHED if outcome in FOLLOW_UP_RETRY else FollowUpState.DONE
            call.done_at, call.done_by_name = now, actor.name[:150]
        call.save(update_fields=LOGGED_FIELDS)
        events.follow_up(
            inquiry,
            actor,
            EventType.FOLLOW_UP_LOGGED,
            call=call,
            outcome=outcome,
            state=call.state,
            attempts_left=max(call.max_attempts - call.attempts, 0),
        )
        reason = _("Follow-up call: %(outcome)s.") % {"outcome": FollowUpOutcome(outcome).label}
        if outcome == FollowUpOutcome.SATISFIED and inquiry.status == InquiryStatus.RESOLVED:
            inquiry_set_status(
                actor=actor, inquiry=inquiry, status=InquiryStatus.CLOSED, reason=reason, override_open_steps=True
            )
        elif outcome == FollowUpOutcome.PROBLEM_REMAINS:
            inquiry_set_status(actor=actor, inquiry=inquiry, status=InquiryStatus.OPEN, reason=reason)
    return call


def follow_up_reassign(*, actor: Actor, call: FollowUpCall | int, assignee) -> FollowUpCall:
    """A senior rep or above gives a follow-up call to another caller (an open or missed one);
    a call already due is announced to the new caller."""
    actor = as_actor(actor)
    require(actor, perms.ASSIGN)
    with transaction.atomic():
        inquiry, call = _lock_call(call)
        if call.state not in LOGGABLE:
            raise InvalidInput(_("This follow-up call is no longer open."))
        user = get_user_model().objects.filter(pk=getattr(assignee, "pk", assignee)).first()
        if user is None or not user.is_active or not user.tier:
            raise InvalidInput(field_errors={"assignee": [_("Choose an active member of staff.")]})
        if call.assignee_id == user.pk:
            return call
        call.assignee, call.updated_at = user, clock.now()
        call.save(update_fields=["assignee", "updated_at"])
        events.follow_up(inquiry, actor, EventType.FOLLOW_UP_SCHEDULED, call=call, caller=_person(user))
        if call.state == FollowUpState.DUE:
            transaction.on_commit(lambda: tell_caller(call, inquiry))
    return call


def tell_caller(call: FollowUpCall, inquiry: Inquiry) -> int:
    """Tell the caller their follow-up call is due (in the app and by email, once per attempt)."""

    def words() -> tuple[str, str]:
        title = _("[%(reference)s] Follow-up call due: %(subject)s") % {
            "reference": inquiry.reference,
            "subject": inquiry.subject,
        }
        body = _(
            "Call %(customer)s (%(phone)s) to ask whether %(reference)s is settled. Attempt %(n)d of %(m)d. "
            "Call by: %(by)s"
        ) % {
            "customer": inquiry.customer.name,
            "phone": inquiry.customer.phone or "—",
            "reference": inquiry.reference,
            "n": call.attempts + 1,
            "m": call.max_attempts,
            "by": date_format(localtime(call.window_ends_at), "SHORT_DATETIME_FORMAT"),
        }
        return title, body

    return notifications.tell(
        users=[call.assignee],
        key=f"follow-up:{call.pk}:{call.attempts}",
        words=words,
        url=reverse("inquiries:detail", args=[inquiry.pk]),
    )


def follow_up_by_senior(*, actor: Actor, inquiry: Inquiry | int, cycle: int, reason: str) -> FollowUpCall | None:
    """The customer was unhappy with a resolution (a low satisfaction rating): the cycle's
    follow-up call goes to a senior rep (the caller already, if senior; else the senior rep with
    the fewest open calls) and is due now. A call already logged (or missed, or not reached) is
    opened again for one more try; a cycle without a call gets one. Nothing when the inquiry was
    reopened since (the rep is on it again) or the customer asked not to be called."""
    actor = as_actor(actor)
    reason = clean_text(reason, "reason", 500)
    with transaction.atomic():
        inquiry = lock(inquiry)
        if inquiry.status not in DONE or inquiry.reopen_count != cycle or inquiry.customer.no_follow_up_calls:
            return None
        call = FollowUpCall.objects.select_for_update(of=("self",)).filter(inquiry=inquiry, cycle=cycle).first()
        senior = _senior_for(call)
        if senior is None:
            return None
        policy = SchedulePolicy.current()
        now = clock.now()
        window = dt.timedelta(hours=policy.follow_up_window_hours)
        if call is None:
            call = FollowUpCall(inquiry=inquiry, cycle=cycle, max_attempts=max(policy.follow_up_max_attempts, 1))
            call.created_at = now
        else:
            _cancel_jobs(call)
            if call.state not in FOLLOW_UP_OPEN:
                call.max_attempts = call.attempts + max(policy.follow_up_max_attempts, 1)
        # Due at once: in the senior's calls-due queue now, told after commit; the window job
        # (missed-call notice) as usual.
        call.assignee, call.state, call.due_at, call.window_ends_at = senior, FollowUpState.DUE, now, now + window
        call.done_at, call.done_by_name, call.updated_at = None, "", now
        call.save()
        scheduling.schedule(
            kind=WINDOW_KIND,
            key=_job_keys(call)[1],
            due_at=call.window_ends_at,
            ref=f"inquiry:{inquiry.pk}",
            payload={"call": call.pk, "attempt": call.attempts},
            replace=True,
        )
        transaction.on_commit(lambda: tell_caller(call, inquiry))
        events.follow_up(
            inquiry,
            actor,
            EventType.FOLLOW_UP_SCHEDULED,
            call=call,
            caller=_person(senior),
            window_ends_at=call.window_ends_at.isoformat(),
            reason=reason,
        )
    return call


def _senior_for(call: FollowUpCall | None):
    """The call's caller if a senior rep or above, else the active senior rep with the fewest
    open follow-up calls (then the lowest id); a specialist or supervisor only if no senior rep."""
    if (
        call is not None
        and call.assignee_id
        and call.assignee.is_active
        and (call.assignee.tier or 0) >= Tier.SENIOR_REP
    ):
        return call.assignee
    return (
        get_user_model()
        .objects.filter(is_active=True, tier__gte=Tier.SENIOR_REP)
        .annotate(open_calls=Count("follow_up_calls", filter=Q(follow_up_calls__state__in=FOLLOW_UP_OPEN)))
        .order_by("tier", "open_calls", "pk")
        .first()
    )
