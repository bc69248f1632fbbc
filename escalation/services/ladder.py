"""The ladder in motion: escalate, take over, return with coaching, reassign lower, de-escalate.

Each function: check the actor's role, validate → one transaction → lock the inquiry (then its
open escalation) → check the actor's tier against the inquiry's (who may act is checked before
what the inquiry's state allows) → move ``Inquiry.tier`` / assignee → write the
escalation row and the inquiry's timeline event → save through inquiries' one save (version,
deadlines). Two people acting on the same inquiry at once: the lock serialises them and the
second finds the inquiry changed (``expected_version``, or the state it acts on gone) and gets
a ``Conflict`` that says what happened — never a second effect.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import Conflict, InvalidInput, PermissionDenied
from fulfillment.models import StaffSpecialty
from fulfillment.permissions import require
from fulfillment.tiers import Specialty, Tier
from inquiries import events as inquiry_events
from inquiries.enums import ACTIVE, CATEGORY_SPECIALTY, EventType
from inquiries.models import Inquiry
from inquiries.services import reply_send
from inquiries.services._common import clean_text, lock, require_workable, save
from inquiries.services.compose import template_for

from .. import permissions as perms
from ..enums import MANUAL_REASONS, Kind, Outcome, Reason
from ..models import Escalation, EscalationRule
from . import notify

#: The response template (one per language) that tells a customer a senior colleague took over.
NOTICE_TEMPLATE = "Escalation notice"

TIER_LABELS = dict(Tier.choices)


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _seconds(since: dt.datetime, now: dt.datetime) -> int:
    return max(int((now - since).total_seconds()), 0)


def _open_escalation(inquiry: Inquiry) -> Escalation | None:
    return Escalation.objects.select_for_update().filter(inquiry=inquiry, closed_at__isnull=True).first()


def _check_version(inquiry: Inquiry, expected_version: int | None) -> None:
    if expected_version is not None and inquiry.version != expected_version:
        raise Conflict(
            _(
                "Someone changed this inquiry a moment ago: it is now at the %(tier)s tier%(who)s. "
                "Reload it to see what happened."
            )
            % {
                "tier": TIER_LABELS[inquiry.tier],
                "who": (_(", with %(name)s") % {"name": _name(inquiry.assignee)}) if inquiry.assignee_id else "",
            }
        )


def _require_active(inquiry: Inquiry) -> None:
    if inquiry.status not in ACTIVE:
        raise InvalidInput(_("Only an active inquiry moves on the ladder. Reopen it first."))


def _check_person(user, *, tier: int, specialty: str, field: str = "to_user") -> None:
    """A named person must be active staff at exactly that tier (and, for a specialist, cover
    the specialty)."""
    if user is None:
        return
    if not user.is_active or user.tier != tier:
        raise InvalidInput(
            field_errors={field: [_("Choose someone at the %(tier)s tier.") % {"tier": TIER_LABELS[tier]}]}
        )
    if tier != Tier.SPECIALIST or not specialty:
        return
    if not StaffSpecialty.objects.filter(user=user, specialty=specialty).exists():
        message = _("%(name)s does not cover %(specialty)s.")
        raise InvalidInput(
            field_errors={field: [message % {"name": _name(user), "specialty": Specialty(specialty).label}]}
        )


def _specialty_for(inquiry: Inquiry, tier: int, specialty: str, *, required: bool = True) -> str:
    """The specialty a move to the specialist tier carries: the chosen one, else the one the
    inquiry already needs, else its category's. A person must choose when none fits; a rule
    (``required=False``) sends it to the whole specialist tier instead."""
    if tier != Tier.SPECIALIST:
        return ""
    if specialty and specialty not in Specialty.values:
        raise InvalidInput(field_errors={"specialty": [_("Choose one of the specialties.")]})
    chosen = specialty or inquiry.specialty_needed or CATEGORY_SPECIALTY.get(inquiry.category, "")
    if not chosen and required:
        raise InvalidInput(field_errors={"specialty": [_("Choose the specialty: this category does not name one.")]})
    return chosen


def _close(escalation: Escalation | None, *, outcome: str, actor: Actor, now: dt.datetime, tier: int, note: str = ""):
    if escalation is None:
        return
    escalation.outcome = outcome
    escalation.closed_at = now
    escalation.closed_by_name = actor.name[:150]
    escalation.outcome_tier = tier
    escalation.outcome_note = note[:1000]
    escalation.seconds_at_tier = _seconds(escalation.created_at, now)
    escalation.updated_at = now
    escalation.save(
        update_fields=[
            "outcome",
            "closed_at",
            "closed_by_name",
            "outcome_tier",
            "outcome_note",
            "seconds_at_tier",
            "updated_at",
        ]
    )


def _notice_text(inquiry: Inquiry, actor: Actor) -> tuple[str, object]:
    template = template_for(NOTICE_TEMPLATE, inquiry.customer.preferred_language or "en")
    if template is not None:
        return "", template
    with translation.override(inquiry.customer.preferred_language or "en"):
        return (
            _(
                "A senior colleague is now looking after your inquiry %(reference)s and will be in touch "
                "with you shortly."
            )
            % {"reference": inquiry.reference},
            None,
        )


def escalate(
    *,
    actor: Actor,
    inquiry: Inquiry,
    reason: str,
    tried: str = "",
    reason_text: str = "",
    to_tier: int | None = None,
    to_user=None,
    specialty: str = "",
    skip_reason: str = "",
    tell_customer: bool = False,
    expected_version: int | None = None,
) -> Escalation:
    """Send the inquiry up: to the next tier's queue, or ``to_tier`` (skipping a tier needs
    ``skip_reason``), or to ``to_user`` at that tier. A specialist escalation carries the
    specialty from the category unless one is chosen. ``tell_customer`` sends the customer the
    "Escalation notice" template in their language, from the actor, before the move."""
    actor = as_actor(actor)
    require(actor, perms.ESCALATE)
    if reason not in MANUAL_REASONS:
        raise InvalidInput(field_errors={"reason": [_("Choose why it needs a senior colleague.")]})
    tried = clean_text(tried, "tried", 4000, required=True)
    reason_text = clean_text(reason_text, "reason_text", 1000, required=reason == Reason.OTHER)
    skip_reason = clean_text(skip_reason, "skip_reason", 1000)
    with transaction.atomic():
        inquiry = lock(inquiry)
        return _escalate(
            actor=actor,
            inquiry=inquiry,
            kind=Kind.MANUAL,
            reason=reason,
            reason_text=reason_text,
            tried=tried,
            to_tier=to_tier,
            to_user=to_user,
            specialty=specialty,
            skip_reason=skip_reason,
            tell_customer=tell_customer,
            expected_version=expected_version,
        )


def _escalate(
    *,
    actor: Actor,
    inquiry: Inquiry,
    kind: str,
    reason: str,
    reason_text: str = "",
    tried: str = "",
    to_tier: int | None = None,
    to_user=None,
    specialty: str = "",
    skip_reason: str = "",
    tell_customer: bool = False,
    expected_version: int | None = None,
    rule: EscalationRule | None = None,
) -> Escalation:
    """The move itself, on a locked inquiry (manual and automatic escalations share it)."""
    _check_version(inquiry, expected_version)
    require_workable(actor, inquiry)
    _require_active(inquiry)
    current = inquiry.tier
    following = Tier.next_above(current)
    if following is None:
        raise InvalidInput(_("This inquiry is already at the top of the ladder."))
    if to_tier in (None, ""):
        to_tier = following.value
    try:
        to_tier = int(to_tier)
    except (TypeError, ValueError):
        to_tier = 0
    if to_tier not in Tier.values or to_tier <= current:
        raise InvalidInput(field_errors={"to_tier": [_("Choose a tier above the inquiry's own.")]})
    if to_tier > following and not skip_reason:
        raise InvalidInput(
            field_errors={
                "skip_reason": [
                    _("Going past the %(tier)s tier needs a reason.") % {"tier": TIER_LABELS[following.value]}
                ]
            }
        )
    if to_tier == following:
        skip_reason = ""
    specialty = _specialty_for(inquiry, to_tier, specialty, required=kind == Kind.MANUAL)
    _check_person(to_user, tier=to_tier, specialty=specialty)
    if tell_customer:
        body, template = _notice_text(inquiry, actor)
        reply_send(actor=actor, inquiry=inquiry, body=body, template=template)
        inquiry = lock(inquiry)
    now = clock.now()
    previous = _open_escalation(inquiry)
    _close(previous, outcome=Outcome.ESCALATED_FURTHER, actor=actor, now=now, tier=to_tier)
    escalation = Escalation.objects.create(
        inquiry=inquiry,
        kind=kind,
        from_tier=current,
        to_tier=to_tier,
        specialty=specialty,
        from_user=actor.user,
        from_assignee_id=inquiry.assignee_id,
        to_user=to_user,
        actor_kind=actor.kind,
        actor_name=actor.name[:150],
        reason=reason,
        reason_text=reason_text,
        tried=tried,
        skip_reason=skip_reason,
        rule=rule,
        customer_told=tell_customer,
        created_at=now,
        from_tier_seconds=_seconds(inquiry.tier_changed_at or inquiry.created_at, now),
        updated_at=now,
    )
    old_assignee = inquiry.assignee
    inquiry.tier = to_tier
    inquiry.assignee = to_user
    inquiry.tier_changed_at = now
    fields = ["tier", "assignee", "tier_changed_at"]
    if specialty:
        inquiry.specialty_needed = specialty
        fields.append("specialty_needed")
    inquiry_events.tier_moved(
        inquiry,
        actor,
        EventType.ESCALATED,
        escalation=escalation.pk,
        from_tier=current,
        to_tier=to_tier,
        to_user=_name(to_user),
        from_assignee=_name(old_assignee),
        specialty=specialty,
        reason=reason,
        reason_text=reason_text,
        tried=tried,
        skip_reason=skip_reason,
        rule=rule.name if rule else "",
        customer_told=tell_customer,
    )
    save(inquiry, fields)
    transaction.on_commit(lambda: notify.enqueue_escalation_notice(escalation.pk))
    return escalation


def _require_reviewer(actor: Actor, inquiry: Inquiry) -> None:
    """The review actions: a tier that reviews, working at or above the inquiry's tier."""
    require(actor, perms.REVIEW)
    require_workable(actor, inquiry)


