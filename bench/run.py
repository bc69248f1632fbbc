"""Server time of the real desk views on the benchmark database (see bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench .venv/bin/python bench/run.py

Each scenario is a GET through ``django.test.Client`` (the whole middleware stack, session,
auth, view, queries and template rendering; no HTTP server and no network), logged in as
``benchrep`` with ``force_login``. Each is warmed up, then timed ``--runs`` times (bounded by
``--max-seconds`` per scenario). The SQL of one request per scenario is captured with
``CaptureQueriesContext`` and written to ``bench/results/latest-queries.sql`` for EXPLAIN.

Settings: loaded with ``DJANGO_DEBUG=1`` (local settings: no secret key, plain static files),
then ``settings.DEBUG = False`` before the first request so Django does not keep a query log
or build debug pages, as in production.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fd_bench"
BUDGET_MS = 100.0
NOT_DELIVERED = ("placed", "confirmed", "processing", "packed", "on_hold", "shipped")
#: Scenarios the budget is for (the others are reported against the same line, for information).
BUDGETED = {  # the order list page (all its variants) and the order page
    "list_first",
    "list_status",
    "list_status_open",
    "list_late",
    "list_expedite",
    "list_q_phone",
    "list_q_number",
    "list_q_name",
    "list_q_broad",
    "list_status_common",
    "list_deep",
    "order_page",
}

os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL") or DEFAULT_URL
os.environ["DJANGO_DEBUG"] = "1"
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.settings")
os.environ.setdefault("FD_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(ROOT))

if urlparse(os.environ["DATABASE_URL"]).hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("the benchmark only talks to a local database")

import warnings  # noqa: E402

import django  # noqa: E402

# WhiteNoise warns once that STATIC_ROOT does not exist (no collectstatic on a bench box): not a finding.
warnings.filterwarnings("ignore", message="No directory at")

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from measure import pct, timed_get  # noqa: E402  (bench/ is on sys.path when run as a script)

settings.DEBUG = False  # no query log, no debug pages: production behaviour for the timed requests


def sample_ids(seed: int, n: int):
    """Random orders across the id range, their customers, and those customers' phones and names."""
    rng = random.Random(seed)
    with connection.cursor() as cur:
        cur.execute("SELECT min(id), max(id) FROM orders_order")
        lo, hi = cur.fetchone()
        if not hi:
            sys.exit("no orders: run bench/generate.py first")
        ids = [rng.randint(lo, hi) for _ in range(n)]
        cur.execute("SELECT id, number, customer_id FROM orders_order WHERE id = ANY(%s)", [ids])
        orders = cur.fetchall()
        rng.shuffle(orders)
        customer_ids = [c for _, _, c in orders]
        cur.execute("SELECT id, phone, name FROM orders_customer WHERE id = ANY(%s) ORDER BY id", [customer_ids])
        found = cur.fetchall()
        rng.shuffle(found)
        phones = [p for _, p, _ in found if p]
        names = [n for _, _, n in found]
    return [num for _, num, _ in orders], customer_ids, phones, names


def follow_next(client: Client, url: str, pages: int) -> str:
    """The URL of the page ``pages`` clicks on "Older" after ``url``."""
    for _ in range(pages):
        html = client.get(url).content.decode()
        match = re.search(r'href="\?([^"]*cursor=[^"]+)" rel="next"', html)
        if not match:
            sys.exit(f"no next link after {url}")
        url = "/orders/?" + unescape(match.group(1))
    return url


