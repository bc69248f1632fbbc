"""Telling staff that an inquiry reached them: one email per escalation (to the named person,
or everyone at the tier — and, for an automatic one, the supervisors too), and one per rule
firing at the top of the ladder (to the supervisors). These mails carry the inquiry's reference
and a link; the same people also get an in-app notification (``fulfillment.notifications``, keyed
``escalation:<id>`` / ``firing:<id>`` so a repeat makes no second one).

Each send is claimed first by setting ``notified_at`` in an atomic UPDATE (so a task delivered
twice sends once) and released when sending fails (so the retry sends it). The task is asked for
after commit; when the broker cannot be reached the move stands and the every-minute sweep
(``unsent``) asks again, so a broker outage delays a notice but loses none.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from fulfillment import clock, notifications
from fulfillment.tiers import Tier
from inquiries.models import FollowUpCall

from ..enums import Kind, Trigger
from ..models import Escalation, RuleFiring

log = logging.getLogger(__name__)

ESCALATION_TASK = "escalation.tasks.notify_escalation"
FIRING_TASK = "escalation.tasks.notify_firing"
#: The sweep asks again for notices still unsent this long after the move (the task asked for
#: on commit normally sends within seconds) and gives up on those older than a day.
RETRY_AFTER = dt.timedelta(minutes=2)
GIVE_UP_AFTER = dt.timedelta(days=1)


def _staff(tier: int, specialty: str = ""):
    """Active staff with an email at ``tier``; for specialists, those covering ``specialty`` —
    or, when nobody covers it, every specialist (an escalation must reach someone)."""
    users = get_user_model().objects.filter(is_active=True, tier=tier).exclude(email="").order_by("pk")
    if tier == Tier.SPECIALIST and specialty:
        covering = list(users.filter(specialties__specialty=specialty))
        if covering:
            return covering
    return list(users)


def _enqueue(task: str, pk: int) -> None:
    try:
        current_app.send_task(task, args=[pk])
    except Exception as exc:  # the broker may be down: the sweep asks again (``unsent``)
        log.warning("%s %s: could not reach the broker (%r); the sweep will ask again", task, pk, exc)


def enqueue_escalation_notice(escalation_id: int) -> None:
    """Ask a worker to send an escalation's notice (called on commit; never raises)."""
    _enqueue(ESCALATION_TASK, escalation_id)


def enqueue_firing_notice(firing_id: int) -> None:
    """Ask a worker to send a top-of-ladder firing's notice (called on commit; never raises)."""
    _enqueue(FIRING_TASK, firing_id)


def unsent(*, now: dt.datetime, limit: int = 200) -> tuple[list[int], list[int]]:
    """(escalation ids, firing ids) whose notice is still unsent ``RETRY_AFTER`` after the move
    and no older than ``GIVE_UP_AFTER``: the every-minute sweep asks for them again."""
    since, until = now - GIVE_UP_AFTER, now - RETRY_AFTER
    escalations = Escalation.objects.filter(
        notified_at__isnull=True, created_at__gte=since, created_at__lte=until
    ).order_by("created_at", "id")
    firings = RuleFiring.objects.filter(
        moved=False, notified_at__isnull=True, fired_at__gte=since, fired_at__lte=until
    ).order_by("fired_at", "id")
    return (
        list(escalations.values_list("id", flat=True)[:limit]),
        list(firings.values_list("id", flat=True)[:limit]),
    )


def recipients(escalation: Escalation) -> list:
    """Whom an escalation notifies: the named person, else the whole tier (by specialty); an
    automatic one also tells the supervisors."""
    if escalation.to_user_id and escalation.to_user.email:
        people = [escalation.to_user]
    else:
        people = _staff(escalation.to_tier, escalation.specialty)
    if escalation.kind == Kind.AUTOMATIC:
        people += _staff(Tier.SUPERVISOR)
    seen, unique = set(), []
    for user in people:
        if user.pk not in seen:
            seen.add(user.pk)
            unique.append(user)
    return unique


