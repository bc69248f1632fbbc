"""The supervisor dashboard (issue 9) on the benchmark database (see bench/README.md, "Reports").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench .venv/bin/python bench/run_reports.py

Run ``bench/generate.py``, ``bench/generate_inquiries.py`` and ``manage.py migrate`` first (and,
for realistic escalation and service-target rows, ``run_escalation.py`` / ``run_targets.py``).
Target: the dashboard page (/reports/) p95 ≤ 500 ms.

1. **Metrics.** Each metric in ``reports.metrics.METRICS``, called directly, for the last 7 and
   the last 30 days, without a filter and with ``category=billing``: ``--warmup`` then ``--runs``
   calls each, p50/p95/max wall time and the time inside ``cursor.execute``; queries counted
   with ``CaptureQueriesContext``.
2. **Page.** ``/reports/?preset=last7`` and ``?preset=last30`` (and each with
   ``category=billing``) through ``django.test.Client`` as a supervisor, DEBUG off:
   ``--page-runs`` timed requests each (server time per request).
3. **EXPLAIN (ANALYZE, BUFFERS)** of the slowest statement of the slowest metric scenario.

Writes ``bench/results/reports-latest.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # sets Django up, DEBUG off
from django.contrib.auth import get_user_model
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from measure import DbTimer, pct

from fulfillment import clock
from fulfillment.tiers import Tier
from reports.forms import Preset, preset_range
from reports.metrics import METRICS, Filters

RESULTS = run.RESULTS
TARGET_MS = 500.0
PRESETS = ((Preset.LAST_7, "7 days"), (Preset.LAST_30, "30 days"))
CATEGORIES = (("", "no filter"), ("billing", "category=billing"))
#: Tables the metrics read, with their row counts in the report (an empty one makes its metric fast).
TABLES = (
    "inquiries_inquiry",
    "inquiries_message",
    "inquiries_inquiryorder",
    "inquiries_followupcall",
    "inquiries_targetrecord",
    "escalation_escalation",
    "portal_satisfactionrating",
    "orders_order",
    "orders_orderline",
    "orders_shipment",
    "orders_handoff",
)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def table_rows() -> dict[str, int | None]:
    counts: dict[str, int | None] = {}
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if not cur.fetchone()[0]:
                counts[table] = None
                continue
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
    return counts


def summary(times: list[float], db_times: list[float]) -> dict:
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": pct(times, 95),
        "max": max(times),
        "db_p50": statistics.median(db_times),
    }


def time_metric(key: str, filters: Filters, args) -> dict:
    compute = METRICS[key].compute
    reset_queries()  # the log is a bounded deque: start each capture from an empty one
    with CaptureQueriesContext(connection) as ctx:
        table = compute(filters)
    statements = [(float(q["time"]), q["sql"]) for q in ctx.captured_queries]
    for _ in range(args.warmup - 1):
        compute(filters)
    times, db_times = [], []
    for _ in range(args.runs):
        timer = DbTimer()
        with connection.execute_wrapper(timer):
            start = time.perf_counter()
            compute(filters)
            elapsed = time.perf_counter() - start
        times.append(elapsed * 1000)
        db_times.append(timer.seconds * 1000)
    return {**summary(times, db_times), "queries": len(statements), "rows": len(table.rows), "sql": statements}


def measure_metrics(args) -> list[dict]:
    today = clock.today()
    results = []
    for preset, range_label in PRESETS:
        start, end = preset_range(preset, today)
        for category, filter_label in CATEGORIES:
            filters = Filters(start=start, end=end, category=category)
            for key in METRICS:
                if args.only and key not in args.only:
                    continue
                r = time_metric(key, filters, args)
                r.update(key=key, range=range_label, filter=filter_label)
                results.append(r)
                log(
                    f"{key:14} {range_label:8} {filter_label:17} p50={r['p50']:8.1f} p95={r['p95']:8.1f} "
                    f"db_p50={r['db_p50']:8.1f} queries={r['queries']} rows={r['rows']}"
                )
    return results


def supervisor():
    user = get_user_model().objects.filter(tier=Tier.SUPERVISOR, is_active=True).order_by("username").first()
    if user is None:
        sys.exit("no active supervisor: run bench/generate_inquiries.py first")
    return user


def measure_pages(user, args) -> list[dict]:
    client = Client()
    client.force_login(user)
    results = []
    for preset, range_label in PRESETS:
        for category, filter_label in CATEGORIES:
            url = f"/reports/?preset={preset}" + (f"&category={category}" if category else "")
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            queries = len(ctx.captured_queries)  # now: the next request clears the log
            if response.status_code != 200:
                sys.exit(f"{url} answered {response.status_code}")
            for _ in range(args.warmup - 1):
                client.get(url)
            times, db_times = [], []
            for _ in range(args.page_runs):
                timer = DbTimer()
                with connection.execute_wrapper(timer):
                    start = time.perf_counter()
                    response = client.get(url)
                    elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    sys.exit(f"{url} answered {response.status_code}")
                times.append(elapsed * 1000)
                db_times.append(timer.seconds * 1000)
            r = {**summary(times, db_times), "url": url, "range": range_label, "filter": filter_label}
            r["queries"] = queries
            results.append(r)
            log(f"page {url:40} p50={r['p50']:8.1f} p95={r['p95']:8.1f} db_p50={r['db_p50']:8.1f} q={r['queries']}")
    return results


def explain_slowest(metrics: list[dict]) -> tuple[dict, str, str]:
    slowest = max(metrics, key=lambda r: r["p50"])
    _seconds, sql = max(slowest["sql"], key=lambda s: s[0])
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cur.fetchall())
    return slowest, sql, plan


def render(info: dict, metrics: list[dict], pages: list[dict], explain, args) -> str:
    worst = max((p["p95"] for p in pages), default=float("nan"))
    verdict = "**met**" if worst <= TARGET_MS else "**missed**"
    lines = [
        f"## Reports dashboard benchmark — {info['tables']['inquiries_inquiry']:,} inquiries",
        "",
        f"- Date: {info['date']}; code: `{info['revision']}`",
        f"- Machine: {info.get('cpu', '?')}, nproc={info['nproc']}, {info.get('memory', '?')} RAM",
        f"- PostgreSQL {info['postgres']} ({info['pg_settings']}); database `{info['database']}`, {info['db_size']}",
        f"- Python {info['python']}, Django {info['django']}; DEBUG off; supervisor `{info['user']}`",
        f"- Load average before: {info['load_before']}; after: {info['load_after']}",
        "- Rows: " + ", ".join(f"{t} {'(no table)' if c is None else f'{c:,}'}" for t, c in info["tables"].items()),
        f"- Metrics: {args.warmup} warm-up calls then {args.runs} timed; page: {args.warmup} warm-up requests "
        f"then {args.page_runs} timed; times in ms",
        "",
        f"### Page `/reports/` (target p95 ≤ {TARGET_MS:.0f} ms): {verdict} (worst p95 {worst:.1f} ms)",
        "",
        "| range | filter | url | n | p50 | p95 | max | SQL p50 | queries | p95 ≤ 500 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in pages:
        ok = "met" if p["p95"] <= TARGET_MS else "**missed**"
        lines.append(
            f"| {p['range']} | {p['filter']} | `{p['url']}` | {p['n']} | {p['p50']:.1f} | {p['p95']:.1f} | "
            f"{p['max']:.1f} | {p['db_p50']:.1f} | {p['queries']} | {ok} |"
        )
    lines += [
        "",
        "### Metrics (`METRICS[key].compute(filters)` called directly)",
        "",
        "| metric | range | filter | n | p50 | p95 | max | SQL p50 | queries | result rows |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in sorted(metrics, key=lambda r: (r["range"], r["filter"], -r["p50"])):
        lines.append(
            f"| {m['key']} | {m['range']} | {m['filter']} | {m['n']} | {m['p50']:.1f} | {m['p95']:.1f} | "
            f"{m['max']:.1f} | {m['db_p50']:.1f} | {m['queries']} | {m['rows']} |"
        )
    if explain:
        slowest, sql, plan = explain
        lines += [
            "",
            f"### EXPLAIN (ANALYZE, BUFFERS): slowest statement of `{slowest['key']}`, {slowest['range']}, "
            f"{slowest['filter']}",
            "",
            "```sql",
            sql,
            "```",
            "",
            "```",
            plan,
            "```",
        ]
    lines += [
        "",
        "Reproduce:",
        "",
        "```sh",
        f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{info['database']} .venv/bin/python bench/run_reports.py",
        "```",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--page-runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated metric keys")
    parser.add_argument("--out", default=str(RESULTS / "reports-latest.md"))
    args = parser.parse_args()
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    user = supervisor()
    info = run.machine_info()
    info["tables"] = table_rows()
    info["user"] = user.username
    metrics = measure_metrics(args)
    pages = [] if args.only else measure_pages(user, args)
    explain = explain_slowest(metrics) if metrics else None
    info["load_after"] = " ".join(f"{x:.2f}" for x in run.os.getloadavg())
    report = render(info, metrics, pages, explain, args)
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)


if __name__ == "__main__":
    main()
