"""Last week's report by email, on Monday morning.

From ``FD_WEEKLY_REPORT_HOUR`` on Monday (the desk's time zone) each supervisor, senior rep and
specialist is told last week's headline figures for what the dashboard shows them (supervisors:
every tier; the others: their own tier), in their own language, in the app and by email, with a
link to the printable weekly report. Beat runs ``send`` every hour: a person is told once per
week (the notice's key ``weekly-report:<YYYY-Www>``), and whoever an earlier run missed (the
mail server was down, they joined on Wednesday) is told by a later one in the same week. Two
runners at once take each person's row lock in turn, so nobody gets it twice.

The figures are the dashboard's metrics (``reports.metrics``), read from the rollups the beat
task keeps when they are fresh (the common views include last week for every tier).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.models import Notification, User
from fulfillment.notifications import tell
from fulfillment.tiers import Tier

from . import rollups
from .forms import iso_week
from .metrics import METRICS, Filters, Table, percent
from .permissions import locked_tier

log = logging.getLogger(__name__)

#: The metrics the mail summarises (the printable report has them all).
HEADLINES = (
    *("backlog", "targets", "first_contact", "escalations"),
    *("follow_ups", "expedites", "satisfaction", "hot_spots"),
)
HOT_SPOTS_SHOWN = 3


def send_hour() -> int | None:
    """The local hour on Monday from which last week's report goes out; None: switched off."""
    value = str(settings.FD_WEEKLY_REPORT_HOUR).strip().lower()
    return None if value == "off" else int(value)


def due_week(now: dt.datetime) -> tuple[dt.date, dt.date] | None:
    """The whole week (Monday, Sunday) whose report is due at ``now``: last week, once this
    week's Monday has reached the sending hour; None before that, or when switched off."""
    hour = send_hour()
    if hour is None:
        return None
    local = timezone.localtime(now)
    monday = local.date() - dt.timedelta(days=local.weekday())
    if local < timezone.make_aware(dt.datetime.combine(monday, dt.time(hour))):
        return None
    return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)


def key_for(week: tuple[dt.date, dt.date]) -> str:
    return f"weekly-report:{iso_week(week[0])}"


def recipients(week: tuple[dt.date, dt.date]) -> list[User]:
    """Active staff who may read the reports, want the report (``User.weekly_report``, on the
    notifications page) and were not told about ``week`` yet."""
    told = Notification.objects.filter(key=key_for(week)).values("recipient_id")
    return list(
        User.objects.filter(is_active=True, tier__gte=Tier.SENIOR_REP, weekly_report=True)
        .exclude(pk__in=told)
        .order_by("pk")
        .only("pk", "username", "email", "language", "tier", "is_active", "first_name", "last_name")
    )


def _total(table: Table, column: int) -> int:
    return sum(row[column] or 0 for row in table.rows)


def _percent(part: int, whole: int) -> str:
    """The dashboard's percentage (one decimal), as text; "—" when ``whole`` is 0."""
    value = percent(part, whole)
    return "—" if value is None else f"{value:.1f}"


def headlines(tables: dict[str, Table]) -> list[str]:
    """The summary's lines, in the active language; a line only where there is something to say
    (the open backlog always)."""
    lines = [_("Open now: %(count)d") % {"count": sum(sum(row[1:]) for row in tables["backlog"].rows)}]
    targets = tables["targets"]
    for total, on_time, words in (
        (1, 2, _("First responses on time: %(on_time)d of %(total)d (%(percent)s %%)")),
        (3, 4, _("Resolutions on time: %(on_time)d of %(total)d (%(percent)s %%)")),
    ):
        whole, part = _total(targets, total), _total(targets, on_time)
        if whole:
            lines.append(words % {"on_time": part, "total": whole, "percent": _percent(part, whole)})
    for _label, resolved, first, _rate, reopened, _reopen_rate in tables["first_contact"].rows:
        lines.append(
            _("Resolved: %(resolved)d; at first contact: %(first)s %%; reopened: %(reopened)s %%")
            % {"resolved": resolved, "first": _percent(first, resolved), "reopened": _percent(reopened, resolved)}
        )
    escalated = _total(tables["escalations"], 2)
    if escalated:
        lines.append(_("Escalations: %(count)d") % {"count": escalated})
    follow_ups = tables["follow_ups"]
    due, done, missed = (_total(follow_ups, n) for n in (1, 2, 3))
    if due or done or missed:
        lines.append(
            _("Follow-up calls: %(due)d due, %(done)d done, %(missed)d missed")
            % {"due": due, "done": done, "missed": missed}
        )
    expedites = tables["expedites"]
    if expedites.rows:
        lines.append(
            _("Expedite promises: %(on_time)d kept, %(late)d late")
            % {"on_time": _total(expedites, 1), "late": _total(expedites, 2)}
        )
    ratings = tables["satisfaction"].rows
    count = sum(n for _score, n in ratings)
    if count:
        average = sum(score * n for score, n in ratings) / count
        lines.append(
            _("Satisfaction: %(average)s of 5 from %(count)d ratings") % {"average": f"{average:.2f}", "count": count}
        )
    spots = sorted(tables["hot_spots"].rows, key=lambda row: -row[1])[:HOT_SPOTS_SHOWN]
    if spots:
        lines.append(_("Hot spots: %(list)s") % {"list": ", ".join(f"{label} ({n})" for label, n in spots)})
    return lines


def words_for(user: User, week: tuple[dt.date, dt.date]):
    """The (title, body) of ``user``'s report, made in the language ``tell`` makes it in."""
    tier = locked_tier(Actor.for_user(user))
    filters = Filters(start=week[0], end=week[1], tier=tier)

    def words() -> tuple[str, str]:
        with rollups.reading():
            tables = {key: METRICS[key].compute(filters) for key in HEADLINES}
        scope = Tier(tier).label if tier else _("All tiers")
        dates = _("Monday %(start)s to Sunday %(end)s") % {"start": week[0].isoformat(), "end": week[1].isoformat()}
        title = _("Weekly report %(week)s") % {"week": iso_week(week[0])}
        lines = [f"{dates} · {scope}", "", *(f"- {line}" for line in headlines(tables))]
        return f"{title} · {scope}", "\n".join(lines)

    return words


def url_for(week: tuple[dt.date, dt.date]) -> str:
    return f"{reverse('reports:weekly')}?{urlencode({'week': iso_week(week[0])})}"


def send(*, now: dt.datetime | None = None) -> int:
    """Tell everyone due last week's report who was not told yet; returns how many were told.
    Each person in a transaction of their own, holding their row: a failure (the mail server)
    leaves them for the next run and does not stop the others."""
    week = due_week(now or clock.now())
    if week is None:
        return 0
    told = 0
    for user in recipients(week):
        try:
            with transaction.atomic():
                User.objects.select_for_update().filter(pk=user.pk).first()
                told += tell(users=[user], key=key_for(week), words=words_for(user, week), url=url_for(week))
        except OSError:  # the mail server: the notice rolled back with it, the next run tries again
            log.warning("weekly report for %s not sent: mail server unreachable", user.username, exc_info=True)
    return told
