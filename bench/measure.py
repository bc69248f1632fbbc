"""Shared by the bench scripts: a database timer, a timed request and the percentile they report."""

from __future__ import annotations

import math
import time


class DbTimer:
    """execute_wrapper: wall time spent inside cursor.execute, and the number of queries."""

    def __init__(self):
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (nan for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def timed_get(client, url: str):
    """GET ``url`` through ``client``: (response, wall milliseconds, milliseconds inside the
    database)."""
    from django.db import connection

    timer = DbTimer()
    with connection.execute_wrapper(timer):
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
    return response, elapsed * 1000, timer.seconds * 1000
