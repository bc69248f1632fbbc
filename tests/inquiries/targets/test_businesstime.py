"""Business time (docs/service-targets.md R1–R9): the pure arithmetic of a calendar, and the
promises between ``measure`` and ``add`` property-tested with hypothesis."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from inquiries.models import Holiday, OpeningHours
from inquiries.services import targets as target_service
from inquiries.targets.businesstime import BusinessCalendar, CalendarError, check_hours, time_zone

from .conftest import HOUR, MINUTE, OFFICE_HOURS, PROPERTIES, UTC, at, office

ZERO = dt.timedelta(0)
DAY = dt.timedelta(days=1)
MICROSECOND = dt.timedelta(microseconds=1)


# --- R1 a calendar: weekday hours in one time zone, and holidays ----------------------------------


def test_R1_a_calendar_is_weekday_hours_in_one_time_zone():
    kolkata = office("Asia/Kolkata")
    # Monday 10 March 2031, 09:00–17:00 IST (UTC+05:30) is 03:30–11:30 UTC.
    assert kolkata.open_periods(dt.date(2031, 3, 10)) == ((at(10, 3, 30), at(10, 11, 30)),)
    assert kolkata.open_periods(dt.date(2031, 3, 8)) == ()  # a Saturday: no hours
    assert kolkata.time_zone_name == "Asia/Kolkata"


def test_R1_the_default_calendar_is_standard_hours_shared_by_the_team(standard_hours, settings):
    assert (standard_hours.name, standard_hours.team, standard_hours.time_zone) == (
        "Standard hours",
        "Customer fulfillment",
        settings.TIME_ZONE,
    )
    rows = list(standard_hours.hours.order_by("weekday").values_list("weekday", "opens", "closes"))
    assert rows == OFFICE_HOURS
    assert not standard_hours.holidays.exists()


def test_R1_the_services_read_hours_and_holidays_from_the_database(standard_hours):
    Holiday.objects.create(calendar=standard_hours, date=dt.date(2031, 3, 12), name="Founders' day")
    calendar = target_service.calendar_for(standard_hours.pk, standard_hours.version, "UTC")
    # Tuesday 16:00 + 2 business hours: 1 h on Tuesday, Wednesday is the holiday, 1 h on Thursday.
    assert calendar.add(at(11, 16), 2 * HOUR) == at(13, 10)


# --- R2 only open time counts ---------------------------------------------------------------------


def test_R2_nights_and_weekends_do_not_count():
    calendar = office()
    # Friday 16:00 → Monday 10:00: Friday 16–17 (1 h) + Monday 09–10 (1 h).
    assert calendar.measure(at(7, 16), at(10, 10)) == 2 * HOUR
    # Monday 12:00 → Tuesday 12:00: 5 h on Monday + 3 h on Tuesday.
    assert calendar.measure(at(10, 12), at(11, 12)) == 8 * HOUR
    # A whole week, Monday 00:00 → next Monday 00:00: five days of 8 h.
    assert calendar.measure(at(3), at(10)) == 40 * HOUR


def test_R2_holidays_do_not_count():
    calendar = office(holidays=[dt.date(2031, 3, 10)])  # Monday
    # Friday 16:00 → Tuesday 10:00: Friday 1 h, Monday closed, Tuesday 1 h.
    assert calendar.measure(at(7, 16), at(11, 10)) == 2 * HOUR


def test_R2_measure_is_zero_when_the_end_is_not_after_the_start():
    calendar = office()
    assert calendar.measure(at(10, 12), at(10, 12)) == ZERO
    assert calendar.measure(at(10, 12), at(10, 10)) == ZERO


# --- R3 wall-clock hours in the calendar's time zone ----------------------------------------------


def test_R3_nine_to_five_is_eight_hours_on_the_days_london_changes_its_clocks():
    london = BusinessCalendar(
        time_zone_name="Europe/London", hours=[(day, dt.time(9), dt.time(17)) for day in range(7)]
    )
    # Sunday 30 March 2031: BST (UTC+1) from 01:00 UTC, so 09:00–17:00 is 08:00–16:00 UTC.
    assert london.open_periods(dt.date(2031, 3, 30)) == ((at(30, 8), at(30, 16)),)
    assert london.measure(at(30), at(31)) == 8 * HOUR
    # Sunday 26 October 2031: GMT again from 01:00 UTC, so 09:00–17:00 is 09:00–17:00 UTC.
    assert london.open_periods(dt.date(2031, 10, 26)) == ((at(26, 9, month=10), at(26, 17, month=10)),)
    # Saturday 29 March 17:00 GMT → Monday 31 March 09:00 BST: only Sunday's eight hours.
    assert london.measure(at(29, 17), at(31, 8)) == 8 * HOUR


def test_R3_the_same_wall_clock_hours_are_different_instants_after_new_york_moves_its_clocks():
    new_york = office("America/New_York")
    # Friday 7 March 16:00 EST (21:00 UTC) + 2 business hours: 1 h on Friday, then Monday
    # 10 March 09:00 EDT (13:00 UTC, clocks went forward on Sunday) + 1 h = 14:00 UTC.
    assert new_york.add(at(7, 21), 2 * HOUR) == at(10, 14)
    assert new_york.measure(at(7, 21), at(10, 14)) == 2 * HOUR


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("America/New_York", dt.date(2031, 3, 9), 23),
        ("America/New_York", dt.date(2031, 11, 2), 25),
        ("Europe/London", dt.date(2031, 3, 30), 23),
        ("Europe/London", dt.date(2031, 10, 26), 25),
        ("Australia/Lord_Howe", dt.date(2031, 10, 5), 23.5),  # a half-hour change
        ("Australia/Lord_Howe", dt.date(2031, 4, 6), 24.5),
        ("Asia/Kolkata", dt.date(2031, 3, 9), 24),  # no daylight saving
        ("UTC", dt.date(2031, 3, 9), 24),
    ],
)
def test_R3_midnight_to_midnight_is_23_or_25_hours_on_the_day_the_clocks_change(zone, day, hours):
    around_the_clock = BusinessCalendar.always_open(zone)
    tz = ZoneInfo(zone)
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    next_midnight = dt.datetime.combine(day + DAY, dt.time(0), tzinfo=tz)
    assert around_the_clock.measure(midnight, next_midnight) == dt.timedelta(hours=hours)
    assert around_the_clock.add(midnight, dt.timedelta(hours=hours)) == next_midnight


def test_R3_london_midnight_to_midnight_by_hand():
    london = BusinessCalendar.always_open("Europe/London")
    # 30 March 2031 00:00 GMT = 00:00 UTC; 31 March 00:00 BST = 30 March 23:00 UTC: 23 hours.
    assert london.measure(at(30), at(30, 23)) == 23 * HOUR
    # 26 October 00:00 BST = 25 October 23:00 UTC; 27 October 00:00 GMT = 00:00 UTC: 25 hours.
    assert london.measure(at(25, 23, month=10), at(27, month=10)) == 25 * HOUR


def test_R3_hours_that_end_in_the_skipped_hour_do_not_overlap_the_next_ones():
    """Regression: 02:30 does not exist on 9 March 2031 in New York (01:59 EST → 03:00 EDT).
    It used to be read as 02:30 EST = 07:30 UTC, after 03:00 EDT = 07:00 UTC, so Sunday's
    01:00–02:30 and 03:00–04:00 overlapped and the half hour between 07:00 and 07:30 UTC was
    counted twice (measure(t, add(t, 80 min)) was 100 min)."""
    new_york = BusinessCalendar(
        time_zone_name="America/New_York",
        hours=[(6, dt.time(1), dt.time(2, 30)), (6, dt.time(3), dt.time(4))],
    )
    # 01:00 EST = 06:00 UTC; 02:30 is skipped: the jump at 07:00 UTC; 03:00 EDT = 07:00 UTC;
    # 04:00 EDT = 08:00 UTC.
    assert new_york.open_periods(dt.date(2031, 3, 9)) == ((at(9, 6), at(9, 7)), (at(9, 7), at(9, 8)))
    assert new_york.measure(at(9), at(10)) == 2 * HOUR
    assert new_york.add(at(9, 6), 80 * MINUTE) == at(9, 7, 20)
    assert new_york.measure(at(9, 6), at(9, 7, 20)) == 80 * MINUTE


def test_R3_hours_that_open_in_the_skipped_half_hour_open_when_lord_howe_jumps():
    """Lord Howe Island goes from 02:00 (UTC+10:30) to 02:30 (UTC+11) on 5 October 2031.
    02:15–03:00 that night is open from the jump (15:30 UTC) to 03:00 (16:00 UTC): 30 minutes.
    It used to collapse to nothing (02:15 read as 02:15+10:30 = 15:45 UTC, 03:00 as 16:00 UTC,
    so 15 minutes) or vanish."""
    lord_howe = BusinessCalendar(time_zone_name="Australia/Lord_Howe", hours=[(6, dt.time(2, 15), dt.time(3))])
    assert lord_howe.open_periods(dt.date(2031, 10, 5)) == ((at(4, 15, 30, month=10), at(4, 16, month=10)),)
    # The same hours on an ordinary Sunday: 02:15–03:00 (UTC+11) is 15:15–16:00 UTC the day before.
    assert lord_howe.open_periods(dt.date(2031, 10, 12)) == ((at(11, 15, 15, month=10), at(11, 16, month=10)),)


# --- R4 a closing time of 00:00 is midnight at the end of the day ----------------------------------


def test_R4_closing_at_0000_means_midnight_at_the_end_of_the_day():
    late = BusinessCalendar(time_zone_name="UTC", hours=[(0, dt.time(22), dt.time(0))])  # Monday 22:00–24:00
    assert late.open_periods(dt.date(2031, 3, 10)) == ((at(10, 22), at(11, 0)),)
    # Monday 20:00 → Tuesday 02:00: 22:00–24:00 is two hours.
    assert late.measure(at(10, 20), at(11, 2)) == 2 * HOUR
    # Using up the last of it falls at midnight; a microsecond more waits a week.
    assert late.add(at(10, 23), HOUR) == at(11, 0)
    assert late.add(at(10, 23), HOUR + MICROSECOND) == at(17, 22) + MICROSECOND


def test_R4_open_0000_to_0000_every_day_is_open_around_the_clock():
    around_the_clock = BusinessCalendar(time_zone_name="UTC", hours=[(d, dt.time(0), dt.time(0)) for d in range(7)])
    assert around_the_clock.measure(at(3), at(10)) == 7 * DAY
    assert around_the_clock.add(at(8, 13, 7), 50 * HOUR) == at(10, 15, 7)
    assert around_the_clock.is_open(at(9, 0)) and around_the_clock.is_open(at(9, 23, 59))
    assert around_the_clock.open_periods(dt.date(2031, 3, 9)) == BusinessCalendar.always_open().open_periods(
        dt.date(2031, 3, 9)
    )


# --- R5 a holiday closes the whole local date ------------------------------------------------------


def test_R5_a_holiday_closes_the_whole_local_date_in_the_calendars_time_zone():
    kolkata = BusinessCalendar(
        time_zone_name="Asia/Kolkata",
        hours=[(d, dt.time(0), dt.time(0)) for d in range(7)],
        holidays=[dt.date(2031, 3, 5)],
    )
    # 5 March in Kolkata (UTC+05:30) runs from 4 March 18:30 UTC to 5 March 18:30 UTC.
    assert kolkata.measure(at(4, 18, 30), at(5, 18, 30)) == ZERO
    # Half an hour either side of it still counts.
    assert kolkata.measure(at(4, 18), at(5, 19)) == HOUR
    assert not kolkata.is_open(at(4, 20)) and kolkata.is_open(at(4, 18))


def test_R5_a_deadline_skips_the_holiday():
    calendar = office(holidays=[dt.date(2031, 3, 12)])  # Wednesday
    # Tuesday 16:00 + 2 h: 1 h on Tuesday, none on Wednesday, 1 h on Thursday → Thursday 10:00.
    assert calendar.add(at(11, 16), 2 * HOUR) == at(13, 10)


# --- R6 a deadline that uses up the day falls at closing time --------------------------------------


def test_R6_using_up_the_last_of_the_day_falls_at_closing_time_not_the_next_opening():
    calendar = office()
    assert calendar.add(at(7, 9), 8 * HOUR) == at(7, 17)  # Friday 09:00 + 8 h → Friday 17:00
    # Thursday 13:00 + 12 h: 4 h on Thursday, 8 h on Friday → Friday 17:00 (not Monday 09:00).
    assert calendar.add(at(6, 13), 12 * HOUR) == at(7, 17)
    assert calendar.add(at(7, 16, 59), MINUTE) == at(7, 17)
    # One microsecond more is Monday, just after opening.
    assert calendar.add(at(7, 9), 8 * HOUR + MICROSECOND) == at(10, 9) + MICROSECOND


# --- R7 a clock that starts outside hours waits for the opening -------------------------------------


def test_R7_a_clock_started_on_saturday_counts_from_monday_0900():
    calendar = office()
    assert calendar.measure(at(8, 14), at(10, 9)) == ZERO  # Saturday 14:00 → Monday 09:00
    assert calendar.add(at(8, 14), HOUR) == at(10, 10)  # Monday 09:00 + 1 h
    assert calendar.next_open(at(8, 14)) == at(10, 9)
    assert calendar.next_open(at(10, 11)) == at(10, 11)  # already open: now


def test_R7_opening_hours_are_half_open():
    calendar = office()
    assert calendar.is_open(at(10, 9))
    assert calendar.is_open(at(10, 16, 59))
    assert not calendar.is_open(at(10, 17))
    assert not calendar.is_open(at(8, 12))  # Saturday
    assert calendar.add(at(10, 17), MINUTE) == at(11, 9, 1)  # Monday 17:00 is closed


# --- R9 the hours must make sense ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ([(0, dt.time(9), dt.time(13)), (0, dt.time(12), dt.time(17))], "overlap"),
        ([(2, dt.time(9), dt.time(17)), (2, dt.time(8), dt.time(10))], "overlap"),
        ([(0, dt.time(9), dt.time(9))], "after the opening"),
        ([(0, dt.time(17), dt.time(9))], "after the opening"),
        ([(7, dt.time(9), dt.time(17))], "weekday"),
        ([(-1, dt.time(9), dt.time(17))], "weekday"),
    ],
)
def test_R9_overlapping_or_backwards_hours_are_refused(hours, message):
    with pytest.raises(CalendarError, match=message):
        check_hours(hours)
    with pytest.raises(CalendarError):
        BusinessCalendar(time_zone_name="UTC", hours=hours)


def test_R9_touching_hours_and_a_midnight_close_are_accepted():
    week = check_hours([(0, dt.time(12), dt.time(17)), (0, dt.time(9), dt.time(12)), (0, dt.time(22), dt.time(0))])
    assert week[0] == [(540, 720), (720, 1020), (1320, 1440)]
    assert check_hours([(6, dt.time(0), dt.time(0))])[6] == [(0, 1440)]


def test_R9_an_unknown_time_zone_is_refused():
    with pytest.raises(CalendarError, match="unknown time zone"):
        time_zone("Mars/Olympus_Mons")
    with pytest.raises(CalendarError):
        BusinessCalendar(time_zone_name="Europe/Atlantis", hours=OFFICE_HOURS)


def test_R9_a_calendar_never_open_gives_no_deadline():
    never = BusinessCalendar(time_zone_name="Europe/London", hours=[])
    assert not never.is_ever_open
    assert never.add(at(10, 9), MINUTE) is None
    assert never.add(at(10, 9), ZERO) == at(10, 9)  # nothing to wait for
    assert never.next_open(at(10, 9)) is None
    assert never.measure(at(3), at(31)) == ZERO


def test_R9_a_calendar_open_only_on_holidays_gives_no_deadline_within_the_horizon():
    # Open on Mondays only, and every Monday of the next five years is a holiday.
    mondays = [dt.date(2031, 3, 10) + dt.timedelta(weeks=n) for n in range(5 * 53)]
    closed = BusinessCalendar(time_zone_name="UTC", hours=[(0, dt.time(9), dt.time(17))], holidays=mondays)
    assert closed.add(at(8, 9), MINUTE) is None


@pytest.mark.django_db
def test_R9_the_database_refuses_hours_that_close_before_they_open(standard_hours):
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningHours.objects.create(calendar=standard_hours, weekday=5, opens=dt.time(17), closes=dt.time(9))
    # 00:00 is midnight at the end of the day, so 22:00–00:00 is fine.
    OpeningHours.objects.create(calendar=standard_hours, weekday=5, opens=dt.time(22), closes=dt.time(0))


# --- R8 properties ---------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
#: Where the clocks change in 2031 (UTC instants): the properties are most likely to break there.
CHANGES = {
    "America/New_York": [at(9, 7), at(2, 6, month=11)],
    "Europe/London": [at(30, 1), at(26, 1, month=10)],
    "Australia/Lord_Howe": [at(5, 15, month=4), at(4, 15, 30, month=10)],  # 30 minutes each
}
EVERY_CHANGE = [change for changes in CHANGES.values() for change in changes]


def _time(quarter: int) -> dt.time:
    """Quarter hours since midnight; 96 is midnight at the end of the day (written 00:00)."""
    return dt.time(0) if quarter == 96 else dt.time(quarter // 4, quarter % 4 * 15)


def _ranges(points: set[int]) -> list[tuple[int, int]]:
    """Sorted boundaries, paired: non-overlapping ranges of quarter hours in one day."""
    ordered = sorted(points)[: len(points) // 2 * 2]
    return list(zip(ordered[::2], ordered[1::2], strict=True))


#: One day's hours: quarter-hour boundaries, often in 00:00–04:00, where the clocks change.
day_hours = st.sets(st.one_of(st.integers(0, 16), st.integers(0, 96)), max_size=6).map(_ranges)
_zones = st.sampled_from(ZONES)
_some_days = st.sets(st.integers(0, 6), min_size=1)
_weekday = st.integers(0, 6)
_holidays = st.lists(st.dates(min_value=dt.date(2031, 1, 1), max_value=dt.date(2031, 12, 31)), max_size=8, unique=True)
_anywhere = st.datetimes(min_value=dt.datetime(2031, 1, 1), max_value=dt.datetime(2031, 12, 31), timezones=st.just(UTC))
#: Up to two days before a change to a day after it, to the microsecond.
_near = st.builds(dt.timedelta, microseconds=st.integers(-2 * 86400 * 10**6, 86400 * 10**6))
#: Up to two days, or up to three weeks, to the microsecond.
spans = st.builds(
    dt.timedelta, microseconds=st.one_of(st.integers(0, 2 * 86400 * 10**6), st.integers(0, 21 * 86400 * 10**6))
)


@dataclasses.dataclass(frozen=True)
class Case:
    calendar: BusinessCalendar
    weekly_minutes: int  # open minutes in an ordinary week
    start: dt.datetime  # usually near one of the calendar's own clock changes


@st.composite
def cases(draw) -> Case:
    """A calendar with random hours, holidays and time zone, and an instant to start from."""
    zone = draw(_zones)
    if draw(st.booleans()):  # the same hours on some days
        template = draw(day_hours)
        week = dict.fromkeys(draw(_some_days), template)
    else:
        week = {day: draw(day_hours) for day in range(7)}
    hours = [(day, _time(start), _time(end)) for day, ranges in week.items() for start, end in ranges]
    if not hours:
        hours = [(draw(_weekday), dt.time(9), dt.time(17))]
    weekly = sum(
        (1440 if closes == dt.time(0) else closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
        for _day, opens, closes in hours
    )
    if draw(st.integers(0, 3)):
        start = draw(st.sampled_from(CHANGES.get(zone, EVERY_CHANGE))) + draw(_near)
    else:
        start = draw(_anywhere)
    return Case(BusinessCalendar(time_zone_name=zone, hours=hours, holidays=draw(_holidays)), weekly, start)


@st.composite
def amounts(draw, case: Case) -> dt.timedelta:
    """Business time of up to a day, or up to eight ordinary weeks' worth."""
    most = min(case.weekly_minutes * 8, draw(st.sampled_from([24 * 60, case.weekly_minutes * 8])))
    return dt.timedelta(microseconds=draw(st.integers(0, most * 60 * 10**6)))


