"""Server time of the inquiry desk pages on the benchmark database (see bench/README.md, "Inquiries").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench .venv/bin/python bench/run_inquiries.py

Run ``bench/generate.py`` and then ``bench/generate_inquiries.py`` first. Same method as
``bench/run.py`` (its setup and its ``time_scenario`` are imported): ``django.test.Client`` in
process, DEBUG off, logged in as ``benchrep`` (tier 1, a queue of about 120 active inquiries),
warm-up, then up to ``--runs`` timed requests per scenario. Writes
``bench/results/inquiries-latest.md`` and the SQL of one request per scenario to
``bench/results/inquiries-latest-queries.sql``.

Targets (issue 4): queue page p95 ≤ 100 ms, inquiry page p95 ≤ 150 ms, search p95 ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run
from django.db import connection
from inquiry_text import VOCAB, rank_for_count

RESULTS = run.RESULTS
TARGETS = {"queue": 100.0, "inquiry": 150.0, "search": 200.0}
TABLES = (
    "inquiries_inquiry",
    "inquiries_message",
    "inquiries_inquiryevent",
    "inquiries_inquiryorder",
    "inquiries_calllog",
    "inquiries_callback",
    "inquiries_planstep",
    "inquiries_remedy",
)


def one(sql: str, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def messages_matching(word: str) -> int:
    return one(
        "SELECT count(*) FROM inquiries_message WHERE to_tsvector('simple', body) @@ to_tsquery('simple', %s)", [word]
    )[0]


def sample(seed: int, n: int, rep_id: int) -> dict:
    """Typical inquiries across the id range, their customers' names and phones, their orders; the
    longest thread; search words of a chosen frequency (from the generator's vocabulary)."""
    rng = random.Random(seed)
    lo, hi = one("SELECT min(id), max(id) FROM inquiries_inquiry")
    if not hi:
        sys.exit("no inquiries: run bench/generate_inquiries.py first")
    ids = [rng.randint(lo, hi) for _ in range(n)]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT i.id, c.name, c.phone, (SELECT o.number FROM inquiries_inquiryorder l"
            " JOIN orders_order o ON o.id = l.order_id WHERE l.inquiry_id = i.id LIMIT 1)"
            " FROM inquiries_inquiry i JOIN orders_customer c ON c.id = i.customer_id WHERE i.id = ANY(%s)",
            [ids],
        )
        rows = cur.fetchall()
    rng.shuffle(rows)
    long_id, long_count = one(
        "SELECT id, message_count FROM inquiries_inquiry WHERE message_count >= 100"
        " ORDER BY (assignee_id = %s AND status IN ('new', 'open', 'waiting_customer', 'waiting_department')) DESC,"
        " message_count DESC, id LIMIT 1",
        [rep_id],
    ) or (rows[0][0], 0)
    total = one("SELECT count(*) FROM inquiries_message")[0]
    tokens = total * 7.5  # filler words per message: uniform 3..12 (generate_inquiries.FILLER_WORDS)
    rare = [VOCAB[rank_for_count(40, tokens) + k] for k in range(0, 400, 20)]
    mid = [VOCAB[rank_for_count(3000, tokens) + k] for k in range(0, 40, 2)]
    return {
        "ids": [r[0] for r in rows],
        "names": [r[1] for r in rows],
        "phones": [r[2] for r in rows if r[2]],
        "orders": [r[3] for r in rows if r[3]],
        "long": (long_id, long_count),
        "rare": rare,
        "mid": mid,
        "counts": {w: messages_matching(w) for w in (rare[0], mid[0], "delivery")},
    }


def scenarios(s: dict):
    cyc = lambda values, fmt: lambda i: fmt(values[i % len(values)])  # noqa: E731
    long_id, long_count = s["long"]
    c = s["counts"]
    rare, mid = s["rare"], s["mid"]
    return [
        ("queue", "queue_mine", "queue: mine (benchrep)", lambda i: "/inquiries/?queue=mine"),
        ("queue", "queue_unassigned", "queue: unassigned at tier 1", lambda i: "/inquiries/?queue=unassigned"),
        ("queue", "queue_team", "queue: team (tier ≤ 1)", lambda i: "/inquiries/?queue=team"),
        ("queue", "queue_callbacks", "queue: callbacks due", lambda i: "/inquiries/?queue=callbacks"),
        ("inquiry", "inquiry_page", "inquiry page, typical", cyc(s["ids"], lambda p: f"/inquiries/{p}/")),
        (
            "inquiry",
            "inquiry_long",
            f"inquiry page, {long_count} messages",
            lambda i: f"/inquiries/{long_id}/",
        ),
        (
            "search",
            "search_rare",
            f"search: rare word (~{c[rare[0]]} messages)",
            cyc(rare, lambda w: f"/inquiries/search/?q={w}"),
        ),
        (
            "search",
            "search_mid",
            f"search: mid word (~{c[mid[0]]:,} messages)",
            cyc(mid, lambda w: f"/inquiries/search/?q={w}"),
        ),
        (
            "search",
            "search_part_word",
            "search: part of a mid word (a prefix)",
            cyc(mid, lambda w: f"/inquiries/search/?q={w[:-3]}"),
        ),
        (
            "search",
            "search_common",
            f"search: common word ({c['delivery']:,} messages)",
            lambda i: "/inquiries/search/?q=delivery",
        ),
        (
            "search",
            "search_name",
            "search: customer's full name",
            cyc(s["names"], lambda n: f"/inquiries/search/?q={quote(n)}"),
        ),
        (
            "search",
            "search_name_prefix",
            "search: a name still being typed (last word a prefix)",
            cyc(s["names"], lambda n: f"/inquiries/search/?q={quote(n[:-2])}"),
        ),
        (
            "search",
            "search_phone",
            "search: customer's phone",
            cyc(s["phones"], lambda p: f"/inquiries/search/?q={quote(p)}"),
        ),
        ("search", "search_order", "search: order number", cyc(s["orders"], lambda n: f"/inquiries/search/?q={n}")),
        (
            "search",
            "search_reference",
            "search: reference INQ-…",
            cyc(s["ids"], lambda p: f"/inquiries/search/?q=INQ-{p:06d}"),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args, user, client = run.setup(parser, RESULTS / "inquiries-latest.md")
    data = sample(args.seed, max(args.runs, 50) + args.warmup, user.pk)
    info = run.machine_info()
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM {table}")
            info["rows"][table] = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FILTER (WHERE status IN ('new', 'open', 'waiting_customer', 'waiting_department')),"
            " count(*) FILTER (WHERE assignee_id = %s AND status IN ('new', 'open', 'waiting_customer',"
            " 'waiting_department')) FROM inquiries_inquiry",
            [user.pk],
        )
        info["active"], info["mine"] = cur.fetchone()

    results, sql_dump = [], []
    for group, key, label, url_for in scenarios(data):
        if args.only and key not in args.only:
            continue
        row, sql = run.time_scenario(client, key, label, url_for, args)
        row["target"] = TARGETS[group]
        results.append(row)
        sql_dump.append(sql)
    run.finish(info, results, sql_dump, args, render, Path(args.out).stem + "-queries.sql")


def render(info: dict, results: list[dict], args) -> str:
    rows = info["rows"]
    lines = run.report_header(
        f"## Inquiry desk benchmark — {rows['inquiries_inquiry']:,} inquiries, {rows['inquiries_message']:,} messages",
        info,
        args,
        who=f", logged in as `benchrep` (tier 1; {info['mine']} active inquiries assigned to him; "
        f"{info['active']:,} active in all)",
    )
    lines += [
        "| Scenario | Example request | n | p50 ms | p95 ms | max ms | SQL ms p50 | Queries | target p95 | met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ok = r["p95"] <= r["target"]
        lines.append(run.report_row(r, f"≤ {r['target']:.0f}", "yes" if ok else "**MISS**"))
    return "\n".join(lines + run.REPORT_FOOTER)


if __name__ == "__main__":
    main()
