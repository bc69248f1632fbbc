"""The supervisor dashboard (issue 9) on the benchmark database (see bench/README.md, "Reports").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench .venv/bin/python bench/run_reports.py

Run ``bench/generate.py``, ``bench/generate_inquiries.py`` and ``manage.py migrate`` first (and,
for realistic escalation and service-target rows, ``run_escalation.py`` / ``run_targets.py``).
Target: the dashboard page (/reports/) p95 ≤ 500 ms.

0. ``--fill`` (once): what the generators leave empty and the reports read — follow-up calls
   (a quarter of the inquiries resolved in the last 120 days: due two days after resolving,
   a third done, a third missed, the rest still scheduled or due), satisfaction ratings (a fifth
   of them, scores 1–5) and four bench teams with the bench staff dealt round them. Set-based
   ``INSERT … SELECT``; refuses to run twice (``--refill`` deletes the bench rows first).

1. **Metrics.** Each metric in ``reports.metrics.METRICS``, called directly, for the last 7 and
   the last 30 days, without a filter, with ``category=billing`` and with one bench team:
   ``--warmup`` then ``--runs`` calls each, p50/p95/max wall time and the time inside
   ``cursor.execute``; queries counted with ``CaptureQueriesContext``.
2. **Rollups.** ``reports.tasks.refresh()`` once, timed: what the Celery task does every
   ``FD_REPORT_ROLLUP_SECONDS``.
3. **Page.** ``/reports/?preset=last7`` and ``?preset=last30`` (and each with
   ``category=billing``, and the team) through ``django.test.Client`` as a supervisor, DEBUG off:
   ``--page-runs`` timed requests each (server time per request), reading the rollups, then
   again live (``&fresh=1``).
4. **EXPLAIN (ANALYZE, BUFFERS)** of the slowest statement of the slowest metric scenario.

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
from measure import DbTimer, pct, timed_get

from fulfillment import clock
from fulfillment.tiers import Tier
from reports.forms import Preset, preset_range
from reports.metrics import METRICS, Filters

RESULTS = run.RESULTS
BENCH_TEAMS = ("Bench Chennai", "Bench Manila", "Bench Dhaka", "Bench Delhi")
TARGET_MS = 500.0
PRESETS = ((Preset.LAST_7, "7 days"), (Preset.LAST_30, "30 days"))
FILTERS = ({}, {"category": "billing"}, {"team": BENCH_TEAMS[0]})  # a team by its name, looked up
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
        for params, filter_label in scenarios():
            filters = Filters(start=start, end=end, **params)
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


def scenarios():
    """(filter params, label) — the team's id looked up; no team scenario without the bench teams."""
    from fulfillment.models import Team

    found = []
    for params in FILTERS:
        if "team" in params:
            team = Team.objects.filter(name=params["team"]).first()
            if team is None:
                continue
            params = {"team": team.pk}
        label = "&".join(f"{k}={v}" for k, v in params.items()) or "no filter"
        found.append((params, label))
    return found


def fill(refill: bool) -> dict:
    """Follow-up calls, ratings and teams for the reports to read (see the module's step 0)."""
    from django.db import transaction

    from fulfillment.models import Team

    info = {}
    with transaction.atomic(), connection.cursor() as cur:
        if refill:
            cur.execute("DELETE FROM inquiries_followupcall WHERE done_by_name = 'bench' OR notes = 'bench'")
            cur.execute("DELETE FROM portal_satisfactionrating WHERE comment = 'bench'")
            get_user_model().objects.filter(team__name__in=BENCH_TEAMS).update(team=None)
            Team.objects.filter(name__in=BENCH_TEAMS).delete()
        if Team.objects.filter(name__in=BENCH_TEAMS).exists():
            sys.exit("the bench rows are there already: --refill to make them again")
        start = time.perf_counter()
        cur.execute(
            """
            INSERT INTO inquiries_followupcall
                (inquiry_id, cycle, assignee_id, state, due_at, window_ends_at, attempts, max_attempts,
                 outcome, notes, created_at, updated_at, done_at, done_by_name)
            SELECT i.id, i.reopen_count, i.assignee_id,
                   CASE WHEN i.resolved_at + interval '2 days 4 hours' > now()
                             THEN CASE WHEN i.resolved_at + interval '2 days' > now() THEN 'scheduled' ELSE 'due' END
                        WHEN i.id % 3 = 0 THEN 'done' WHEN i.id % 3 = 1 THEN 'missed' ELSE 'done' END,
                   i.resolved_at + interval '2 days', i.resolved_at + interval '2 days 4 hours',
                   CASE WHEN i.id % 3 = 1 THEN 3 ELSE 1 END, 3, '', 'bench', i.resolved_at, i.resolved_at,
                   CASE WHEN i.id % 3 <> 1 AND i.resolved_at + interval '2 days 4 hours' <= now()
                        THEN i.resolved_at + interval '2 days 1 hour' END,
                   'bench'
            FROM inquiries_inquiry i
            WHERE i.resolved_at >= now() - interval '120 days' AND i.id % 4 = 0
            ON CONFLICT DO NOTHING
            """
        )
        info["follow_ups"] = cur.rowcount
        cur.execute(
            """
            INSERT INTO portal_satisfactionrating (inquiry_id, cycle, score, comment, created_at)
            SELECT i.id, i.reopen_count, 1 + (i.id * 7) % 5, 'bench', i.resolved_at + interval '1 day'
            FROM inquiries_inquiry i
            WHERE i.resolved_at >= now() - interval '120 days' AND i.id % 5 = 1
              AND i.resolved_at + interval '1 day' <= now()
            ON CONFLICT DO NOTHING
            """
        )
        info["ratings"] = cur.rowcount
        teams = [Team.objects.create(name=name) for name in BENCH_TEAMS]
        staff = list(get_user_model().objects.filter(username__startswith="benchstaff-").order_by("username"))
        for n, person in enumerate(staff):
            person.team = teams[n % len(teams)]
        get_user_model().objects.bulk_update(staff, ["team"])
        info["team_members"] = len(staff)
        info["seconds"] = time.perf_counter() - start
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) inquiries_followupcall, portal_satisfactionrating, fulfillment_user")
    log(f"fill: {info}")
    return info


