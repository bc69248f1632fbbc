"""Reminders and customer updates (docs/reminders.md): the sweep that turns what the clock made
due into scheduled jobs, and the work each job does (the handlers in ``inquiries.jobs.reminders``
only call these).

- callback promises: a reminder to the callback's owner before it is due;
- expedited orders: a reminder to the open hand-offs' owners and the rep, every few hours until
  the order ships (the chain is started by ``orders.services.order_request_expedite``);
- orders at risk: past their ship-by or deliver-by date, flagged on the order; the rep is told
  and a customer update proposed on each linked inquiry, or sent automatically;
- customers who heard nothing: an active inquiry with no outbound message for a while; the rep is
  reminded (an update proposed), or a "still working on it" update goes out automatically;
- service targets at their warning share: the assignee is told.

Every job re-reads the thing it is about and does nothing when there is nothing to do any more.
Staff are told through ``fulfillment.notifications.tell`` (in the app and by mail, once per job
and person); timeline events are written here, under the inquiry's or the order's row lock.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from fulfillment import clock, scheduling
from fulfillment.actors import Actor
from fulfillment.models import Job, User
from fulfillment.notifications import tell
from orders.enums import NOT_DELIVERED, NOT_SHIPPED, HandoffState, RiskReason
from orders.models import Handoff, Order
from orders.services import work as order_work

from .. import events
from ..enums import ACTIVE, CallbackState, UpdateMode
from ..models import Callback, Inquiry, ResponseTemplate, SchedulePolicy
from ..targets.models import DueKind
from ._common import lock
from .compose import fill, greeting, placeholder_values, template_for
from .work import _reply_channel, reply_send

CALLBACK_REMINDER_JOB = "inquiries.callback_reminder"
EXPEDITE_REMINDER_JOB = order_work.EXPEDITE_REMINDER_JOB
ORDER_AT_RISK_JOB = order_work.ORDER_AT_RISK_JOB
QUIET_UPDATE_JOB = "inquiries.quiet_update"
TARGET_WARNING_JOB = "inquiries.target_warning"

#: The response templates of the automatic customer updates, one row per language (inquiries
#: migration 0015); the customer's preferred language, else English.
ORDER_DELAYED_TEMPLATE = "Order delayed"
STILL_WORKING_TEMPLATE = "Still working on it"

#: How many rows one sweep takes of each kind; the next sweep (a minute later) goes on.
BATCH = 500

SYSTEM = Actor.system("reminders")
AUTO_UPDATE = Actor.system("automatic update")


def _at(moment: dt.datetime) -> str:
    """A time for a person, in the desk's time zone and the active language's format."""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _inquiry_url(inquiry_id: int, template: ResponseTemplate | None = None) -> str:
    url = reverse("inquiries:detail", args=[inquiry_id])
    return f"{url}?template={template.pk}#reply" if template else url


def _order_url(order: Order) -> str:
    return reverse("orders:detail", args=[order.number]) if order.number else ""


def _names(users) -> list[str]:
    return [user.get_username() for user in users]


def _staff(users) -> list[User]:
    """Active users, each once, in a stable order."""
    seen: dict[int, User] = {}
    for user in users:
        if user is not None and user.is_active and user.pk not in seen:
            seen[user.pk] = user
    return sorted(seen.values(), key=lambda user: user.pk)


# --- callback promises ---------------------------------------------------------------------------


def callback_promised(callback: Callback) -> None:
    """Schedule the reminder ``callback_reminder_minutes`` before the callback is due (at once
    when that is past). Called in the transaction that records the promise."""
    minutes = SchedulePolicy.current().callback_reminder_minutes
    scheduling.schedule(
        kind=CALLBACK_REMINDER_JOB,
        key=f"callback:{callback.pk}:remind",
        due_at=max(callback.due_at - dt.timedelta(minutes=minutes), clock.now()),
        ref=f"inquiry:{callback.inquiry_id}",
        payload={"callback": callback.pk},
    )


def remind_callback(*, callback_id: int, key: str) -> int:
    """Tell the callback's owner (else the inquiry's assignee) that the customer is waiting for
    a call, if the promise is still pending. Returns how many were told."""
    callback = (
        Callback.objects.select_related("owner", "inquiry__assignee", "inquiry__customer")
        .filter(pk=callback_id)
        .first()
    )
    if callback is None or callback.state != CallbackState.PENDING:
        return 0
    inquiry = callback.inquiry
    people = _staff([callback.owner or inquiry.assignee])

    def words():
        title = _("Call %(customer)s back by %(time)s — %(reference)s") % {
            "customer": inquiry.customer.name,
            "time": _at(callback.due_at),
            "reference": inquiry.reference,
        }
        body = _("You promised to call %(customer)s back by %(time)s.") % {
            "customer": inquiry.customer.name,
            "time": _at(callback.due_at),
        }
        phone = callback.phone or inquiry.customer.phone
        if phone:
            body += "\n" + _("Phone: %(phone)s") % {"phone": phone}
        if callback.note:
            body += "\n" + _("Note: %(note)s") % {"note": callback.note}
        return title, body

    told = tell(users=people, key=key, words=words, url=_inquiry_url(inquiry.pk))
    if told:  # a repeated call with the same key told nobody: no second event
        with transaction.atomic():
            locked = lock(inquiry)
            events.callback_reminded(
                locked, SYSTEM, callback=callback.pk, due_at=callback.due_at.isoformat(), told=_names(people)
            )
    return told


# --- expedited orders ----------------------------------------------------------------------------


def _linked_active_inquiries(order_id: int) -> list[Inquiry]:
    """The active inquiries about the order, with their customer and assignee (one query)."""
    return list(
        Inquiry.objects.filter(status__in=ACTIVE, order_links__order_id=order_id)
        .select_related("customer", "assignee")
        .order_by("id")
    )


def _open_handoff_owners(order_id: int) -> list[User]:
    """The owners of the order's open department hand-offs (one without an owner is skipped)."""
    handoffs = Handoff.objects.filter(
        order_id=order_id, state__in=(HandoffState.OPEN, HandoffState.IN_PROGRESS), owner__isnull=False
    ).select_related("owner")
    return [handoff.owner for handoff in handoffs]


