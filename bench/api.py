"""REST API v1 throughput on the benchmark database (see bench/README.md, section "API").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench .venv/bin/python bench/api.py

Run ``manage.py migrate`` on fd_bench first (the API added fulfillment 0002 and orders 0003).

a. INGEST: ``POST /api/v1/orders/bulk/`` with ``--batch`` (500) orders x 3 lines per request, each
   order with a unique (source, external_ref) and a ``customer_ref`` (one new customer per 5 orders),
   ``--requests`` times; then a plain-SQL baseline of the same rows (psycopg2 ``execute_values`` into
   orders_order and orders_orderline, one transaction per batch) and the ratio of the two.
   Every run uses its own source name (``bench-api-<timestamp>``); what it inserted is deleted at
   the end (``--keep`` leaves it).
b. PULL: walks ``GET /api/v1/orders/feed/?limit=1000`` from the start for at most ``--feed-seconds``
   (or to the end), then ``GET /api/v1/orders/?page_size=500`` for at most ``--list-seconds``.
   One request of each kind is profiled with cProfile (``--no-profile`` to skip).

Requests go through ``django.test.Client`` in process (middleware, auth, throttle, view, queries,
JSON rendering; no HTTP server), authenticated with a fresh API key (read+write) that is deleted
at the end. Settings: DJANGO_DEBUG=1, then settings.DEBUG=False; FD_API_RATE is raised (unless
set) so the throttle counts but never answers 429 during the bench.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fd_bench"

os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL") or DEFAULT_URL
os.environ["DJANGO_DEBUG"] = "1"
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.settings")
os.environ.setdefault("FD_LOG_LEVEL", "WARNING")
os.environ.setdefault("FD_API_RATE", "1000000/minute")
sys.path.insert(0, str(ROOT))

if urlparse(os.environ["DATABASE_URL"]).hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("the benchmark only talks to a local database")

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from measure import DbTimer, pct  # noqa: E402  (bench/ is on sys.path when run as a script)
from psycopg2.extras import execute_values  # noqa: E402

from fulfillment.api.auth import api_client_create  # noqa: E402
from fulfillment.models import ApiClient  # noqa: E402

settings.DEBUG = False

INGEST_TARGET = 2000.0  # orders/s
FEED_TARGET = 10000.0  # orders/s


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except Exception:
        return "?"


# --- a. ingest -------------------------------------------------------------------


def make_orders(source: str, request_no: int, batch: int) -> list[dict]:
    orders = []
    for i in range(batch):
        n = request_no * batch + i
        c = n // 5
        orders.append(
            {
                "source": source,
                "external_ref": f"R{n:07d}",
                "customer_ref": {
                    "source": source,
                    "external_ref": f"C{c:06d}",
                    "name": f"Bench Customer {c}",
                    "email": f"bench{c}@example.com",
                    "phone": f"+1 555 {c % 1000:03d} {c % 10000:04d}",
                    "country": "US",
                },
                "ship_by": "2030-01-02",
                "lines": [
                    {
                        "sku": f"SKU-{(n + k) % 500:04d}",
                        "description": f"Item {k}",
                        "quantity": 1 + k,
                        "unit_price": "9.99",
                    }
                    for k in range(3)
                ],
            }
        )
    return orders


def run_ingest(client: Client, headers: dict, source: str, requests: int, batch: int, profile: bool):
    times, db_times, db_counts, created, errors = [], [], [], 0, 0
    profile_text = ""
    started = time.perf_counter()
    for r in range(requests):
        body = json.dumps({"orders": make_orders(source, r, batch)})
        timer = DbTimer()
        prof = cProfile.Profile() if (profile and r == 1) else None
        t0 = time.perf_counter()
        with connection.execute_wrapper(timer):
            if prof:
                prof.enable()
            resp = client.post("/api/v1/orders/bulk/", body, content_type="application/json", **headers)
            if prof:
                prof.disable()
        times.append(time.perf_counter() - t0)
        if resp.status_code != 200:
            sys.exit(f"bulk: HTTP {resp.status_code}: {resp.content[:500]!r}")
        data = resp.json()
        created += data["created"]
        errors += data["errors"]
        if data["errors"]:
            first = next(x for x in data["results"] if x["result"] == "error")
            print("bulk item error:", first, file=sys.stderr)
        db_times.append(timer.seconds)
        db_counts.append(timer.count)
        if prof:
            profile_text = profile_summary(prof)
    wall = time.perf_counter() - started
    return {
        "requests": requests,
        "orders": created,
        "errors": errors,
        "wall": wall,
        "orders_per_s": created / wall if wall else 0,
        "p50_ms": pct(times, 50) * 1000,
        "p95_ms": pct(times, 95) * 1000,
        "db_share": sum(db_times) / sum(times),
        "queries_per_order": statistics.mean(db_counts) / batch,
        "profile": profile_text,
    }


def run_plain_sql(source: str, requests: int, batch: int) -> dict:
    """The same orders and lines, straight into the tables: one transaction per batch."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT r.external_ref, r.customer_id FROM orders_customerexternalref r WHERE r.source = %s", [source]
        )
        customers = dict(cur.fetchall())
    if not customers:
        with connection.cursor() as cur:
            cur.execute("SELECT min(id) FROM orders_customer")
            fallback = cur.fetchone()[0]
    times = []
    started = time.perf_counter()
    sql_source = source + "-sql"
    for r in range(requests):
        orders = make_orders(sql_source, r, batch)
        now = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        with transaction.atomic():
            raw = connection.cursor().cursor  # the psycopg2 cursor
            rows = []
            for o in orders:
                subtotal = sum(line["quantity"] * 9.99 for line in o["lines"])
                rows.append(
                    (
                        o["source"],
                        o["external_ref"],
                        "placed",
                        "",
                        "USD",
                        round(subtotal, 2),
                        round(subtotal, 2),
                        0,
                        0,
                        "unpaid",
                        o["customer_ref"]["name"],
                        "",
                        "",
                        "",
                        "",
                        "",
                        "US",
                        now,
                        o["ship_by"],
                        False,
                        "",
                        "",
                        now,
                        now,
                        1,
                        customers.get(o["customer_ref"]["external_ref"]) or fallback,
                        0,
                    )
                )
            ids = execute_values(
                raw,
                "INSERT INTO orders_order (source, external_ref, status, held_from_status, currency, subtotal, total,"
                " paid_amount, refunded_amount, payment_status, ship_name, ship_line1, ship_line2, ship_city,"
                " ship_region, ship_postal_code, ship_country, placed_at, ship_by, expedite, expedite_reason,"
                " expedite_requested_by, created_at, updated_at, version, customer_id, change_seq)"
                " VALUES %s RETURNING id",
                rows,
                page_size=batch,
                fetch=True,
            )
            ids = [i for (i,) in ids]
            raw.execute(
                "UPDATE orders_order SET number = %s || lpad(id::text, 7, '0'),"
                " change_seq = pg_current_xact_id()::text::bigint WHERE id = ANY(%s)",
                [settings.FD_ORDER_NUMBER_PREFIX, ids],
            )
            lines = [
                (pos, li["sku"], li["description"], li["quantity"], li["unit_price"], oid)
                for oid, o in zip(ids, orders, strict=True)
                for pos, li in enumerate(o["lines"])
            ]
            execute_values(
                raw,
                "INSERT INTO orders_orderline (position, sku, description, quantity, unit_price, order_id) VALUES %s",
                lines,
                page_size=len(lines),
            )
        times.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    n = requests * batch
    return {
        "orders": n,
        "wall": wall,
        "orders_per_s": n / wall,
        "p50_ms": pct(times, 50) * 1000,
        "p95_ms": pct(times, 95) * 1000,
    }