def supervisor():
    user = get_user_model().objects.filter(tier=Tier.SUPERVISOR, is_active=True).order_by("username").first()
    if user is None:
        sys.exit("no active supervisor: run bench/generate_inquiries.py first")
    return user


def refresh_rollups() -> dict:
    """What the Celery task does every FD_REPORT_ROLLUP_SECONDS, timed."""
    from reports import tasks

    start = time.perf_counter()
    done = tasks.refresh()
    done["wall_seconds"] = time.perf_counter() - start
    log(f"rollups refreshed: {done}")
    return done


def measure_pages(user, args) -> list[dict]:
    """Each scenario twice: reading the rollups the task keeps (as supervisors get them), and
    live with ``fresh=1`` (the "Recompute now" link, and the first visit of a filter the task
    does not keep)."""
    client = Client()
    client.force_login(user)
    results = []
    for mode, suffix in (("rollups", ""), ("live", "&fresh=1")):
        for preset, range_label in PRESETS:
            for params, filter_label in scenarios():
                url = f"/reports/?preset={preset}" + "".join(f"&{k}={v}" for k, v in params.items()) + suffix
                results.append(time_page(client, url, args, mode=mode, range_label=range_label, label=filter_label))
    return results


def time_page(client, url: str, args, *, mode: str, range_label: str, label: str) -> dict:
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
        response, ms, db_ms = timed_get(client, url)
        if response.status_code != 200:
            sys.exit(f"{url} answered {response.status_code}")
        times.append(ms)
        db_times.append(db_ms)
    r = {**summary(times, db_times), "url": url, "range": range_label, "filter": label, "mode": mode}
    r["queries"] = queries
    log(f"page {url:50} p50={r['p50']:8.1f} p95={r['p95']:8.1f} db_p50={r['db_p50']:8.1f} q={r['queries']}")
    return r


def explain_slowest(metrics: list[dict]) -> tuple[dict, str, str]:
    slowest = max(metrics, key=lambda r: r["p50"])
    _seconds, sql = max(slowest["sql"], key=lambda s: s[0])
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cur.fetchall())
    return slowest, sql, plan


def render(info: dict, metrics: list[dict], pages: list[dict], explain, args) -> str:
    read = [p for p in pages if p["mode"] == "rollups"]
    live = [p for p in pages if p["mode"] == "live"]
    worst = max((p["p95"] for p in read), default=float("nan"))
    worst_live = max((p["p95"] for p in live), default=float("nan"))
    verdict = "**met**" if worst <= TARGET_MS else "**missed**"
    verdict_live = "met" if worst_live <= TARGET_MS else "**missed**"
    refreshed = info.get("refresh") or {}
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
        f"### Page `/reports/` (target p95 ≤ {TARGET_MS:.0f} ms)",
        "",
        f"- Reading the rollups (what supervisors get): {verdict} (worst p95 {worst:.1f} ms)",
        f"- Live (`fresh=1`, and the first visit of a filter the task does not keep): {verdict_live} "
        f"(worst p95 {worst_live:.1f} ms)",
        f"- The task's refresh (`reports.tasks.refresh`, every FD_REPORT_ROLLUP_SECONDS): "
        f"{refreshed.get('views', 0)} views in {refreshed.get('wall_seconds', float('nan')):.1f} s",
        "",
        "| mode | range | filter | url | n | p50 | p95 | max | SQL p50 | queries | p95 ≤ 500 |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in pages:
        ok = "met" if p["p95"] <= TARGET_MS else "**missed**"
        lines.append(
            f"| {p['mode']} | {p['range']} | {p['filter']} | `{p['url']}` | {p['n']} | {p['p50']:.1f} | "
            f"{p['p95']:.1f} | {p['max']:.1f} | {p['db_p50']:.1f} | {p['queries']} | {ok} |"
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
    parser.add_argument("--fill", action="store_true", help="add follow-up calls, ratings and teams first")
    parser.add_argument("--refill", action="store_true", help="with --fill: delete the bench rows first")
    args = parser.parse_args()
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    if args.fill:
        fill(args.refill)
    user = supervisor()
    info = run.machine_info()
    info["tables"] = table_rows()
    info["user"] = user.username
    metrics = measure_metrics(args)
    if not args.only:
        info["refresh"] = refresh_rollups()
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