def _lock_for_review(actor: Actor, inquiry: Inquiry, expected_version: int | None) -> tuple[Inquiry, Escalation | None]:
    """Lock the inquiry (then its open escalation) for a move down. Who may act is checked
    before what the inquiry's state allows, so a refusal never tells an outsider more."""
    inquiry = lock(inquiry)
    _require_reviewer(actor, inquiry)
    _check_version(inquiry, expected_version)
    _require_active(inquiry)
    return inquiry, _open_escalation(inquiry)


def take_over(*, actor: Actor, inquiry: Inquiry, expected_version: int | None = None) -> Inquiry:
    """A reviewer takes the inquiry at its tier as their own. First one wins; the other is told
    who has it."""
    actor = as_actor(actor)
    require(actor, perms.REVIEW)
    if actor.user is None:
        raise PermissionDenied(_("Only a person can take an inquiry over."))
    with transaction.atomic():
        inquiry = lock(inquiry)
        _require_reviewer(actor, inquiry)
        _require_active(inquiry)
        if inquiry.assignee_id == actor.user.pk:
            return inquiry
        if inquiry.assignee_id is not None and (inquiry.assignee.tier or 0) >= inquiry.tier:
            raise Conflict(_("%(name)s has already taken this inquiry over.") % {"name": _name(inquiry.assignee)})
        _check_version(inquiry, expected_version)
        now = clock.now()
        escalation = _open_escalation(inquiry)
        if escalation is not None:
            escalation.taken_by = actor.user
            escalation.taken_at = now
            escalation.updated_at = now
            escalation.save(update_fields=["taken_by", "taken_at", "updated_at"])
        old = _name(inquiry.assignee)
        inquiry.assignee = actor.user
        inquiry_events.tier_moved(
            inquiry,
            actor,
            EventType.TAKEN_OVER,
            escalation=escalation.pk if escalation else None,
            tier=inquiry.tier,
            old=old,
            new=_name(actor.user),
        )
        save(inquiry, ["assignee"])
    return inquiry