@PROPERTIES
@given(st.data())
def test_R8_adding_then_measuring_gives_back_exactly_the_amount(data):
    case = data.draw(cases())
    amount = data.draw(amounts(case))
    calendar = case.calendar
    end = calendar.add(case.start, amount)
    assert end is not None and end >= case.start
    assert calendar.measure(case.start, end) == amount
    if amount:  # the deadline is an instant the calendar is open, or a closing time
        assert calendar.measure(case.start, end - MICROSECOND) == amount - MICROSECOND


@PROPERTIES
@given(st.data())
def test_R8_add_is_monotonic_in_the_amount(data):
    case = data.draw(cases())
    small, large = sorted((data.draw(amounts(case)), data.draw(amounts(case))))
    small_end = case.calendar.add(case.start, small)
    large_end = case.calendar.add(case.start, large)
    assert small_end <= large_end
    if small < large:
        assert small_end < large_end


@PROPERTIES
@given(cases(), spans)
def test_R8_adding_what_was_measured_does_not_pass_the_end(case, span):
    calendar, start, end = case.calendar, case.start, case.start + span
    used = calendar.measure(start, end)
    reached = calendar.add(start, used)
    assert start <= reached <= end
    assert calendar.measure(reached, end) == ZERO  # only closed time is left
    if end > start and calendar.measure(end - MICROSECOND, end) == MICROSECOND:  # open until the end
        assert reached == end