def cleanup(source: str) -> dict:
    """Deletes the orders (and their children) and customers this run inserted. Bounded by source."""
    sources = [source, source + "-sql"]
    counts = {}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT id FROM orders_order WHERE source = ANY(%s)", [sources])
        order_ids = [i for (i,) in cur.fetchall()]
        cur.execute("SELECT customer_id FROM orders_customerexternalref WHERE source = ANY(%s)", [sources])
        customer_ids = [i for (i,) in cur.fetchall()]
        for table in ("orders_handoff", "orders_orderevent", "orders_orderline", "orders_payment", "orders_shipment"):
            cur.execute(f"DELETE FROM {table} WHERE order_id = ANY(%s)", [order_ids])
            counts[table] = cur.rowcount
        cur.execute("DELETE FROM orders_order WHERE id = ANY(%s)", [order_ids])
        counts["orders_order"] = cur.rowcount
        for table in ("orders_customerevent", "orders_customerexternalref"):
            cur.execute(f"DELETE FROM {table} WHERE customer_id = ANY(%s)", [customer_ids])
            counts[table] = cur.rowcount
        cur.execute(
            "DELETE FROM orders_customer c WHERE c.id = ANY(%s)"
            " AND NOT EXISTS (SELECT 1 FROM orders_order o WHERE o.customer_id = c.id)",
            [customer_ids],
        )
        counts["orders_customer"] = cur.rowcount
    return counts


# --- b. pull ---------------------------------------------------------------------