def scenarios(orders: list[str], customers: list[int], phones: list[str], names: list[str], deep_url: str):
    cyc = lambda values, fmt: lambda i: fmt(values[i % len(values)])  # noqa: E731
    return [
        ("list_first", "order list, first page", lambda i: "/orders/"),
        ("list_status", "list, status=shipped", lambda i: "/orders/?status=shipped"),
        (
            "list_status_open",
            "list, 6 not-delivered statuses",
            lambda i: "/orders/?" + "&".join(f"status={s}" for s in NOT_DELIVERED),
        ),
        ("list_late", "list, promise=late", lambda i: "/orders/?promise=late"),
        ("list_expedite", "list, expedite=true", lambda i: "/orders/?expedite=true"),
        ("list_q_phone", "list, q=<customer's phone>", cyc(phones, lambda p: f"/orders/?q={quote(p)}")),
        ("list_q_number", "list, q=<order number>", cyc(orders, lambda n: f"/orders/?q={n}")),
        ("list_q_name", "list, q=<customer's full name>", cyc(names, lambda n: f"/orders/?q={quote(n)}")),
        ("list_q_broad", "list, q=<common surname> (>200 customers)", lambda i: "/orders/?q=Kumar"),
        ("list_status_common", "list, status=delivered", lambda i: "/orders/?status=delivered"),
        ("list_deep", "list, 20 pages in (cursor)", lambda i: deep_url),
        ("order_page", "order page", cyc(orders, lambda n: f"/orders/{n}/")),
        ("customer_page", "customer page", cyc(customers, lambda c: f"/customers/{c}/")),
        ("customers_q_number", "customer list, q=<order number>", cyc(orders, lambda n: f"/customers/?q={n}")),
        ("search_phone", "header search, q=<phone>", cyc(phones, lambda p: f"/search/?q={quote(p)}")),
        ("search_number", "header search, q=<order number>", cyc(orders, lambda n: f"/search/?q={n}")),
        ("search_broad", "header search, q=<common surname>", lambda i: "/search/?q=Kumar"),
        ("search_digits", "header search, q=<phone digits only>", cyc(phones, lambda p: f"/search/?q={digits(p)}")),
    ]


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def git_revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True)
        return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")
    except OSError:
        return "?"


def machine_info() -> dict:
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "revision": git_revision(),
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
        mem = next((line.split()[1] for line in meminfo if line.startswith("MemTotal")), "0")
        info["cpu"] = cpu
        info["memory"] = f"{int(mem) / 1024 / 1024:.0f} GiB"
        info["nproc"] = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or info["nproc"]
    except OSError:
        pass
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        info["postgres"] = cur.fetchone()[0]
        cur.execute(
            "SELECT current_setting('shared_buffers'), current_setting('work_mem'), "
            "current_setting('random_page_cost'), current_setting('effective_cache_size')"
        )
        sb, wm, rpc, ecs = cur.fetchone()
        info["pg_settings"] = f"shared_buffers={sb}, work_mem={wm}, random_page_cost={rpc}, effective_cache_size={ecs}"
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database())), current_database()")
        info["db_size"], info["database"] = cur.fetchone()
        counts = {}
        for table in (
            "orders_customer",
            "orders_order",
            "orders_orderline",
            "orders_orderevent",
            "orders_shipment",
            "orders_payment",
            "orders_handoff",
        ):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
        info["rows"] = counts
    return info


def time_scenario(client: Client, key: str, label: str, url_for, args) -> tuple[dict, str]:
    """One scenario: a request with its SQL captured, ``args.warmup`` warm-up requests, then up to
    ``args.runs`` timed ones (at most ``args.max_seconds``). Returns the table row and the SQL text."""
    # One request with the SQL captured (also the first warm-up request).
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url_for(0))
    if response.status_code != 200:
        sys.exit(f"{key}: {url_for(0)} answered {response.status_code}")
    queries = len(ctx.captured_queries)
    sql = f"-- {key}: GET {url_for(0)} ({queries} queries)\n" + "\n".join(
        f"-- [{q['time']}s]\n{q['sql']};" for q in ctx.captured_queries
    )
    deadline = time.perf_counter() + args.max_seconds / 4
    for i in range(1, args.warmup):
        client.get(url_for(i))
        if time.perf_counter() > deadline:
            break
    times, db_times = [], []
    deadline = time.perf_counter() + args.max_seconds
    for i in range(args.runs):
        url = url_for(args.warmup + i)
        response, ms, db_ms = timed_get(client, url)
        if response.status_code != 200:
            sys.exit(f"{key}: {url} answered {response.status_code}")
        times.append(ms)
        db_times.append(db_ms)
        if time.perf_counter() > deadline:
            break
    row = {
        "key": key,
        "label": label,
        "example": url_for(0) if len(url_for(0)) < 60 else url_for(0)[:57] + "…",
        "n": len(times),
        "p50": statistics.median(times),
        "p95": pct(times, 95),
        "max": max(times),
        "db_p50": statistics.median(db_times),
        "queries": queries,
    }
    print(
        f"{key:15} n={row['n']:4} p50={row['p50']:8.1f} p95={row['p95']:8.1f} max={row['max']:8.1f} "
        f"db_p50={row['db_p50']:8.1f} queries={queries}",
        file=sys.stderr,
        flush=True,
    )
    return row, sql