def remind_expedite(*, order_id: int, n: int, requested_at: str, start: bool, key: str) -> int:
    """The ``n``-th reminder of an expedited order: tell the owners of its open hand-offs and the
    reps of its active inquiries, record it, and ask for the next one. Nothing (and no next one)
    once the order shipped (or was delivered, cancelled, returned), the expedite was cleared, or
    a newer request started its own chain. ``start``: only ask for the first reminder."""
    order = Order.objects.filter(pk=order_id).first()
    if (
        order is None
        or not order.expedite
        or order.status not in NOT_SHIPPED
        or (order.expedite_requested_at.isoformat() if order.expedite_requested_at else "") != requested_at
    ):
        return 0
    hours = SchedulePolicy.current().expedite_reminder_hours
    if hours <= 0:  # reminders switched off in the settings
        return 0
    next_at = clock.now() + dt.timedelta(hours=hours)
    if start:
        order_work.schedule_expedite_reminder(order, n=n + 1, due_at=next_at)
        return 0
    people = _staff(
        [*_open_handoff_owners(order.pk), *(inquiry.assignee for inquiry in _linked_active_inquiries(order.pk))]
    )

    def words():
        title = _("Expedited order %(number)s has not shipped yet") % {"number": order}
        body = _("%(number)s was asked to be expedited on %(time)s (%(reason)s) and has not shipped.") % {
            "number": order,
            "time": _at(order.expedite_requested_at),
            "reason": order.expedite_reason,
        }
        return title, body

    told = tell(users=people, key=key, words=words, url=_order_url(order))
    if told:  # a repeated call with the same key told nobody: no second event
        order_work.order_expedite_reminded(actor=SYSTEM, order=order, told=_names(people), n=n)
    order_work.schedule_expedite_reminder(order, n=n + 1, due_at=next_at)
    return told


# --- orders at risk ------------------------------------------------------------------------------