def run_walk(client: Client, headers: dict, first_url: str, seconds: float, kind: str, profile: bool):
    times, db_times, db_counts, total, pages = [], [], [], 0, 0
    url = first_url
    profile_text = ""
    started = time.perf_counter()
    reached_end = False
    while time.perf_counter() - started < seconds:
        timer = DbTimer()
        prof = cProfile.Profile() if (profile and pages == 2) else None
        t0 = time.perf_counter()
        with connection.execute_wrapper(timer):
            if prof:
                prof.enable()
            resp = client.get(url, **headers)
            if prof:
                prof.disable()
        times.append(time.perf_counter() - t0)
        db_times.append(timer.seconds)
        db_counts.append(timer.count)
        if prof:
            profile_text = profile_summary(prof)
        if resp.status_code != 200:
            sys.exit(f"{kind}: HTTP {resp.status_code}: {resp.content[:500]!r}")
        data = json.loads(resp.content)
        total += len(data["results"])
        pages += 1
        if kind == "feed":
            if not data["has_more"]:
                reached_end = True
                break
            url = f"/api/v1/orders/feed/?limit=1000&cursor={data['next_cursor']}"
        else:
            if not data.get("next"):
                reached_end = True
                break
            parsed = urlparse(data["next"])
            url = parsed.path + "?" + parsed.query
    wall = time.perf_counter() - started
    return {
        "pages": pages,
        "orders": total,
        "wall": wall,
        "orders_per_s": total / wall if wall else 0,
        "p50_ms": pct(times, 50) * 1000,
        "p95_ms": pct(times, 95) * 1000,
        "db_share": sum(db_times) / sum(times) if times else 0,
        "queries_per_page": statistics.mean(db_counts) if db_counts else 0,
        "db_ms_per_page": statistics.mean(db_times) * 1000 if db_times else 0,
        "reached_end": reached_end,
        "profile": profile_text,
    }


def profile_summary(prof: cProfile.Profile, top: int = 25) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(
        r"(orders|fulfillment)/|rest_framework/(renderers|serializers)|json/encoder|models/query\.py.*(__iter__|_fetch_all|prefetch_related_objects)|models/base\.py.*from_db",
        top,
    )
    text = buf.getvalue()
    root = str(ROOT) + "/"
    return "\n".join(line.replace(root, "") for line in text.splitlines() if line.strip())


# --- main ------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10, help="bulk requests (1..100)")
    parser.add_argument("--batch", type=int, default=500, help="orders per bulk request (1..500)")
    parser.add_argument("--feed-seconds", type=float, default=60.0)
    parser.add_argument("--list-seconds", type=float, default=20.0)
    parser.add_argument("--only", default="ingest,feed,list")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--gc-tune",
        action="store_true",
        help="experiment: gc.freeze() after start-up and gen-0 threshold 50,000 (what a server could do)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the inserted orders in the database")
    parser.add_argument("--out", default=str(RESULTS / "api-latest.md"))
    parser.add_argument("--note", default="", help="a line for the report (e.g. what else ran on the machine)")
    args = parser.parse_args()
    args.requests = max(1, min(100, args.requests))
    args.batch = max(1, min(500, args.batch))
    args.feed_seconds = max(1.0, min(600.0, args.feed_seconds))
    args.list_seconds = max(1.0, min(600.0, args.list_seconds))
    only = set(args.only.split(","))
    if args.gc_tune:
        import gc

        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
    profile = not args.no_profile

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM django_migrations WHERE app = 'orders' AND name LIKE '0003%%'")
        if not cur.fetchone()[0]:
            sys.exit("run `manage.py migrate` on this database first (orders 0003, fulfillment 0002)")
        cur.execute("SELECT count(*) FROM orders_order")
        n_orders = cur.fetchone()[0]

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    source = f"bench-api-{stamp}"
    api_client, key = api_client_create(name=f"bench {stamp}", scopes=["read", "write"])
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    client = Client()
    print(f"{n_orders:,} orders in the database; source {source}; API client {api_client.pk}", flush=True)

    res: dict = {}
    try:
        # warm-up: imports, URL resolver, first connection
        client.get("/api/v1/orders/feed/?limit=10", **headers)
        res["load"] = {"start": os.getloadavg()}
        if "ingest" in only:
            print(f"ingest: {args.requests} x POST /api/v1/orders/bulk/ ({args.batch} orders x 3 lines) …", flush=True)
            res["ingest"] = run_ingest(client, headers, source, args.requests, args.batch, profile)
            print(f"  {res['ingest']['orders_per_s']:,.0f} orders/s", flush=True)
            print("plain SQL baseline …", flush=True)
            res["sql"] = run_plain_sql(source, args.requests, args.batch)
            print(f"  {res['sql']['orders_per_s']:,.0f} orders/s", flush=True)
            res["load"]["ingest"] = os.getloadavg()
        if "feed" in only:
            print(f"feed: walking /api/v1/orders/feed/?limit=1000 for ≤ {args.feed_seconds:.0f}s …", flush=True)
            res["feed"] = run_walk(
                client, headers, "/api/v1/orders/feed/?limit=1000", args.feed_seconds, "feed", profile
            )
            print(f"  {res['feed']['orders_per_s']:,.0f} orders/s", flush=True)
            res["load"]["feed"] = os.getloadavg()
        if "list" in only:
            print(f"list: walking /api/v1/orders/?page_size=500 for ≤ {args.list_seconds:.0f}s …", flush=True)
            res["list"] = run_walk(client, headers, "/api/v1/orders/?page_size=500", args.list_seconds, "list", profile)
            print(f"  {res['list']['orders_per_s']:,.0f} orders/s", flush=True)
            res["load"]["list"] = os.getloadavg()
    finally:
        if args.keep:
            res["cleanup"] = f"kept: orders with source {source} / {source}-sql"
        else:
            res["cleanup"] = cleanup(source)
        ApiClient.objects.filter(pk=api_client.pk).delete()

    report = render(res, args, n_orders, source)
    print()
    print(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report)
    print(f"written: {args.out}")