@PROPERTIES
@given(cases(), spans, spans)
def test_R8_measure_is_additive_over_any_split_point(case, before, after):
    calendar, first = case.calendar, case.start
    middle = first + before
    last = middle + after
    assert calendar.measure(first, last) == calendar.measure(first, middle) + calendar.measure(middle, last)
    assert calendar.measure(first, last) <= last - first


@PROPERTIES
@given(cases())
def test_R8_is_open_and_next_open_agree_with_measure(case):
    calendar, moment = case.calendar, case.start
    assert calendar.is_open(moment) == (calendar.measure(moment, moment + MICROSECOND) == MICROSECOND)
    opening = calendar.next_open(moment)
    assert opening >= moment
    assert calendar.measure(moment, opening) == ZERO
    assert calendar.is_open(opening)


@PROPERTIES
@given(_zones, st.sampled_from(EVERY_CHANGE), _near, spans)
def test_R8_around_the_clock_business_time_is_real_time(zone, change, near, span):
    calendar = BusinessCalendar.always_open(zone)
    start = change + near
    end = start + span
    assert calendar.measure(start, end) == end - start
    assert calendar.add(start, end - start) == end


@settings(PROPERTIES, max_examples=50)
@given(_zones, _holidays, _anywhere, st.integers(1, 10**12))
def test_R9_a_calendar_never_open_never_gives_a_deadline(zone, holidays, start, micro):
    never = BusinessCalendar(time_zone_name=zone, hours=[], holidays=holidays)
    assert never.add(start, dt.timedelta(microseconds=micro)) is None
    assert never.next_open(start) is None
    assert never.measure(start, start + dt.timedelta(microseconds=micro)) == ZERO