def _late_orders(reason: str, today: dt.date, limit: int) -> list[int]:
    """Orders late for ``reason`` on ``today`` and not yet flagged so, oldest date first: a range
    scan of the partial index on the date (order_open_ship_by_idx / order_open_deliver_by_idx)."""
    if reason == RiskReason.NOT_DELIVERED:
        rows = Order.objects.filter(status__in=NOT_DELIVERED, deliver_by__lt=today)
        date = "deliver_by"
    else:
        # past the deliver-by date too: that reason wins (``risk_now``)
        rows = Order.objects.filter(status__in=NOT_SHIPPED, ship_by__lt=today).filter(
            Q(deliver_by__isnull=True) | Q(deliver_by__gte=today)
        )
        date = "ship_by"
    rows = rows.filter(Q(risk_flagged_at__isnull=True) | ~Q(risk_reason=reason))
    return list(rows.order_by(date, "id").values_list("id", flat=True)[:limit])


def flag_late_orders(*, today: dt.date | None = None, limit: int = BATCH) -> int:
    """Flag up to ``limit`` orders per reason that passed their ship-by or deliver-by date (each
    in its own transaction, with its AT_RISK event and its ``order_at_risk`` job)."""
    today = today or clock.today()
    flagged = 0
    for reason in (RiskReason.NOT_DELIVERED, RiskReason.NOT_SHIPPED):
        for order_id in _late_orders(reason, today, limit):
            if order_work.order_flag_at_risk(actor=SYSTEM, order=order_id, reason=reason) is not None:
                flagged += 1
    return flagged


def _risk_words(order: Order):
    def words():
        if order.risk_reason == RiskReason.NOT_DELIVERED:
            title = _("Order %(number)s is at risk: not delivered by %(date)s") % {
                "number": order,
                "date": formats.date_format(order.deliver_by, "SHORT_DATE_FORMAT"),
            }
        else:
            title = _("Order %(number)s is at risk: not shipped by %(date)s") % {
                "number": order,
                "date": formats.date_format(order.ship_by, "SHORT_DATE_FORMAT"),
            }
        return title, _("Keep the customer informed: do not let them find out first.")

    return words


def order_at_risk(*, order_id: int, reason: str, key: str) -> int:
    """An order was flagged at risk: on each of its active inquiries, propose a customer update
    to the rep (REMIND) or send it (AUTO), per the settings; tell each rep. With no active inquiry
    about the order, tell the owners of its open hand-offs (no customer update: nobody is talking
    to the customer about it). Nothing once the flag is off or its reason changed."""
    order = Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None or not order.risk_flagged_at or order.risk_reason != reason:
        return 0
    mode = SchedulePolicy.current().at_risk_update
    inquiries = _linked_active_inquiries(order.pk)
    words = _risk_words(order)
    if not inquiries:
        return tell(users=_staff(_open_handoff_owners(order.pk)), key=key, words=words, url=_order_url(order))
    told = 0
    for inquiry in inquiries:
        template = template_for(ORDER_DELAYED_TEMPLATE, inquiry.customer.preferred_language or "en")
        url = _update(inquiry, mode, template, why="order_at_risk", values={"order_number": str(order)})
        told += tell(users=_staff([inquiry.assignee]), key=f"{key}:{inquiry.pk}", words=words, url=url)
    return told


# --- customer updates ----------------------------------------------------------------------------


def _may_send_automatically(inquiry: Inquiry) -> bool:
    """An automatic update goes only where it reaches the customer by itself (an email reply) and
    never gives an inquiry its first response: nobody has answered → the rep is asked instead."""
    return inquiry.first_response_at is not None and _reply_channel(inquiry) == "email"


def _update(inquiry: Inquiry, mode: str, template: ResponseTemplate | None, *, why: str, values: dict) -> str:
    """Propose (REMIND) or send (AUTO) a customer update on ``inquiry`` from ``template``, with
    the event that says so; returns the link for the rep's notice (the reply box, prefilled with
    the template, when an update is proposed)."""
    if template is None or mode == UpdateMode.OFF:
        return _inquiry_url(inquiry.pk)
    if mode == UpdateMode.AUTO and _may_send_automatically(inquiry):
        with transaction.atomic():
            text = _auto_text(inquiry, template, values)
            message = reply_send(actor=AUTO_UPDATE, inquiry=inquiry, body=text, template=template, frame=False)
            events.update_sent(lock(inquiry), AUTO_UPDATE, message, why=why, template=template.name)
        return _inquiry_url(inquiry.pk)
    with transaction.atomic():
        events.update_proposed(
            lock(inquiry), SYSTEM, why=why, template=template.name, told=_names(_staff([inquiry.assignee]))
        )
    return _inquiry_url(inquiry.pk, template)


