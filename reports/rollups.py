"""Rollups: the metrics' query results kept in the database, so the dashboard does not run the
heavy aggregations on every visit.

Every metric sends its queries through ``rows`` / ``aggregate`` / ``count`` here. Outside
``reading()`` they simply run. Inside it (the dashboard and the weekly report), each result is
looked up by the query's own SQL text (its SHA-256): a rollup younger than
``FD_REPORT_ROLLUP_MAX_AGE`` seconds is used as it is; otherwise the query runs and its result
is stored. The Celery task ``reports.tasks.refresh_rollups`` (every ``FD_REPORT_ROLLUP_SECONDS``)
recomputes the views people open most — each preset period, without a filter and with each
single tier, category, channel and team — so those pages read only rollups.

What is stored is the raw result (numbers, codes, dates), never translated text: each visitor's
page is shaped in their own language from it. The SQL text includes the filters and the range's
bounds, so a new day or another filter is another rollup. Queries that depend on the moment
(``age``'s buckets) are never rolled up.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings

from fulfillment import clock

from .models import Rollup

_mode: contextvars.ContextVar[str] = contextvars.ContextVar("reports_rollups", default="")
_oldest: contextvars.ContextVar[list] = contextvars.ContextVar("reports_rollups_oldest")


@contextmanager
def reading() -> Iterator[list]:
    """Read (and keep) rollups inside. Yields a one-item list: the time the oldest result used
    was computed (None when everything ran just now)."""
    oldest: list = [None]
    mode, found = _mode.set("read" if max_age() > 0 else ""), _oldest.set(oldest)
    try:
        yield oldest
    finally:
        _mode.reset(mode)
        _oldest.reset(found)


@contextmanager
def refreshing() -> Iterator[None]:
    """Run every query and store its result (the Celery task)."""
    mode = _mode.set("refresh")
    try:
        yield
    finally:
        _mode.reset(mode)


def max_age() -> int:
    return int(getattr(settings, "FD_REPORT_ROLLUP_MAX_AGE", 1200))


def rows(queryset) -> list:
    """``list(queryset)``: rows of ``values()`` (dicts) or ``values_list()`` (tuples)."""
    return _through(queryset, "rows", str(queryset.query), lambda: list(queryset))


def aggregate(queryset, **aggregates) -> dict:
    """``queryset.aggregate(**aggregates)``."""
    described = str(queryset.query) + "|" + repr(sorted(aggregates.items()))
    return _through(queryset, "aggregate", described, lambda: queryset.aggregate(**aggregates))


def count(queryset) -> int:
    """``queryset.count()``."""
    return _through(queryset, "count", str(queryset.query), queryset.count)


def _through(queryset, kind: str, described: str, run):
    mode = _mode.get()
    if not mode:
        return run()
    key = hashlib.sha256(f"{queryset.db}|{kind}|{described}".encode()).hexdigest()
    now = clock.now()
    if mode == "read":
        found = Rollup.objects.filter(key=key, computed_at__gt=now - dt.timedelta(seconds=max_age())).first()
        if found is not None:
            oldest = _oldest.get()
            if oldest[0] is None or found.computed_at < oldest[0]:
                oldest[0] = found.computed_at
            return decode(found.value, kind)
    result = run()
    _store(key, kind, result, now)
    return result


def _store(key: str, kind: str, result, now: dt.datetime) -> None:
    """Insert or replace the rollup in one statement (an upsert: two requests storing the same
    result at once do not collide)."""
    Rollup.objects.bulk_create(
        [Rollup(key=key, kind=kind, value=encode(result), computed_at=now)],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["kind", "value", "computed_at"],
    )


def encode(value):
    """JSON for the database: dates, datetimes, durations and decimals tagged to come back as
    themselves; tuples become lists (``decode`` makes the rows tuples again)."""
    if isinstance(value, dict):
        return {"$map": [[k, encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$td": value.total_seconds()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    return value


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "$map" in value:
            return {k: _decode(v) for k, v in value["$map"]}
        if "$dt" in value:
            return dt.datetime.fromisoformat(value["$dt"])
        if "$d" in value:
            return dt.date.fromisoformat(value["$d"])
        if "$td" in value:
            return dt.timedelta(seconds=value["$td"])
        if "$dec" in value:
            return Decimal(value["$dec"])
    return value


def decode(value, kind: str):
    result = _decode(value)
    if kind == "rows":
        return [tuple(row) if isinstance(row, list) else row for row in result]
    return result
