"""The one clock. Everything that asks "what time is it?" asks here, so tests can move time.

from fulfillment import clock
with clock.frozen(datetime(2026, 1, 5, 9, tzinfo=UTC)):
    ...
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator

from django.utils import timezone

_now: Callable[[], dt.datetime] = timezone.now


def now() -> dt.datetime:
    """The current time, timezone-aware."""
    return _now()


def today() -> dt.date:
    """Today's date in the project's time zone."""
    return timezone.localdate(now())


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Make ``now()`` return ``at`` inside the block (tests only)."""
    if timezone.is_naive(at):
        raise ValueError("frozen() needs a timezone-aware datetime")
    global _now
    previous = _now
    _now = lambda: at  # noqa: E731
    try:
        yield
    finally:
        _now = previous
