"""The service-target clocks of one inquiry, computed from its history. Pure: no database.

docs/service-targets.md defines each timer in words; this module is that definition in code,
and tests/inquiries/targets/ has a test for every sentence. In short:

* **First response** starts when the inquiry is opened and stops at the first response (a
  reply on any channel, or a call in which the customer was answered), or when the inquiry is
  resolved or closed. It does not pause: until we have answered, the customer is not the one
  keeping us waiting.
* **Next reply** starts at a customer message that arrives after the first response when no
  next-reply clock is running, and stops at the next response (or resolution). Further
  messages while it runs do not restart it: it counts from the oldest unanswered message.
* **Resolution** starts when the inquiry is opened and stops when it is resolved or closed.
  Reopening resumes it: the business time already used still counts, the time it spent
  resolved does not.
* Next reply and resolution **pause** while the inquiry is waiting on the customer.

Every clock counts business time on the policy's calendar. Because the whole result follows
from the history and the targets, recomputing always gives the same answer, and a changed
target moves the deadline of a running clock without changing the time it has used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from .businesstime import ZERO, BusinessCalendar

# The history, reduced to what the clocks need.
CREATED = "created"
STATUS = "status"
CUSTOMER_MESSAGE = "customer_message"
RESPONSE = "response"
CALENDAR = "calendar"

# Target kinds.
FIRST_RESPONSE = "first_response"
NEXT_REPLY = "next_reply"
RESOLUTION = "resolution"
KINDS = (FIRST_RESPONSE, NEXT_REPLY, RESOLUTION)

# Clock states.
RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"

# Why a clock stopped.
BY_RESPONSE = "response"
BY_RESOLUTION = "resolution"

ACTIVE_STATUSES = frozenset({"new", "open", "waiting_customer", "waiting_department"})
DONE_STATUSES = frozenset({"resolved", "closed"})
PAUSE_STATUSES = frozenset({"waiting_customer"})


@dataclasses.dataclass(frozen=True, slots=True)
class Fact:
    at: dt.datetime
    kind: str  # CREATED, STATUS, CUSTOMER_MESSAGE, RESPONSE or CALENDAR
    status: str = ""  # for CREATED (the first status) and STATUS (the new one)
    #: For CALENDAR (the inquiry moved to another policy): the policies before and after, and
    #: the calendar counted from ``at`` on (filled in by the service before ``compute``).
    policy: int | None = None
    previous: int | None = None
    calendar: BusinessCalendar | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Targets:
    """Business minutes allowed for each kind (``None``: no target), and the warning share."""

    first_response: int | None = None
    next_reply: int | None = None
    resolution: int | None = None
    warn_percent: int = 75

    def minutes(self, kind: str) -> int | None:
        return getattr(self, kind)


@dataclasses.dataclass(slots=True)
class Clock:
    kind: str
    cycle: int
    started_at: dt.datetime
    target_minutes: int | None = None
    #: Business time carried from earlier cycles (a resolution clock after a reopen).
    carried: dt.timedelta = ZERO
    #: Running periods; the last one is open (``None``) while the clock runs.
    segments: list[tuple[dt.datetime, dt.datetime | None]] = dataclasses.field(default_factory=list)
    #: The calendar each period counts on (a change of policy can change it mid-flight).
    calendars: list[BusinessCalendar] = dataclasses.field(default_factory=list, compare=False, repr=False)
    state: str = RUNNING
    stopped_at: dt.datetime | None = None
    stopped_by: str = ""
    #: Business time used in closed periods, ``carried`` included.
    taken: dt.timedelta = ZERO
    #: When the target, and the warning share of it, is (or was) reached; ``None`` while
    #: paused short of it (the deadline moves with the pause) or without a target.
    due_at: dt.datetime | None = None
    warn_at: dt.datetime | None = None

    @property
    def target(self) -> dt.timedelta | None:
        return None if self.target_minutes is None else dt.timedelta(minutes=self.target_minutes)

    @property
    def met(self) -> bool | None:
        """For a stopped clock with a target: was it stopped within it?"""
        if self.state != STOPPED or self.target is None:
            return None
        return self.taken <= self.target

    def used(self, calendar: BusinessCalendar, now: dt.datetime) -> dt.timedelta:
        """Business time used by ``now``."""
        if self.state != RUNNING:
            return self.taken
        return self.taken + self.calendars[-1].measure(self.segments[-1][0], now)

    def left(self, calendar: BusinessCalendar, now: dt.datetime) -> dt.timedelta | None:
        """Business time left at ``now`` (negative once breached); ``None`` without a target."""
        target = self.target
        return None if target is None else target - self.used(calendar, now)


class _Timer:
    """Opens, pauses and stops clocks while the history is replayed."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        #: Business time of each closed segment, measured once: ``close`` and both ``_reach``
        #: calls (deadline and warning) ask for the same segments.
        self._spans: dict[tuple[dt.datetime, dt.datetime], dt.timedelta] = {}

    def measure(self, calendar: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        key = (id(calendar), start, end)
        span = self._spans.get(key)
        if span is None:
            span = self._spans[key] = calendar.measure(start, end)
        return span

    def open(self, clock: Clock, at: dt.datetime) -> None:
        clock.segments.append((at, None))
        clock.calendars.append(self.calendar)
        clock.state = RUNNING

    def close(self, clock: Clock, at: dt.datetime, state: str) -> None:
        if clock.state == RUNNING:
            opened, _ = clock.segments[-1]
            at = max(at, opened)
            clock.segments[-1] = (opened, at)
            clock.taken += self.measure(clock.calendars[-1], opened, at)
        clock.state = state

    def switch(self, running: Iterable[Clock | None], at: dt.datetime, calendar: BusinessCalendar) -> None:
        """From ``at`` on, count on ``calendar``: running clocks keep the time they have used."""
        moving = [c for c in running if c is not None and c.state == RUNNING]
        for clock in moving:
            self.close(clock, at, RUNNING)
        self.calendar = calendar
        for clock in moving:
            self.open(clock, at)

    def pause(self, clock: Clock | None, at: dt.datetime) -> None:
        if clock is not None and clock.state == RUNNING:
            self.close(clock, at, PAUSED)

    def resume(self, clock: Clock | None, at: dt.datetime) -> None:
        if clock is not None and clock.state == PAUSED:
            self.open(clock, at)

    def stop(self, clock: Clock | None, at: dt.datetime, by: str) -> None:
        if clock is not None and clock.state != STOPPED:
            self.close(clock, at, STOPPED)
            clock.stopped_at, clock.stopped_by = at, by

    def deadlines(self, clock: Clock, warn_percent: int) -> None:
        """The instants at which the clock reaches its target and the warning share of it."""
        target = clock.target
        if target is None:
            return
        warn = dt.timedelta(microseconds=target // dt.timedelta(microseconds=1) * warn_percent // 100)
        clock.due_at = self._reach(clock, target)
        clock.warn_at = self._reach(clock, warn)

    def _reach(self, clock: Clock, amount: dt.timedelta) -> dt.datetime | None:
        used = clock.carried
        if used >= amount:  # reached in an earlier cycle: due from this cycle's start
            return clock.started_at
        for (opened, closed), calendar in zip(clock.segments, clock.calendars, strict=True):
            if closed is None:
                return calendar.add(opened, amount - used)
            span = self.measure(calendar, opened, closed)
            if used + span >= amount:
                return calendar.add(opened, amount - used)
            used += span
        return None  # paused or stopped short of it


@dataclasses.dataclass(slots=True)
class Clocks:
    """All clocks of one inquiry, oldest first, and the ones that are live now."""

    all: list[Clock]
    status: str

    def current(self, kind: str) -> Clock | None:
        """The latest clock of a kind (running, paused or stopped)."""
        found = [c for c in self.all if c.kind == kind]
        return found[-1] if found else None

    @property
    def live(self) -> list[Clock]:
        """Running clocks with a target: the ones that give the inquiry deadlines."""
        return [c for c in self.all if c.state == RUNNING and c.target_minutes is not None]

    @property
    def stopped(self) -> list[Clock]:
        return [c for c in self.all if c.state == STOPPED]

    @property
    def response(self) -> Clock | None:
        """The reply clock that matters now: next reply once the first response is given."""
        first = self.current(FIRST_RESPONSE)
        following = self.current(NEXT_REPLY)
        if following is not None and (first is None or first.state == STOPPED):
            return following
        return first


def compute(
    facts: Iterable[Fact],
    *,
    targets: Targets,
    calendar: BusinessCalendar,
    opening_calendar: BusinessCalendar | None = None,
    running_only: bool = False,
) -> Clocks:
    """Replay the history and return every clock with its business time and deadlines.

    With ``running_only`` the deadlines (``due_at``, ``warn_at``) of paused and stopped clocks
    are left out: a recompute writes only those of running clocks, and working out the others
    was about half of its business-time arithmetic. Everything else is the same.

    ``calendar`` is the calendar of the policy in force. When the inquiry moved between policies,
    the history holds CALENDAR facts, and ``opening_calendar`` is the one it was opened on: each
    period is counted on the calendar in force then (R22)."""
    timer = _Timer(opening_calendar or calendar)
    clocks: list[Clock] = []
    status = ""
    first = reply = resolution = None
    replies = resolutions = 0
    waiting_since: dt.datetime | None = None  # a customer message that arrived while done

    def start(kind: str, at: dt.datetime, cycle: int = 1, carried: dt.timedelta = ZERO) -> Clock:
        clock = Clock(kind=kind, cycle=cycle, started_at=at, target_minutes=targets.minutes(kind), carried=carried)
        clock.taken = carried
        timer.open(clock, at)
        clocks.append(clock)
        return clock

    for fact in sorted(facts, key=lambda f: f.at):  # stable: same-instant facts keep their order
        at = fact.at
        if fact.kind == CREATED:
            if first is not None:
                continue
            status = fact.status or "new"
            first = start(FIRST_RESPONSE, at)
            resolutions = 1
            resolution = start(RESOLUTION, at)
            if status in DONE_STATUSES:
                timer.stop(first, at, BY_RESOLUTION)
                timer.stop(resolution, at, BY_RESOLUTION)
            elif status in PAUSE_STATUSES:
                timer.pause(resolution, at)
        elif first is None:  # a history without its opening: nothing to time
            continue
        elif fact.kind == STATUS:
            old, status = status, fact.status
            if status in DONE_STATUSES:
                if old not in DONE_STATUSES:
                    for clock in (first, reply, resolution):
                        timer.stop(clock, at, BY_RESOLUTION)
            elif old in DONE_STATUSES:  # reopened: resolution resumes with the time already used
                resolutions += 1
                resolution = start(RESOLUTION, at, resolutions, resolution.taken)
                if waiting_since is not None:  # the customer's message is owed a reply from now
                    replies += 1
                    reply = start(NEXT_REPLY, at, replies)
                    waiting_since = None
                if status in PAUSE_STATUSES:
                    timer.pause(reply, at)
                    timer.pause(resolution, at)
            elif status in PAUSE_STATUSES:
                timer.pause(reply, at)
                timer.pause(resolution, at)
            else:
                timer.resume(reply, at)
                timer.resume(resolution, at)
        elif fact.kind == CUSTOMER_MESSAGE:
            if status in DONE_STATUSES:
                waiting_since = waiting_since or at
            elif first.state == STOPPED and (reply is None or reply.state == STOPPED):
                replies += 1
                reply = start(NEXT_REPLY, at, replies)
                if status in PAUSE_STATUSES:
                    timer.pause(reply, at)
        elif fact.kind == RESPONSE:
            waiting_since = None
            timer.stop(first, at, BY_RESPONSE)
            timer.stop(reply, at, BY_RESPONSE)
        elif fact.kind == CALENDAR and fact.calendar is not None:
            timer.switch((first, reply, resolution), at, fact.calendar)

    for clock in clocks:
        if running_only and clock.state != RUNNING:
            continue
        timer.deadlines(clock, targets.warn_percent)
    return Clocks(all=clocks, status=status)
