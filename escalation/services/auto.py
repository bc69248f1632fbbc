"""Automatic escalation: the rules, the breaches they watch, and the one service that applies
them (``apply_rules``). The every-minute sweep that calls it is a Celery beat task
(``escalation.tasks.sweep_escalation_rules``); the service is callable and tested on its own.

A breach is named by a key, and a rule fires once per (rule, inquiry, key) — a unique row in
``RuleFiring`` written in the same transaction as the move — so a breach escalates once however
many sweeps (or sweepers) see it:

- first response breached: ``first_response`` (an inquiry has one first response);
- resolution breached: ``resolution:<reopen count>`` (each reopened cycle has its own target);
- callback missed: ``callback:<callback id>``;
- N customer contacts without resolution: ``contacts:<reopen count>``;
- follow-up call missed: ``follow-up:<call id>``. The inquiry is resolved, not active, so this
  rule moves nothing up the ladder (closing the resolved inquiry's escalation at once would
  follow): it records the firing and tells the supervisors; the call stays on the calls-due page,
  where it can still be logged late.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Count, Exists, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.tiers import Tier
from inquiries.enums import ACTIVE, DONE, CallbackState, CallDirection, EventType, FollowUpState, MessageKind
from inquiries.models import Callback, CallLog, FollowUpCall, Inquiry, InquiryEvent, Message
from inquiries.services._common import lock

from ..enums import Kind, Outcome, Reason, Trigger
from ..models import Escalation, EscalationRule, RuleFiring
from . import ladder, notify

log = logging.getLogger(__name__)

#: At most this many firings per rule per call: a sweep is short; the next one goes on.
BATCH = 500
#: Before any inquiry: the start of the first cycle of one never resolved.
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: Triggers about inquiries already resolved: the firing only notifies, it never moves a tier.
NOTIFY_ONLY = (Trigger.FOLLOW_UP_MISSED,)


@dataclass(frozen=True)
class Breach:
    inquiry_id: int
    key: str


def _not_fired(rule: EscalationRule, key) -> Exists:
    """For a queryset whose rows have an ``inquiry_id`` (or are inquiries): no firing of ``rule``
    for this inquiry under ``key`` (an expression). Excluded in SQL, so a batch is never filled
    with breaches fired long ago while newer ones wait behind them."""
    return ~Exists(RuleFiring.objects.filter(rule=rule, inquiry_id=OuterRef("inquiry_id"), key=key))


def _key(prefix: str, field: str):
    """``<prefix>:<the outer row's field>`` as SQL, e.g. one key per resolution cycle of an
    inquiry (``resolution:<reopen count>``) or per callback (``callback:<id>``)."""
    return Concat(Value(f"{prefix}:"), Cast(OuterRef(field), CharField()))


def breaches(rule: EscalationRule, *, now: dt.datetime, limit: int = BATCH) -> list[Breach]:
    """The breaches of ``rule`` at ``now`` that it has not fired for, oldest first."""
    since = now - dt.timedelta(minutes=rule.grace_minutes)
    # at the rule's highest tier it only notifies; above it, it does nothing
    active = Inquiry.objects.filter(status__in=ACTIVE, tier__lte=rule.up_to_tier).annotate(inquiry_id=F("pk"))
    if rule.trigger == Trigger.FIRST_RESPONSE_BREACHED:
        rows = (
            active.filter(first_response_at__isnull=True, response_due_at__lte=since)
            .filter(_not_fired(rule, Value("first_response")))
            .order_by("response_due_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        return [Breach(pk, "first_response") for pk in rows]
    if rule.trigger == Trigger.RESOLUTION_BREACHED:
        rows = (
            active.filter(resolve_due_at__lte=since)
            .filter(_not_fired(rule, _key("resolution", "reopen_count")))
            .order_by("resolve_due_at", "id")
            .values_list("id", "reopen_count")[:limit]
        )
        return [Breach(pk, f"resolution:{n}") for pk, n in rows]
    if rule.trigger == Trigger.CALLBACK_MISSED:
        rows = (
            Callback.objects.filter(
                state=CallbackState.PENDING,
                due_at__lte=since,
                inquiry__status__in=ACTIVE,
                inquiry__tier__lte=rule.up_to_tier,
            )
            .filter(_not_fired(rule, _key("callback", "pk")))
            .order_by("due_at", "id")
            .values_list("inquiry_id", "id")[:limit]
        )
        return [Breach(inquiry_id, f"callback:{pk}") for inquiry_id, pk in rows]
    if rule.trigger == Trigger.REPEAT_CONTACTS:
        return _repeat_contacts(rule, active, limit=limit)
    if rule.trigger == Trigger.FOLLOW_UP_MISSED:
        rows = (
            FollowUpCall.objects.filter(
                state=FollowUpState.MISSED, window_ends_at__lte=since, inquiry__tier__lte=rule.up_to_tier
            )
            .filter(_not_fired(rule, _key("follow-up", "pk")))
            .order_by("window_ends_at", "id")
            .values_list("inquiry_id", "id")[:limit]
        )
        return [Breach(inquiry_id, f"follow-up:{pk}") for inquiry_id, pk in rows]
    return []


def _contacts_since(model, kind_field: str, kind: str):
    """How many of ``model``'s rows (messages or calls) came from the customer in this
    inquiry's current cycle (since ``cycle_start``): a subquery for an inquiry queryset."""
    rows = (
        model.objects.filter(inquiry_id=OuterRef("pk"), created_at__gt=OuterRef("cycle_start"), **{kind_field: kind})
        .order_by()
        .values("inquiry_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _repeat_contacts(rule: EscalationRule, active, *, limit: int) -> list[Breach]:
    """Active inquiries with at least ``rule.contacts`` messages and calls from the customer
    without resolution: counted since the inquiry was last resolved (a reopened inquiry is a new
    cycle with its own key, and its count starts again)."""
    resolved = (
        InquiryEvent.objects.filter(
            inquiry_id=OuterRef("pk"), type=EventType.STATUS_CHANGED, details__new__in=list(DONE)
        )
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    rows = (
        active.annotate(  # an active inquiry never reopened was never resolved: no timeline lookup
            cycle_start=Case(
                When(reopen_count=0, then=Value(EPOCH)), default=Coalesce(Subquery(resolved), Value(EPOCH))
            )
        )
        .annotate(
            contacts=_contacts_since(Message, "kind", MessageKind.INBOUND)
            + _contacts_since(CallLog, "direction", CallDirection.INBOUND)
        )
        .filter(contacts__gte=rule.contacts or 1)
        .filter(_not_fired(rule, _key("contacts", "reopen_count")))
        .order_by("id")
        .values_list("id", "reopen_count")[:limit]
    )
    return [Breach(pk, f"contacts:{n}") for pk, n in rows]


def _still_breached(rule: EscalationRule, inquiry: Inquiry, key: str, now: dt.datetime) -> bool:
    """Re-checked on the locked row: the sweep's list may be a moment old."""
    since = now - dt.timedelta(minutes=rule.grace_minutes)
    if rule.trigger == Trigger.FOLLOW_UP_MISSED:  # about a resolved inquiry: its call, still missed
        pk = int(key.split(":")[1])
        return inquiry.tier <= rule.up_to_tier and (
            FollowUpCall.objects.filter(
                pk=pk, inquiry_id=inquiry.pk, state=FollowUpState.MISSED, window_ends_at__lte=since
            ).exists()
        )
    if inquiry.status not in ACTIVE or inquiry.tier > rule.up_to_tier:
        return False
    if rule.trigger == Trigger.FIRST_RESPONSE_BREACHED:
        return (
            inquiry.first_response_at is None
            and inquiry.response_due_at is not None
            and inquiry.response_due_at <= since
        )
    if rule.trigger == Trigger.RESOLUTION_BREACHED:
        return (
            key == f"resolution:{inquiry.reopen_count}"
            and inquiry.resolve_due_at is not None
            and inquiry.resolve_due_at <= since
        )
    if rule.trigger == Trigger.CALLBACK_MISSED:
        pk = int(key.split(":")[1])
        return Callback.objects.filter(pk=pk, state=CallbackState.PENDING, due_at__lte=since).exists()
    if rule.trigger == Trigger.REPEAT_CONTACTS:
        return key == f"contacts:{inquiry.reopen_count}"
    return False


def _reason_text(rule: EscalationRule) -> str:
    return _("Rule “%(rule)s”: %(trigger)s.") % {"rule": rule.name, "trigger": Trigger(rule.trigger).label}


def fire(rule: EscalationRule, breach: Breach, *, now: dt.datetime | None = None) -> RuleFiring | None:
    """Apply ``rule`` to one breach, in one transaction: record the firing (once: a second
    attempt finds the unique row and does nothing) and move the inquiry up one tier, or only
    notify when it is already at the rule's highest tier (or the rule is about a resolved
    inquiry, ``NOTIFY_ONLY``). None: nothing to do."""
    now = now or clock.now()
    actor = Actor.system(f"rule: {rule.name}"[:150])
    try:
        with transaction.atomic():
            inquiry = lock(breach.inquiry_id)
            if not _still_breached(rule, inquiry, breach.key, now):
                return None
            firing = RuleFiring.objects.create(rule=rule, inquiry=inquiry, key=breach.key, fired_at=now)
            following = Tier.next_above(inquiry.tier)
            if rule.trigger in NOTIFY_ONLY or following is None or inquiry.tier >= rule.up_to_tier:
                transaction.on_commit(lambda: notify.enqueue_firing_notice(firing.pk))
                return firing
            escalation = ladder._escalate(
                actor=actor,
                inquiry=inquiry,
                kind=Kind.AUTOMATIC,
                reason=Reason.AUTOMATIC,
                reason_text=_reason_text(rule),
                rule=rule,
            )
            firing.escalation = escalation
            firing.moved = True
            firing.save(update_fields=["escalation", "moved"])
            return firing
    except IntegrityError:
        # Another sweeper recorded this breach first (the unique firing row): one effect.
        log.info("rule %s already fired for inquiry %s (%s)", rule.pk, breach.inquiry_id, breach.key)
        return None


def apply_rules(*, now: dt.datetime | None = None, limit: int = BATCH) -> list[RuleFiring]:
    """Every active rule, every breach it has not fired for: fire once. Returns the firings."""
    now = now or clock.now()
    done: list[RuleFiring] = []
    for rule in EscalationRule.objects.filter(active=True).order_by("pk"):
        for breach in breaches(rule, now=now, limit=limit):
            firing = fire(rule, breach, now=now)
            if firing is not None:
                done.append(firing)
    return done


def close_resolved(*, now: dt.datetime | None = None, limit: int = 5_000) -> int:
    """Close the open escalations of inquiries resolved or closed at their tier, with the
    outcome "resolved at this tier" and the time the inquiry spent there until it was resolved
    (inquiries knows nothing of escalations, so this app looks: run by the every-minute sweep).
    A reopened inquiry stays at its tier; escalating it again opens a new escalation. Returns
    how many were closed; bounded, the next sweep goes on."""
    now = now or clock.now()
    closed = 0
    with transaction.atomic():
        rows = list(
            Escalation.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(closed_at__isnull=True, inquiry__status__in=DONE)
            .select_related("inquiry")
            .order_by("id")[:limit]
        )
        for escalation in rows:
            inquiry = escalation.inquiry
            ended = inquiry.resolved_at or inquiry.closed_at or now
            ended = max(ended, escalation.created_at)
            escalation.outcome = Outcome.RESOLVED
            escalation.closed_at = ended
            escalation.closed_by_name = "system"
            escalation.outcome_tier = escalation.to_tier
            escalation.seconds_at_tier = max(int((ended - escalation.created_at).total_seconds()), 0)
            escalation.updated_at = now
        Escalation.objects.bulk_update(
            rows, ["outcome", "closed_at", "closed_by_name", "outcome_tier", "seconds_at_tier", "updated_at"]
        )
        closed = len(rows)
    return closed
