"""Business-time arithmetic on a calendar: weekday opening hours in a time zone, and holidays.

Pure Python, no database: the service-target clocks (``targets.clocks``) and the admin's
validation use it. Business time is *real elapsed time while the calendar is open*: an hour of
business time on the night the clocks go forward is still sixty real minutes.

Two operations, and the promise between them (property-tested):

* ``measure(start, end)`` — the business time between two instants;
* ``add(start, amount)`` — the first instant at which ``amount`` of business time has passed
  since ``start``. ``measure(start, add(start, d)) == d`` for every ``d`` ≥ 0, exactly.

A deadline that uses up an open period exactly ends at its closing time (17:00 Friday), not at
the next opening (09:00 Monday).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC
DAY_MINUTES = 24 * 60
ZERO = dt.timedelta(0)
#: How far ``add`` looks ahead before deciding the calendar is never open.
HORIZON_DAYS = 5 * 366


class CalendarError(ValueError):
    """The calendar's definition is not usable (overlapping hours, an unknown time zone)."""


def minutes_of(value: dt.time) -> int:
    return value.hour * 60 + value.minute


def closing_minutes(closes: dt.time) -> int:
    """A closing time of 00:00 means midnight at the end of the day."""
    minutes = minutes_of(closes)
    return DAY_MINUTES if minutes == 0 else minutes


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CalendarError(f"unknown time zone {name!r}") from None


def check_hours(hours: Iterable[tuple[int, dt.time, dt.time]]) -> dict[int, list[tuple[int, int]]]:
    """Opening hours by weekday (0 = Monday) as sorted minute ranges; refuses overlaps."""
    week: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
    for weekday, opens, closes in hours:
        if not 0 <= weekday <= 6:
            raise CalendarError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
        start, end = minutes_of(opens), closing_minutes(closes)
        if end <= start:
            raise CalendarError(f"{opens:%H:%M}–{closes:%H:%M}: the closing time must be after the opening time")
        week[weekday].append((start, end))
    for weekday, ranges in week.items():
        ranges.sort()
        for (_s1, e1), (s2, _e2) in itertools.pairwise(ranges):
            if s2 < e1:
                raise CalendarError(f"weekday {weekday}: opening hours overlap")
    return week


class BusinessCalendar:
    """Opening hours per weekday in ``time_zone``, closed on ``holidays`` (local dates)."""

    def __init__(
        self,
        *,
        time_zone_name: str,
        hours: Iterable[tuple[int, dt.time, dt.time]],
        holidays: Iterable[dt.date] = (),
    ) -> None:
        self.time_zone_name = time_zone_name
        self.tz = time_zone(time_zone_name)
        self._week = check_hours(hours)
        self._holidays = frozenset(holidays)
        self._days: dict[dt.date, tuple[tuple[dt.datetime, dt.datetime], ...]] = {}

    @classmethod
    def always_open(cls, time_zone_name: str = "UTC") -> BusinessCalendar:
        return cls(time_zone_name=time_zone_name, hours=[(d, dt.time(0), dt.time(0)) for d in range(7)])

    @property
    def is_ever_open(self) -> bool:
        return any(self._week.values())

    def open_periods(self, day: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
        """The open periods of one local date, as UTC instants (cached)."""
        periods = self._days.get(day)
        if periods is None:
            periods = ()
            if day not in self._holidays:
                found = []
                for start, end in self._week[day.weekday()]:
                    opens = self._instant(day, start)
                    closes = self._instant(day, end)
                    if closes > opens:  # hours inside a daylight-saving gap collapse
                        found.append((opens, closes))
                periods = tuple(found)
            self._days[day] = periods
        return periods

    def _instant(self, day: dt.date, minutes: int) -> dt.datetime:
        """The instant a local wall-clock time names. A wall time the clocks skip (02:30 on the
        night they go forward) names the instant they jumped, so a later wall time never names
        an earlier instant and the periods of a day cannot overlap."""
        if minutes == DAY_MINUTES:
            day, minutes = day + dt.timedelta(days=1), 0
        local = dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=self.tz)
        at = local.astimezone(UTC)
        if at.astimezone(self.tz).replace(tzinfo=None) != local.replace(tzinfo=None):  # skipped: clocks jumped
            at = self._jump(before=local.replace(fold=1).astimezone(UTC), after=at)
        return at

    def _jump(self, *, before: dt.datetime, after: dt.datetime) -> dt.datetime:
        """The first instant with ``after``'s UTC offset (time zones change on whole seconds)."""
        offset = after.astimezone(self.tz).utcoffset()
        low, high = int(before.timestamp()), int(after.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if dt.datetime.fromtimestamp(middle, UTC).astimezone(self.tz).utcoffset() == offset:
                high = middle
            else:
                low = middle
        return dt.datetime.fromtimestamp(high, UTC)

    def local_date(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.tz).date()

    def is_open(self, at: dt.datetime) -> bool:
        return any(opens <= at < closes for opens, closes in self.open_periods(self.local_date(at)))

    def periods_between(self, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """The open periods inside [start, end), clipped."""
        if end <= start:
            return
        day = self.local_date(start) - dt.timedelta(days=1)  # a period may begin the local day before
        last = self.local_date(end)
        while day <= last:
            for opens, closes in self.open_periods(day):
                if closes <= start:
                    continue
                if opens >= end:
                    return
                yield max(opens, start), min(closes, end)
            day += dt.timedelta(days=1)

    def measure(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Business time between two instants (zero when ``end`` is not after ``start``)."""
        total = ZERO
        for opens, closes in self.periods_between(start, end):
            total += closes - opens
        return total

    def add(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime | None:
        """The instant when ``amount`` of business time has passed since ``start``.

        ``None`` when the calendar is never open within the horizon (no deadline can be given).
        """
        if amount <= ZERO:
            return start
        if not self.is_ever_open:
            return None
        left = amount
        day = self.local_date(start) - dt.timedelta(days=1)
        for _ in range(HORIZON_DAYS):
            for opens, closes in self.open_periods(day):
                if closes <= start:
                    continue
                begin = max(opens, start)
                span = closes - begin
                if span >= left:
                    return begin + left
                left -= span
            day += dt.timedelta(days=1)
        return None

    def next_open(self, at: dt.datetime) -> dt.datetime | None:
        """``at`` itself when open, else the next opening."""
        day = self.local_date(at) - dt.timedelta(days=1)
        for _ in range(HORIZON_DAYS):
            for opens, closes in self.open_periods(day):
                if closes > at:
                    return max(opens, at)
            day += dt.timedelta(days=1)
        return None