def setup(parser: argparse.ArgumentParser, out: Path):
    """The options every bench run takes, parsed; ``benchrep`` and a client logged in as him."""
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="time limit per scenario (timed part; warm-up gets a quarter)"
    )
    parser.add_argument("--only", default="", help="comma-separated scenario keys")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(out))
    args = parser.parse_args()
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    user = get_user_model().objects.get(username="benchrep")
    client = Client()
    client.force_login(user)
    return args, user, client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deep-pages", type=int, default=20)
    args, _user, client = setup(parser, RESULTS / "latest.md")

    orders, customers, phones, names = sample_ids(args.seed, max(args.runs, 50) + args.warmup)
    deep_url = follow_next(client, "/orders/", args.deep_pages)
    info = machine_info()

    results = []
    sql_dump = []
    for key, label, url_for in scenarios(orders, customers, phones, names, deep_url):
        if args.only and key not in args.only:
            continue
        row, sql = time_scenario(client, key, label, url_for, args)
        sql_dump.append(sql)
        results.append(row)

    finish(info, results, sql_dump, args, render, "latest-queries.sql")


def finish(info: dict, results: list[dict], sql_dump: list[str], args, render, sql_name: str) -> None:
    """Print the report and write it to ``args.out``, and the captured SQL next to it."""
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    report = render(info, results, args)
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    (out.parent / sql_name).write_text("\n\n".join(sql_dump) + "\n")


def report_header(title: str, info: dict, args, *, who: str = "", note: str = "") -> list[str]:
    """The lines above a report's table: when, where, what data, how measured."""
    return [
        title,
        "",
        f"- Date: {info['date']}; code: `{info['revision']}`",
        f"- Machine: {info.get('cpu', '?')}, nproc={info['nproc']}, {info.get('memory', '?')} RAM",
        f"- PostgreSQL {info['postgres']} on 127.0.0.1 ({info['pg_settings']}); database `{info['database']}`, "
        f"{info['db_size']}",
        f"- Python {info['python']}, Django {info['django']}; in-process `django.test.Client`, DEBUG off{who}",
        f"- Load average (1/5/15 min) before: {info['load_before']}; after: {info['load_after']} "
        "(anything else running on the box shows up in p95 and max)",
        "- Rows: " + ", ".join(f"{t.split('_', 1)[1]} {c:,}" for t, c in info["rows"].items()),
        f"- Each scenario: {args.warmup} warm-up requests, then up to {args.runs} timed requests "
        f"(at most {args.max_seconds:.0f} s); times in ms{note}",
        "",
    ]


def report_row(r: dict, *verdict: str) -> str:
    return (
        f"| {r['label']} | `{r['example']}` | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | "
        f"{r['db_p50']:.1f} | {r['queries']} | " + " | ".join(verdict) + " |"
    )


REPORT_FOOTER = [
    "",
    "SQL ms p50: median time spent inside `cursor.execute` per request (round trips included). "
    "Queries: per request, counted once with `CaptureQueriesContext` (session and user lookups included).",
    "",
]


def render(info: dict, results: list[dict], args) -> str:
    lines = report_header(
        f"## Fulfillment Desk benchmark — {info['rows']['orders_order']:,} orders",
        info,
        args,
        note=f"; budget: p95 ≤ {BUDGET_MS:.0f} ms",
    )
    lines += [
        "| Scenario | Example request | n | p50 ms | p95 ms | max ms | SQL ms p50 | Queries | p95 ≤ 100 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ok = r["p95"] <= BUDGET_MS
        verdict = ("yes" if ok else "**MISS**") if r["key"] in BUDGETED else ("yes" if ok else "no") + " (info)"
        lines.append(report_row(r, verdict))
    return "\n".join(lines + REPORT_FOOTER)


if __name__ == "__main__":
    main()