def _auto_text(inquiry: Inquiry, template: ResponseTemplate, values: dict) -> str:
    """The automatic update in the customer's language: greeting, the template with its
    placeholders filled, and a closing from the team (no rep wrote it)."""
    filled = placeholder_values(inquiry, AUTO_UPDATE) | values
    text = fill(template.body, filled).strip()
    with translation.override(inquiry.customer.preferred_language or "en"):
        closing = _("Kind regards,\nCustomer fulfillment team")
    return f"{greeting(inquiry, filled)}\n\n{text}\n\n{closing}"


def _quiet_since(inquiry: Inquiry) -> dt.datetime:
    return inquiry.last_outbound_at or inquiry.created_at


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _not_scheduled_since(kind: str, field: str, *, strictly: bool = False) -> Exists:
    """No job of ``kind`` about the outer inquiry was created since its ``field`` (``strictly``:
    after it): the sweep skips what it already scheduled without building keys in SQL (the
    ``job_ref`` index); the keys still make a repeated schedule one job."""
    since = {("created_at__gt" if strictly else "created_at__gte"): OuterRef(field)}
    return ~Exists(
        Job.objects.filter(ref=Concat(Value("inquiry:"), Cast(OuterRef("pk"), CharField())), kind=kind, **since)
    )


def quiet_inquiries(*, now: dt.datetime, hours: int, limit: int = BATCH) -> list[Inquiry]:
    """Active inquiries whose customer has heard nothing for ``hours`` (no outbound message since
    it was opened or since the last one) and that have no update job for this silence yet,
    longest silent first: a walk of ``inquiry_quiet_idx``."""
    return list(
        Inquiry.objects.filter(status__in=ACTIVE)
        .annotate(quiet_since=Coalesce("last_outbound_at", "created_at"))
        .filter(quiet_since__lte=now - dt.timedelta(hours=hours))
        # strictly: the job of the previous silence may be as old as the update that ended it
        .filter(_not_scheduled_since(QUIET_UPDATE_JOB, "quiet_since", strictly=True))
        .order_by("quiet_since", "id")
        .only("id", "last_outbound_at", "created_at")[:limit]
    )


def schedule_quiet_updates(*, now: dt.datetime, limit: int = BATCH) -> int:
    policy = SchedulePolicy.current()
    if policy.quiet_hours <= 0 or policy.quiet_update == UpdateMode.OFF:
        return 0
    jobs = []
    for inquiry in quiet_inquiries(now=now, hours=policy.quiet_hours, limit=limit):
        since = _quiet_since(inquiry)
        jobs.append((f"quiet:{inquiry.pk}:{_epoch(since)}", {"inquiry": inquiry.pk, "since": since.isoformat()}))
    return _schedule_now(QUIET_UPDATE_JOB, jobs, now=now)


def _schedule_now(kind: str, jobs: list[tuple[str, dict]], *, now: dt.datetime) -> int:
    """Ask for the ``(key, payload)`` jobs of ``kind`` about inquiries, due at once; one
    transaction each, so a job already due is handed out as soon as it commits."""
    for key, payload in jobs:
        with transaction.atomic():
            scheduling.schedule(kind=kind, key=key, due_at=now, ref=f"inquiry:{payload['inquiry']}", payload=payload)
    return len(jobs)