def _move_down(
    *,
    actor: Actor,
    inquiry: Inquiry,
    escalation: Escalation | None,
    outcome: str,
    event_type: str,
    to_tier: int,
    to_user,
    note: str,
    specialty: str = "",
    coached=None,
    coaching_note: str = "",
) -> Escalation | None:
    """The move itself, on an inquiry locked by ``_lock_for_review``: close the open escalation
    with its outcome (and the coaching note), move the tier and the assignee, record the event."""
    now = clock.now()
    from_tier = inquiry.tier
    if escalation is not None:
        if coaching_note:
            escalation.coaching_note = coaching_note
            escalation.coached_user = coached
            escalation.coach = actor.user
            escalation.save(update_fields=["coaching_note", "coached_user", "coach"])
        _close(escalation, outcome=outcome, actor=actor, now=now, tier=to_tier, note=note)
    old_assignee = inquiry.assignee
    inquiry.tier = to_tier
    inquiry.assignee = to_user
    inquiry.tier_changed_at = now
    fields = ["tier", "assignee", "tier_changed_at"]
    if specialty:
        inquiry.specialty_needed = specialty
        fields.append("specialty_needed")
    inquiry_events.tier_moved(
        inquiry,
        actor,
        event_type,
        escalation=escalation.pk if escalation else None,
        from_tier=from_tier,
        to_tier=to_tier,
        to_user=_name(to_user),
        from_assignee=_name(old_assignee),
        specialty=specialty,
        note=note,
        coached=_name(coached) if coaching_note else "",
    )
    save(inquiry, fields)
    return escalation


