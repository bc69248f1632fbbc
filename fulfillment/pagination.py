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


def keyset_page(
    queryset: QuerySet, *, cursor: str | None, size: int, key: str, key_type=dt.datetime, ascending: bool = False
) -> KeysetPage:
    """Newest first by ``(key, id)`` (or oldest first with ``ascending``, e.g. nearest deadline).
    A bad or foreign cursor gives the first page. Rows with an empty ``key`` are not paged."""
    forward, backward = ("gt", "lt") if ascending else ("lt", "gt")
    order = [key, "id"] if ascending else [f"-{key}", "-id"]
    reverse_order = [f"-{key}", "-id"] if ascending else [key, "id"]
    decoded = _decode(cursor, key_type) if cursor else None
    if decoded is None:
        rows = list(queryset.order_by(*order)[: size + 1])
        has_more, has_less = len(rows) > size, False
        rows = rows[:size]
    elif decoded[0] == "n":
        _, value, pk = decoded
        after = Q(**{f"{key}__{forward}": value}) | Q(**{key: value, f"id__{forward}": pk})
        rows = list(queryset.filter(**{f"{key}__{forward}e": value}).filter(after).order_by(*order)[: size + 1])
        has_more, has_less = len(rows) > size, True
        rows = rows[:size]
    else:
        _, value, pk = decoded
        before = Q(**{f"{key}__{backward}": value}) | Q(**{key: value, f"id__{backward}": pk})
        rows = list(
            queryset.filter(**{f"{key}__{backward}e": value}).filter(before).order_by(*reverse_order)[: size + 1]
        )
        has_less, has_more = len(rows) > size, True
        rows = list(reversed(rows[:size]))
    next_cursor = _encode("n", getattr(rows[-1], key), rows[-1].pk) if rows and has_more else None
    prev_cursor = _encode("p", getattr(rows[0], key), rows[0].pk) if rows and has_less else None
    return KeysetPage(items=rows, next_cursor=next_cursor, prev_cursor=prev_cursor)
