"""Automatic escalation: the rules, the breaches they watch, and the one service that applies
them (``apply_rules``). The every-minute sweep that calls it is a Celery beat task
(``escalation.tasks.sweep_escalation_rules``); the service is callable and tested on its own.

A breach is named by a key, and a rule fires once per (rule, inquiry, key) — a unique row in
``RuleFiring`` written in the same transaction as the move — so a breach escalates once however
many sweeps (or sweepers) see it:

- first response breached: ``first_response`` (an inquiry has one first response);
- resolution breached: ``resolution:<reopen count>`` (each reopened cycle has its own target);
- callback missed: ``callback:<callback id>``;
- N customer contacts without resolution: ``contacts:<reopen count>``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.tiers import Tier
from inquiries.enums import ACTIVE, CallbackState, CallDirection, MessageKind
from inquiries.models import Callback, CallLog, Inquiry, Message
from inquiries.services._common import lock

from ..enums import Kind, Reason, Trigger
from ..models import EscalationRule, RuleFiring
from . import ladder

log = logging.getLogger(__name__)

#: At most this many firings per rule per call: a sweep is short; the next one goes on.
BATCH = 500


@dataclass(frozen=True)
class Breach:
    inquiry_id: int
    key: str


def _fired(rule: EscalationRule, breaches: list[Breach]) -> list[Breach]:
    """The breaches this rule has not fired for yet."""
    if not breaches:
        return []
    done = set(
        RuleFiring.objects.filter(rule=rule, inquiry_id__in={b.inquiry_id for b in breaches}).values_list(
            "inquiry_id", "key"
        )
    )
    return [b for b in breaches if (b.inquiry_id, b.key) not in done]


def breaches(rule: EscalationRule, *, now: dt.datetime, limit: int = BATCH) -> list[Breach]:
    """The breaches of ``rule`` at ``now`` that it has not fired for, oldest first."""
    since = now - dt.timedelta(minutes=rule.grace_minutes)
    below = Q(tier__lt=rule.up_to_tier) | Q(tier=rule.up_to_tier)  # at the top it only notifies
    active = Inquiry.objects.filter(below, status__in=ACTIVE)
    fired = RuleFiring.objects.filter(rule=rule)
    found: list[Breach] = []
    if rule.trigger == Trigger.FIRST_RESPONSE_BREACHED:
        rows = (
            active.filter(first_response_at__isnull=True, response_due_at__lte=since)
            .exclude(pk__in=fired.filter(key="first_response").values("inquiry_id"))
            .order_by("response_due_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        found = [Breach(pk, "first_response") for pk in rows]
    elif rule.trigger == Trigger.RESOLUTION_BREACHED:
        rows = (
            active.filter(resolve_due_at__lte=since)
            .order_by("resolve_due_at", "id")
            .values_list("id", "reopen_count")[: limit * 4]
        )
        found = [Breach(pk, f"resolution:{n}") for pk, n in rows]
    elif rule.trigger == Trigger.CALLBACK_MISSED:
        rows = (
            Callback.objects.filter(state=CallbackState.PENDING, due_at__lte=since, inquiry__status__in=ACTIVE)
            .filter(Q(inquiry__tier__lte=rule.up_to_tier))
            .order_by("due_at", "id")
            .values_list("inquiry_id", "id")[: limit * 4]
        )
        found = [Breach(inquiry_id, f"callback:{pk}") for inquiry_id, pk in rows]
    elif rule.trigger == Trigger.REPEAT_CONTACTS:
        found = _repeat_contacts(rule, active, limit=limit * 4)
    return _fired(rule, found)[:limit]


def _repeat_contacts(rule: EscalationRule, active, *, limit: int) -> list[Breach]:
    """Active inquiries with at least ``rule.contacts`` messages and calls from the customer,
    counted over the inquiry's life. A reopened inquiry is a new cycle (its own key), so one
    that was resolved and came back over the threshold fires once more."""
    threshold = rule.contacts or 1
    messages = (
        Message.objects.filter(kind=MessageKind.INBOUND, inquiry__in=active)
        .values("inquiry_id")
        .annotate(n=Count("id"))
    )
    calls = (
        CallLog.objects.filter(direction=CallDirection.INBOUND, inquiry__in=active)
        .values("inquiry_id")
        .annotate(n=Count("id"))
    )
    counts: dict[int, int] = {}
    for row in messages:
        counts[row["inquiry_id"]] = counts.get(row["inquiry_id"], 0) + row["n"]
    for row in calls:
        counts[row["inquiry_id"]] = counts.get(row["inquiry_id"], 0) + row["n"]
    over = sorted(pk for pk, n in counts.items() if n >= threshold)[:limit]
    cycles = dict(Inquiry.objects.filter(pk__in=over).values_list("id", "reopen_count"))
    return [Breach(pk, f"contacts:{cycles[pk]}") for pk in over if pk in cycles]


def _still_breached(rule: EscalationRule, inquiry: Inquiry, key: str, now: dt.datetime) -> bool:
    """Re-checked on the locked row: the sweep's list may be a moment old."""
    if inquiry.status not in ACTIVE:
        return False
    since = now - dt.timedelta(minutes=rule.grace_minutes)
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
    notify when it is already at the rule's highest tier. None: nothing to do."""
    now = now or clock.now()
    actor = Actor.system(f"rule: {rule.name}"[:150])
    try:
        with transaction.atomic():
            inquiry = lock(breach.inquiry_id)
            if not _still_breached(rule, inquiry, breach.key, now):
                return None
            firing = RuleFiring.objects.create(rule=rule, inquiry=inquiry, key=breach.key, fired_at=now)
            following = Tier.next_above(inquiry.tier)
            if following is None or inquiry.tier >= rule.up_to_tier:
                transaction.on_commit(lambda: _notify_top(firing.pk))
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


def _notify_top(firing_id: int) -> None:
    from ..tasks import notify_firing

    notify_firing.delay(firing_id)


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