def render(res: dict, args, n_orders: int, source: str) -> str:
    def ok(value, target):
        return "✅" if value >= target else "❌"

    lines = [
        "# API bench (bench/api.py)",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · git {git_revision()} · {n_orders:,} orders · "
        f"{platform.python_implementation()} {platform.python_version()} · {os.cpu_count()} CPUs · "
        "django.test.Client in process, one request at a time"
        + (" · **gc tuned (--gc-tune)**" if args.gc_tune else ""),
        "",
        "| scenario | requests | orders | orders/s | target | p50 ms | p95 ms | DB share | queries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    if "ingest" in res:
        i, q = res["ingest"], res["sql"]
        lines.append(
            f"| ingest: POST bulk ({args.batch} × 3 lines) | {i['requests']} | {i['orders']:,} | "
            f"{i['orders_per_s']:,.0f} | ≥ {INGEST_TARGET:,.0f} {ok(i['orders_per_s'], INGEST_TARGET)} | "
            f"{i['p50_ms']:,.0f} | {i['p95_ms']:,.0f} | {i['db_share']:.0%} | {i['queries_per_order']:.1f}/order |"
        )
        lines.append(
            f"| baseline: plain SQL (execute_values, 1 tx / {args.batch}) | {i['requests']} | {q['orders']:,} | "
            f"{q['orders_per_s']:,.0f} | | {q['p50_ms']:,.0f} | {q['p95_ms']:,.0f} | 100% | 3/batch |"
        )
    for kind, label in (("feed", "pull: GET feed ?limit=1000"), ("list", "pull: GET list ?page_size=500")):
        if kind in res:
            f = res[kind]
            target = f"≥ {FEED_TARGET:,.0f} {ok(f['orders_per_s'], FEED_TARGET)}" if kind == "feed" else ""
            lines.append(
                f"| {label} | {f['pages']} | {f['orders']:,} | {f['orders_per_s']:,.0f} | {target} | "
                f"{f['p50_ms']:,.0f} | {f['p95_ms']:,.0f} | {f['db_share']:.0%} | {f['queries_per_page']:.0f}/page |"
            )
    lines.append("")
    if "ingest" in res:
        ratio = res["ingest"]["orders_per_s"] / res["sql"]["orders_per_s"]
        lines.append(
            f"Ingest API / plain SQL: **{ratio:.1%}** ({1 / ratio:.0f}× "
            f"slower); bulk item errors: {res['ingest']['errors']}."
        )
    for kind in ("feed", "list"):
        if kind in res:
            f = res[kind]
            lines.append(
                f"{kind}: {f['wall']:.1f}s, {'reached the end' if f['reached_end'] else 'stopped at the time bound'}; "
                f"DB {f['db_ms_per_page']:.0f} ms/page."
            )
    if res.get("load"):
        loads = ", ".join(f"{when} {' / '.join(f'{x:.2f}' for x in avg)}" for when, avg in res["load"].items())
        lines.append(
            f"Load average (1 / 5 / 15 min; {os.cpu_count()} CPUs) at the start and after each scenario: {loads}."
        )
    if args.note:
        lines.append(f"Note: {args.note}")
    lines += ["", f"Cleanup (source `{source}`): `{res.get('cleanup')}`", ""]
    for kind in ("ingest", "feed", "list"):
        if kind in res and res[kind].get("profile"):
            lines += [f"## cProfile: one {kind} request (top by own time)", "", "```", res[kind]["profile"], "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