#: Night hours only (boundaries between 00:00 and 05:00), on every day.
_night_hours = st.sets(st.integers(0, 20), min_size=2, max_size=8).map(_ranges)


@PROPERTIES
@given(st.sampled_from(sorted(CHANGES)), st.data())
def test_R8_adding_then_measuring_on_the_nights_the_clocks_change(zone, data):
    """Hours that open or close while the clocks jump: the wall times skipped or repeated."""
    night = data.draw(_night_hours)
    calendar = BusinessCalendar(
        time_zone_name=zone, hours=[(day, _time(start), _time(end)) for day in range(7) for start, end in night]
    )
    start = data.draw(st.sampled_from(CHANGES[zone])) - data.draw(
        st.builds(dt.timedelta, microseconds=st.integers(0, 86400 * 10**6))
    )
    amount = data.draw(st.builds(dt.timedelta, microseconds=st.integers(0, 2 * 5 * 3600 * 10**6)))
    end = calendar.add(start, amount)
    assert calendar.measure(start, end) == amount
    day = calendar.local_date(start + dt.timedelta(days=1))
    periods = [
        p for d in (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)) for p in calendar.open_periods(d)
    ]
    assert all(closes <= opens for (_o, closes), (opens, _c) in itertools.pairwise(periods))  # never overlap