def quiet_update(*, inquiry_id: int, since: str, key: str) -> int:
    """The customer of an active inquiry has heard nothing since ``since``: remind the assignee
    and propose the "still working on it" update (REMIND), or send it (AUTO; the reply ends the
    silence). Nothing when the inquiry is no longer active, a message went out meanwhile, or the
    settings turned it off. Unassigned: the update is proposed on the timeline, nobody is told."""
    inquiry = Inquiry.objects.select_related("customer", "assignee").filter(pk=inquiry_id).first()
    if inquiry is None or inquiry.status not in ACTIVE or _quiet_since(inquiry).isoformat() != since:
        return 0
    policy = SchedulePolicy.current()
    if policy.quiet_hours <= 0 or policy.quiet_update == UpdateMode.OFF:
        return 0
    template = template_for(STILL_WORKING_TEMPLATE, inquiry.customer.preferred_language or "en")
    url = _update(inquiry, policy.quiet_update, template, why="quiet", values={})

    def words():
        return (
            _("%(reference)s: the customer has heard nothing since %(time)s")
            % {
                "reference": inquiry.reference,
                "time": _at(_quiet_since(inquiry)),
            },
            _("Send them an update: the reply box offers one."),
        )

    return tell(users=_staff([inquiry.assignee]), key=key, words=words, url=url)


# --- service targets at their warning share ------------------------------------------------------


def warned_inquiries(*, now: dt.datetime, limit: int = BATCH) -> list[Inquiry]:
    """Assigned active inquiries past their warning instant and before their deadline, with no
    warning job since that instant, earliest warning first: a walk of ``inquiry_warn_sweep_idx``."""
    return list(
        Inquiry.objects.filter(status__in=ACTIVE, warn_at__lte=now, due_at__gt=now, assignee__isnull=False)
        .filter(_not_scheduled_since(TARGET_WARNING_JOB, "warn_at"))
        .order_by("warn_at", "id")
        .only("id", "due_kind", "due_at", "warn_at")[:limit]
    )


def schedule_target_warnings(*, now: dt.datetime, limit: int = BATCH) -> int:
    jobs = [
        (
            f"warn:{inquiry.pk}:{inquiry.due_kind}:{_epoch(inquiry.due_at)}",
            {"inquiry": inquiry.pk, "due_kind": inquiry.due_kind, "due_at": inquiry.due_at.isoformat()},
        )
        for inquiry in warned_inquiries(now=now, limit=limit)
    ]
    return _schedule_now(TARGET_WARNING_JOB, jobs, now=now)


def target_warning(*, inquiry_id: int, due_kind: str, due_at: str, key: str) -> int:
    """Tell the assignee that a service target has used its warning share, if the inquiry is
    still active, assigned, not yet past that deadline and the deadline has not moved."""
    inquiry = Inquiry.objects.select_related("assignee", "policy").filter(pk=inquiry_id).first()
    now = clock.now()
    if (
        inquiry is None
        or inquiry.status not in ACTIVE
        or inquiry.assignee_id is None
        or inquiry.due_at is None
        or inquiry.due_at <= now
        or inquiry.due_kind != due_kind
        or inquiry.due_at.isoformat() != due_at
    ):
        return 0
    people = _staff([inquiry.assignee])
    share = inquiry.policy.warn_percent if inquiry.policy_id else 75

    def words():
        title = _("%(reference)s: %(due_kind)s due at %(time)s, %(share)s %% of the time used") % {
            "reference": inquiry.reference,
            "due_kind": DueKind(due_kind).label if due_kind in DueKind.values else due_kind,
            "time": _at(inquiry.due_at),
            "share": share,
        }
        return title, _("Act before the deadline: a breach goes to the escalation rules.")

    told = tell(users=people, key=key, words=words, url=_inquiry_url(inquiry.pk))
    if told:  # a repeated call with the same key told nobody: no second event
        with transaction.atomic():
            events.target_warning(
                lock(inquiry), SYSTEM, due_kind=due_kind, due_at=inquiry.due_at.isoformat(), told=_names(people)
            )
    return told


# --- the sweep -----------------------------------------------------------------------------------


def sweep(*, now: dt.datetime | None = None) -> int:
    """Every minute (beat: ``inquiries.tasks.sweep_reminders``): flag orders that became late and
    schedule the customer-update and target-warning jobs the clock made due, at most ``BATCH`` of
    each. Keys make a repeated sweep (or two sweepers) add nothing. Returns how many it added."""
    now = now or clock.now()
    return (
        flag_late_orders(today=timezone.localdate(now))
        + schedule_quiet_updates(now=now)
        + schedule_target_warnings(now=now)
    )