def _escalator(escalation: Escalation):
    """Who sent it up: the person who escalated — for a rule's move, whoever had it then."""
    return escalation.from_user or escalation.from_assignee


def _if_still_at(user, tier: int):
    """``user`` when they still work at exactly ``tier`` (else the inquiry goes to the tier's queue)."""
    return user if user is not None and user.is_active and user.tier == tier else None


def _back_down(
    *, actor: Actor, inquiry: Inquiry, escalation: Escalation, outcome: str, event_type: str, **kwargs
) -> Escalation:
    """Back to the tier the open escalation came from, and to the person who escalated when
    they still work there."""
    to_tier = escalation.from_tier
    return _move_down(
        actor=actor,
        inquiry=inquiry,
        escalation=escalation,
        outcome=outcome,
        event_type=event_type,
        to_tier=to_tier,
        to_user=_if_still_at(_escalator(escalation), to_tier),
        specialty=_specialty_for(inquiry, to_tier, "", required=False),
        **kwargs,
    )


def return_with_coaching(
    *, actor: Actor, inquiry: Inquiry, coaching_note: str, expected_version: int | None = None
) -> Escalation:
    """Send the inquiry back to the tier it came from (to the person who escalated, when they
    still work there) with a coaching note for them, which only they and those above them can
    read (``selectors.may_read_coaching``)."""
    actor = as_actor(actor)
    require(actor, perms.REVIEW)
    coaching_note = clean_text(coaching_note, "coaching_note", 4000, required=True)
    with transaction.atomic():
        inquiry, escalation = _lock_for_review(actor, inquiry, expected_version)
        if escalation is None:
            raise InvalidInput(_("There is no open escalation to return: reassign it instead."))
        return _back_down(
            actor=actor,
            inquiry=inquiry,
            escalation=escalation,
            outcome=Outcome.RETURNED,
            event_type=EventType.RETURNED,
            note="",
            coached=_escalator(escalation),
            coaching_note=coaching_note,
        )


def reassign(
    *,
    actor: Actor,
    inquiry: Inquiry,
    to_tier: int,
    to_user=None,
    specialty: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Escalation | None:
    """Hand the inquiry to a lower tier — a specialist (by specialty) or a senior rep — or a
    named person there."""
    actor = as_actor(actor)
    require(actor, perms.REVIEW)
    note = clean_text(note, "note", 1000)
    try:
        to_tier = int(to_tier)
    except (TypeError, ValueError):
        to_tier = 0
    with transaction.atomic():
        inquiry, escalation = _lock_for_review(actor, inquiry, expected_version)
        if to_tier not in Tier.values or to_tier >= inquiry.tier:
            raise InvalidInput(field_errors={"to_tier": [_("Choose a tier below the inquiry's own.")]})
        specialty = _specialty_for(inquiry, to_tier, specialty)
        _check_person(to_user, tier=to_tier, specialty=specialty)
        return _move_down(
            actor=actor,
            inquiry=inquiry,
            escalation=escalation,
            outcome=Outcome.REASSIGNED,
            event_type=EventType.REASSIGNED,
            to_tier=to_tier,
            to_user=to_user,
            note=note,
            specialty=specialty,
        )


def de_escalate(
    *, actor: Actor, inquiry: Inquiry, note: str = "", expected_version: int | None = None
) -> Escalation | None:
    """The higher tier has done its part: back to the tier (and person) it came from — to the
    rep tier when no escalation brought it here (it was handed here)."""
    actor = as_actor(actor)
    require(actor, perms.REVIEW)
    note = clean_text(note, "note", 1000)
    with transaction.atomic():
        inquiry, escalation = _lock_for_review(actor, inquiry, expected_version)
        if escalation is not None:
            return _back_down(
                actor=actor,
                inquiry=inquiry,
                escalation=escalation,
                outcome=Outcome.DE_ESCALATED,
                event_type=EventType.DE_ESCALATED,
                note=note,
            )
        if inquiry.tier == Tier.REP:
            raise InvalidInput(_("This inquiry is already at the first tier."))
        return _move_down(
            actor=actor,
            inquiry=inquiry,
            escalation=None,
            outcome=Outcome.DE_ESCALATED,
            event_type=EventType.DE_ESCALATED,
            to_tier=Tier.REP,
            to_user=None,
            note=note,
        )


def staff_at(tier: int, specialty: str = ""):
    """Active staff at exactly ``tier`` (covering ``specialty`` for specialists): whom an
    escalation may name."""
    users = get_user_model().objects.filter(is_active=True, tier=tier)
    if tier == Tier.SPECIALIST and specialty:
        users = users.filter(specialties__specialty=specialty)
    return users.order_by("username")
