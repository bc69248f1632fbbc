"""Keyset ("cursor") pagination for list pages: constant cost on page 1 or page 20,000.

An offset paginator counts every row and skips the ones before the page; at a million
orders that alone breaks the time budget. Here a page is "the N rows after this key".
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import Q, QuerySet


@dataclass
class KeysetPage:
    items: list
    next_cursor: str | None
    prev_cursor: str | None


def _encode(direction: str, value, pk: int) -> str:
    raw = json.dumps([direction, value.isoformat() if hasattr(value, "isoformat") else value, pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, field_type):
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        direction, value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if direction not in ("n", "p") or not isinstance(pk, int):
            return None
        if field_type is dt.datetime:
            value = dt.datetime.fromisoformat(value)
            if value.tzinfo is None:
                return None
            value = value.astimezone(dt.UTC)  # out-of-range offsets fail here, not in the query
        return direction, value, pk
    except (ValueError, TypeError, OverflowError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def keyset_page(queryset: QuerySet, *, cursor: str | None, size: int, key: str, key_type=dt.datetime) -> KeysetPage:
    """Newest first by ``(key, id)``. A bad or foreign cursor gives the first page."""
    decoded = _decode(cursor, key_type) if cursor else None
    if decoded is None:
        rows = list(queryset.order_by(f"-{key}", "-id")[: size + 1])
        has_more, has_less = len(rows) > size, False
        rows = rows[:size]
    elif decoded[0] == "n":
        _, value, pk = decoded
        older = Q(**{f"{key}__lt": value}) | Q(**{key: value, "id__lt": pk})
        rows = list(queryset.filter(**{f"{key}__lte": value}).filter(older).order_by(f"-{key}", "-id")[: size + 1])
        has_more, has_less = len(rows) > size, True
        rows = rows[:size]
    else:
        _, value, pk = decoded
        newer = Q(**{f"{key}__gt": value}) | Q(**{key: value, "id__gt": pk})
        rows = list(queryset.filter(**{f"{key}__gte": value}).filter(newer).order_by(key, "id")[: size + 1])
        has_less, has_more = len(rows) > size, True
        rows = list(reversed(rows[:size]))
    next_cursor = _encode("n", getattr(rows[-1], key), rows[-1].pk) if rows and has_more else None
    prev_cursor = _encode("p", getattr(rows[0], key), rows[0].pk) if rows and has_less else None
    return KeysetPage(items=rows, next_cursor=next_cursor, prev_cursor=prev_cursor)