def _link(inquiry_id: int) -> str:
    base = getattr(settings, "FD_SITE_URL", "").rstrip("/")
    return f"{base}{reverse('inquiries:detail', args=[inquiry_id])}"


def _send(users, subject_and_body, *, key: str, inquiry_id: int) -> int:
    """Mail each of ``users`` and give each the same notice in the app (title = the subject,
    in their language; link = the inquiry page, site-relative)."""
    url = reverse("inquiries:detail", args=[inquiry_id])
    sent = 0
    for user in users:
        with translation.override(user.language or "en"):
            subject, body = subject_and_body()
        notifications.notify(recipients=[user], key=key, title=subject, url=url)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        sent += 1
    return sent


def send_escalation_notice(escalation_id: int) -> int:
    if not Escalation.objects.filter(pk=escalation_id, notified_at__isnull=True).update(notified_at=clock.now()):
        return 0  # sent already (or gone)
    escalation = Escalation.objects.select_related("inquiry", "to_user", "rule").get(pk=escalation_id)
    inquiry = escalation.inquiry

    def words():
        subject = _("[%(reference)s] escalated to %(tier)s: %(subject)s") % {
            "reference": inquiry.reference,
            "tier": Tier(escalation.to_tier).label,
            "subject": inquiry.subject,
        }
        why = escalation.reason_text or escalation.get_reason_display()
        body = _("%(who)s escalated %(reference)s to the %(tier)s tier.\n\nWhy: %(why)s\n\n%(link)s") % {
            "who": escalation.actor_name,
            "reference": inquiry.reference,
            "tier": Tier(escalation.to_tier).label,
            "why": why,
            "link": _link(inquiry.pk),
        }
        return subject, body

    try:
        return _send(recipients(escalation), words, key=f"escalation:{escalation.pk}", inquiry_id=inquiry.pk)
    except Exception:
        Escalation.objects.filter(pk=escalation_id).update(notified_at=None)
        raise


def send_firing_notice(firing_id: int) -> int:
    """A rule fired on an inquiry already at its highest tier, or on a missed follow-up call (a
    resolved inquiry: nothing moves): the supervisors hear of it."""
    if not RuleFiring.objects.filter(pk=firing_id, notified_at__isnull=True).update(notified_at=clock.now()):
        return 0
    firing = RuleFiring.objects.select_related("inquiry__customer", "rule").get(pk=firing_id)
    inquiry = firing.inquiry
    missed_call = None
    if firing.rule.trigger == Trigger.FOLLOW_UP_MISSED:  # the inquiry is resolved: say which call
        missed_call = FollowUpCall.objects.select_related("assignee").filter(pk=int(firing.key.split(":")[1])).first()

    def words():
        subject = _("[%(reference)s] %(rule)s: %(subject)s") % {
            "reference": inquiry.reference,
            "rule": firing.rule.name,
            "subject": inquiry.subject,
        }
        if missed_call is not None:
            body = _(
                "Rule “%(rule)s” fired on %(reference)s: the follow-up call to %(customer)s was not made by "
                "%(by)s (caller: %(caller)s). It can still be made and logged from the calls-due page.\n\n%(link)s"
            ) % {
                "rule": firing.rule.name,
                "reference": inquiry.reference,
                "customer": inquiry.customer.name,
                "by": date_format(localtime(missed_call.window_ends_at), "SHORT_DATETIME_FORMAT"),
                "caller": missed_call.assignee.get_username() if missed_call.assignee_id else "—",
                "link": _link(inquiry.pk),
            }
            return subject, body
        body = _("Rule “%(rule)s” fired on %(reference)s, already at the %(tier)s tier.\n\n%(link)s") % {
            "rule": firing.rule.name,
            "reference": inquiry.reference,
            "tier": Tier(inquiry.tier).label,
            "link": _link(inquiry.pk),
        }
        return subject, body

    try:
        return _send(_staff(Tier.SUPERVISOR), words, key=f"firing:{firing.pk}", inquiry_id=inquiry.pk)
    except Exception:
        RuleFiring.objects.filter(pk=firing_id).update(notified_at=None)
        raise
