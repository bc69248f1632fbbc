"""Service targets on the benchmark database (see bench/README.md, "Service targets").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench .venv/bin/python bench/run_targets.py

Run ``bench/generate.py`` and ``bench/generate_inquiries.py`` first, and ``manage.py migrate``
(the service-target tables and columns). Targets (the service-target issue):

1. computing deadlines for 100,000 open inquiries after a policy edit finishes within 60 s (2 cores);
2. the at-risk / breached queue filter at 1,000,000 inquiries: p95 ≤ 100 ms.

Steps, each reported:

1. **Open inquiries.** Counts the open (active) ones. With fewer than ``--open`` (100,000), the
   newest resolved or closed inquiries are reopened with SQL: status ``open``, one more
   ``reopen_count`` and a ``status_changed`` event (actor "bench (run_targets.py)") after their
   last event, so their timeline says they were reopened. Deterministic (newest ids first) and
   done once: a later run finds enough open inquiries.
2. **Initial fill.** ``rules_changed`` and ``recompute_run``: every open inquiry gets its
   policy, calendar and deadlines (the data generator knows nothing of policies). Then checks
   that the default policy governs at least ``--open`` open inquiries.
3. **Policy edit (the measured scenario).** The default policy's target for normal priority
   (any channel): resolution 2400 → 2100 business minutes, ``policy_changed`` and
   ``recompute_run`` timed end to end (batches of 1,000, each its own transaction, as the worker
   runs it), with timers around the parts (reading the timeline, computing the clocks,
   writing). Then one cProfile of ``recompute_batch`` over ``--profile-inquiries`` inquiries
   in a transaction that is rolled back.
4. **Restore.** The target goes back to 2400 with a second ``policy_changed`` + recompute (also
   timed: a second sample of the same work).
5. **Queue filters.** ``sla`` = at_risk / breached / attention on the team queue of a
   supervisor, the unassigned queue of a rep and the ``mine`` queue of the rep with the most
   open inquiries: the selector's queryset and the first page (50) of the keyset paginator the
   views use (``fulfillment.pagination.keyset_page``, ``due_at`` ascending), ``--runs`` timed
   runs after ``--warmup``. When ``inquiry_queue`` does not (yet) take ``sla=``, the bench adds
   the same condition itself, and the report says so. The same nine through the real view
   (``/inquiries/?queue=…&sla=…``). EXPLAIN (ANALYZE, BUFFERS) of the scenario with the worst
   p95 goes into the report. The bench runs no ANALYZE of its own (``--analyze`` to add one):
   the plans are those of the statistics the recomputes and autovacuum left.

The job is run in this process, as the Celery worker would run it; the message
``recompute_request`` would send on commit is not sent (a worker of another database must not
receive this job's id). Writes ``bench/results/targets-latest.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import io
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client
from measure import DbTimer, pct

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.pagination import keyset_page
from inquiries import selectors
from inquiries.enums import ACTIVE
from inquiries.models import InquiryEvent, PolicyRule, PolicyTarget, ServicePolicy, TargetRecord
from inquiries.services import targets
from inquiries.targets import clocks

RESULTS = run.RESULTS
RECOMPUTE_TARGET_S = 60.0
QUEUE_TARGET_MS = 100.0
PAGE = 50
ACTIVE_SQL = "('" + "', '".join(ACTIVE) + "')"
BENCH_ACTOR = "bench (run_targets.py)"
#: The edited target: the default policy, normal priority, any channel.
EDIT_PRIORITY, EDIT_FROM, EDIT_TO = 2, 2400, 2100


def one(sql: str, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


# --- 1. open inquiries --------------------------------------------------------------------------


def ensure_open(wanted: int) -> dict:
    """At least ``wanted`` open inquiries: reopen the newest resolved/closed ones when short."""
    found = one(f"SELECT count(*) FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL}")[0]
    info = {"open_before": found, "reopened": 0, "reopened_before": 0}
    info["reopened_before"] = one(
        "SELECT count(DISTINCT inquiry_id) FROM inquiries_inquiryevent WHERE type = 'status_changed'"
        " AND actor_name = %s",
        [BENCH_ACTOR],
    )[0]
    short = wanted - found
    if short <= 0:
        return info
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_reopen ON COMMIT DROP AS"
            " SELECT i.id, i.status AS old,"
            " greatest((SELECT max(e.created_at) FROM inquiries_inquiryevent e WHERE e.inquiry_id = i.id)"
            "          + interval '1 minute',"
            "          now() - make_interval(hours => (i.id %% 120)::int)) AS at"
            " FROM inquiries_inquiry i WHERE i.status IN ('resolved', 'closed') ORDER BY i.id DESC LIMIT %s",
            [short],
        )
        cur.execute(
            "INSERT INTO inquiries_inquiryevent"
            " (inquiry_id, created_at, actor_kind, actor_user_id, actor_name, details, type, message_id, call_id)"
            " SELECT id, at, 'system', NULL, %s,"
            " jsonb_build_object('old', old, 'new', 'open', 'reason', 'Reopened for the service-target bench.'),"
            " 'status_changed', NULL, NULL FROM bench_reopen",
            [BENCH_ACTOR],
        )
        cur.execute(
            "UPDATE inquiries_inquiry i SET status = 'open', reopen_count = i.reopen_count + 1,"
            " version = i.version + 1, updated_at = r.at FROM bench_reopen r WHERE i.id = r.id"
        )
        info["reopened"] = cur.rowcount
        cur.execute("SELECT min(id), max(id) FROM bench_reopen")
        info["reopened_ids"] = cur.fetchone()
    with connection.cursor() as cur:
        cur.execute("ANALYZE inquiries_inquiry")
    info["reopen_seconds"] = time.perf_counter() - start
    return info


# --- 2-4. recompute -----------------------------------------------------------------------------


def clear_targets() -> int:
    """``--refill``: the open inquiries as they were before their first recompute (no policy,
    calendar or deadlines, no target records), so the fill does the first-time work again."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE inquiries_inquiry SET policy_id = NULL, calendar_id = NULL, targets_recorded = 0,"
            " response_due_at = NULL, resolve_due_at = NULL, due_at = NULL, due_kind = '', warn_at = NULL"
            f" WHERE status IN {ACTIVE_SQL}"
        )
        cleared = cur.rowcount
        cur.execute("DELETE FROM inquiries_targetrecord")
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) inquiries_inquiry")
        cur.execute("VACUUM (ANALYZE) inquiries_targetrecord")
    return cleared


class Split:
    """Wall time in the parts of a recompute, by wrapping the functions ``recompute_batch``
    calls (each wrapper costs about a microsecond per call). Functions a version of the code
    does not have are skipped (older code wrote events with ``InquiryEvent.objects.bulk_create``)."""

    PARTS = (
        ("histories", targets, "histories", "read the timeline (query + rows → facts)"),
        ("callbacks", targets, "_pending_callbacks", "read pending callbacks"),
        ("compute", clocks, "compute", "compute the clocks (business-time arithmetic)"),
        ("deadlines", targets, "deadlines", "combine into deadlines"),
        ("write", targets, "_write", "write changed rows (one UPDATE … FROM VALUES)"),
        ("records", TargetRecord.objects, "bulk_create", "write target records"),
        ("events", targets, "_write_events", "write “Deadlines recomputed” events"),
        ("events", InquiryEvent.objects, "bulk_create", "write “Deadlines recomputed” events"),
    )

    def __init__(self):
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)
        self._saved = []

    def _wrap(self, key, fn):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1

        return timed

    def __enter__(self):
        for key, owner, name, _label in self.PARTS:
            if key == "events" and any(k == "events" for k, *_ in self._saved):
                continue  # the first one the code has
            original = getattr(owner, name, None)
            if original is None:
                continue
            is_manager = not inspect.ismodule(owner)
            self._saved.append((key, owner, name, None if is_manager else original))
            setattr(owner, name, self._wrap(key, original))
        return self

    def __exit__(self, *exc):
        for _key, owner, name, original in reversed(self._saved):
            if original is None:
                delattr(owner, name)  # a manager's method: its class's again
            else:
                setattr(owner, name, original)


def run_job(job_id: int, batch_size: int) -> dict:
    """``recompute_run`` timed end to end, with the split and the time inside cursor.execute."""
    db = DbTimer()
    with Split() as split, connection.execute_wrapper(db):
        start = time.perf_counter()
        job = targets.recompute_run(job_id, batch_size=batch_size)
        seconds = time.perf_counter() - start
    events = one(
        "SELECT count(*) FROM inquiries_inquiryevent WHERE type = 'deadlines_recomputed' AND details->>'reason' = %s",
        [job.reason],
    )[0]
    return {
        "job": job.pk,
        "reason": job.reason,
        "inquiries": job.done,
        "total": job.total,
        "changed": events,
        "seconds": seconds,
        "rate": job.done / seconds if seconds else 0.0,
        "split": dict(split.seconds),
        "calls": dict(split.calls),
        "db_seconds": db.seconds,
        "db_queries": db.count,
    }


def set_target(policy: ServicePolicy, minutes: int) -> None:
    PolicyTarget.objects.filter(policy=policy, priority=EDIT_PRIORITY, channel="").update(resolution_minutes=minutes)


def edit_and_recompute(policy: ServicePolicy, minutes: int, batch_size: int, reason: str) -> dict:
    start = time.perf_counter()
    set_target(policy, minutes)
    job = targets.policy_changed(actor=Actor.system("bench"), policy=policy, reason=reason)
    requested = time.perf_counter() - start
    result = run_job(job.pk, batch_size)
    result["request_seconds"] = requested
    return result


def profile_batches(policy: ServicePolicy, inquiries: int, batch_size: int) -> str:
    """cProfile of ``recompute_batch`` over the first ``inquiries`` open inquiries the policy
    governs, with the edited target moved once more (so rows change and are written), in a
    transaction rolled back at the end: nothing is written for good, the target included."""
    actor = Actor.system("bench profile")
    ids = list(targets._scope(policy.pk, None).order_by("pk").values_list("pk", flat=True)[:inquiries])
    profiler = cProfile.Profile()
    with transaction.atomic():
        set_target(policy, EDIT_TO - 300)
        config = targets.Configuration()
        start = time.perf_counter()
        profiler.enable()
        for k in range(0, len(ids), batch_size):
            targets.recompute_batch(ids[k : k + batch_size], config=config, actor=actor, reason="bench profile")
        profiler.disable()
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(28)
    text = out.getvalue()
    text = text[text.find("ncalls") :] if "ncalls" in text else text
    return (
        f"{len(ids):,} inquiries (resolution target {EDIT_TO} → {EDIT_TO - 300} for normal priority) in"
        f" {seconds:.2f} s under the profiler\n\n" + text.rstrip()
    )


# --- 5. queue filters ---------------------------------------------------------------------------

SLA = ("at_risk", "breached", "attention")


def sla_condition(sla: str, now) -> Q:
    """docs/service-targets.md, "Where you see it"."""
    if sla == "at_risk":
        return Q(warn_at__lte=now, due_at__gt=now)
    if sla == "breached":
        return Q(due_at__lte=now)
    return Q(warn_at__lte=now)


def selector_takes_sla() -> bool:
    return "sla" in inspect.signature(selectors.inquiry_queue).parameters


def queue_queryset(user, queue: str, sla: str, native: bool):
    if native:
        return selectors.inquiry_queue(actor=user, queue=queue, sla=sla)
    return selectors.inquiry_queue(actor=user, queue=queue).filter(sla_condition(sla, clock.now()))


def first_page(user, queue: str, sla: str, native: bool):
    qs = queue_queryset(user, queue, sla, native)
    return keyset_page(qs, cursor=None, size=PAGE, key="due_at", ascending=True)


def time_queue(user, queue: str, sla: str, native: bool, args) -> dict:
    for _ in range(args.warmup):
        first_page(user, queue, sla, native)
    times, db_times, rows = [], [], 0
    for _ in range(args.runs):
        timer = DbTimer()
        with connection.execute_wrapper(timer):
            start = time.perf_counter()
            page = first_page(user, queue, sla, native)
            elapsed = time.perf_counter() - start
        rows = len(page.items)
        times.append(elapsed * 1000)
        db_times.append(timer.seconds * 1000)
    qs = queue_queryset(user, queue, sla, native)
    matching = qs.count()
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": pct(times, 95),
        "max": max(times),
        "db_p50": statistics.median(db_times),
        "db_p95": pct(db_times, 95),
        "rows": rows,
        "matching": matching,
    }


def explain(user, queue: str, sla: str, native: bool) -> str:
    qs = queue_queryset(user, queue, sla, native).order_by("due_at", "id")[: PAGE + 1]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
        statement = cur.mogrify(sql, params).decode()
    return statement + ";\n\n" + plan


def time_pages(users: dict, args) -> tuple[list[dict], list[str]]:
    """The same filters through the real view (``/inquiries/?queue=…&sla=…``, template included),
    with ``run.time_scenario`` as bench/run_inquiries.py times its queues."""
    rows, sql = [], []
    for queue, user in users.items():
        client = Client()
        client.force_login(user)
        for sla in SLA:
            url = f"/inquiries/?queue={queue}&sla={sla}"
            row, text = run.time_scenario(
                client, f"page_{queue}_{sla}", f"{queue}, sla={sla}", lambda i, u=url: u, args
            )
            row.update(queue=queue, sla=sla)
            rows.append(row)
            sql.append(text)
    return rows, sql


def queue_users():
    User = get_user_model()
    supervisor = User.objects.filter(username__startswith="benchstaff-t4-").order_by("username").first()
    rep = User.objects.get(username="benchrep")
    busiest = one(
        f"SELECT assignee_id, count(*) FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL}"
        " AND assignee_id IS NOT NULL GROUP BY assignee_id ORDER BY count(*) DESC, assignee_id LIMIT 1"
    )
    mine = User.objects.get(pk=busiest[0])
    return supervisor, rep, mine, busiest[1]


# --- report -------------------------------------------------------------------------------------


def fmt_split(r: dict) -> list[str]:
    total = r["seconds"]
    lines = ["| part | s | share | calls |", "|---|---:|---:|---:|"]
    parts = dict(r["split"])
    # compute and deadlines run inside recompute_batch; histories/callbacks/write/records/events too.
    accounted = sum(parts.values())
    shown = set()
    for key, _o, _n, label in Split.PARTS:
        if key in parts and key not in shown:
            shown.add(key)
            lines.append(f"| {label} | {parts[key]:.2f} | {parts[key] / total:.0%} | {r['calls'].get(key, 0):,} |")
    rest = total - accounted
    lines.append(
        f"| the rest: batch ids, lock and read the rows, choose the policy, compare, commit, progress | "
        f"{rest:.2f} | {rest / total:.0%} | |"
    )
    lines.append(f"| **total** | **{total:.2f}** | 100% | |")
    lines.append("")
    lines.append(
        f"Inside Django's `cursor.execute`: {r['db_seconds']:.2f} s in {r['db_queries']:,} statements (round trips"
        " included; not in this figure: the writes through psycopg2's `execute_values` on the raw cursor, and"
        " rows fetched later from a server-side cursor, as older code read the timeline)."
    )
    return lines


def render(info: dict, args) -> str:
    lines = [
        "## Service targets benchmark — recompute after a policy edit, and the SLA queue filters",
        "",
        f"- Date: {info['date']}; code: `{info['revision']}`",
        f"- Command: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/{info['database']} "
        f".venv/bin/python bench/run_targets.py{info['argv']}`",
        f"- Machine: {info.get('cpu', '?')}, nproc={info['nproc']}, {info.get('memory', '?')} RAM",
        f"- PostgreSQL {info['postgres']} on 127.0.0.1 ({info['pg_settings']}); database `{info['database']}`, "
        f"{info['db_size']}",
        f"- Python {info['python']}, Django {info['django']}; everything in one process, as a Celery worker runs it",
        f"- Load average (1/5/15 min) before: {info['load_before']}; after: {info['load_after']} "
        "(anything else running on the box shows up in the times)",
        f"- Rows: inquiries {info['inquiries']:,}, timeline events {info['events']:,} (before this run's writes)",
        "",
    ]
    o = info["open"]
    lines += ["### Open inquiries", ""]
    lines.append(f"- Open (new, open, waiting on customer or department) at the start: **{o['open_before']:,}**.")
    if o["reopened"]:
        lo, hi = o["reopened_ids"]
        lines.append(
            f"- Fewer than {args.open:,}: reopened the {o['reopened']:,} newest resolved/closed inquiries (ids"
            f" {lo:,}–{hi:,}) with SQL, each with a `status_changed` event (`actor_name` = “{BENCH_ACTOR}”) after"
            f" its last event ({o['reopen_seconds']:.1f} s)."
        )
    elif o["reopened_before"]:
        lines.append(
            f"- Of these, {o['reopened_before']:,} were reopened by an earlier run of this bench"
            f" (`status_changed` events by “{BENCH_ACTOR}”)."
        )
    lines.append(
        f"- Open inquiries governed by the default policy after the fill: **{info['governed']:,}**"
        f" (active rules: {info['rules']})."
    )
    lines.append("")
    f = info.get("fill")
    if f:
        lines += [
            "### Initial fill (`rules_changed` → `recompute_run`, every open inquiry)",
            "",
            f"{f['inquiries']:,} inquiries in **{f['seconds']:.1f} s** ({f['rate']:,.0f} inquiries/s);"
            f" {f['changed']:,} rows changed"
            + (
                f" (`--refill` cleared the policy, deadlines and target records of {info['cleared']:,} open"
                " inquiries first: a first-time fill, as after the migration)."
                if info.get("cleared")
                else "."
            ),
            "",
        ]
        lines += fmt_split(f)
        lines.append("")
    for key, title in (
        ("edit", f"Policy edit (measured): normal priority resolution {EDIT_FROM} → {EDIT_TO} business minutes"),
        ("restore", f"Restore: back to {EDIT_FROM} (same work, a second sample)"),
    ):
        r = info.get(key)
        if not r:
            continue
        ok = r["seconds"] <= RECOMPUTE_TARGET_S and r["inquiries"] >= args.open
        lines += [
            f"### {title}",
            "",
            f"- `policy_changed` (version bump, job row, count of the scope): {r['request_seconds']:.2f} s",
            f"- `recompute_run` (batches of {args.batch_size:,}): **{r['inquiries']:,} inquiries in"
            f" {r['seconds']:.1f} s = {r['rate']:,.0f} inquiries/s**; rows changed (each with a"
            f" “Deadlines recomputed” event): {r['changed']:,}",
            f"- Target: ≤ {RECOMPUTE_TARGET_S:.0f} s for ≥ {args.open:,} inquiries: **{'met' if ok else 'MISSED'}**",
            "",
        ]
        lines += fmt_split(r)
        lines.append("")
    if info.get("profile"):
        lines += [
            "### cProfile of `recompute_batch` (rolled back)",
            "",
            "```",
            info["profile"],
            "```",
            "",
        ]
    q = info.get("queues")
    if q:
        lines += [
            "### Queue filters (`sla=`)",
            "",
            "What is timed: the selector's queryset and the first page of the keyset paginator the views use "
            f"(`keyset_page(…, size={PAGE}, key='due_at', ascending=True)`, {PAGE + 1} rows fetched, model instances "
            "with customer and assignee), no template. "
            + (
                "`inquiry_queue(…, sla=…)` builds the filter."
                if q["native"]
                else "**`inquiry_queue` did not take `sla=` yet: the bench adds the same condition to its queryset "
                "(`at_risk`: `warn_at <= now < due_at`; `breached`: `due_at <= now`; `attention`: "
                "`warn_at <= now`).**"
            ),
            f"{args.warmup} warm-up runs, then {args.runs} timed runs per row. Users: team = `{q['users']['team']}`"
            f" (supervisor), unassigned = `{q['users']['unassigned']}` (rep, tier 1), mine ="
            f" `{q['users']['mine']}` ({q['users']['mine_count']} open inquiries assigned, the most of anyone).",
            "",
            "| queue | sla | matching | rows | p50 ms | p95 ms | max ms | SQL ms p50 | SQL ms p95 | p95 ≤ 100 ms |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in q["rows"]:
            ok = r["p95"] <= QUEUE_TARGET_MS
            lines.append(
                f"| {r['queue']} | {r['sla']} | {r['matching']:,} | {r['rows']} | {r['p50']:.1f} | {r['p95']:.1f} | "
                f"{r['max']:.1f} | {r['db_p50']:.1f} | {r['db_p95']:.1f} | {'yes' if ok else '**MISS**'} |"
            )
        worst = q["worst"]
        lines += [
            "",
            "Matching: how many inquiries the filter matches in that queue (one `count()` after the timed runs).",
            "Statistics: "
            + (
                f"`ANALYZE inquiries_inquiry` ({info['analyze_seconds']:.1f} s, `--analyze`) before the queue runs."
                if "analyze_seconds" in info
                else "as the recomputes left them (a recompute of 10,000 inquiries or more ANALYZEs the columns it"
                " writes when it finishes, where the code does) and autovacuum; no ANALYZE by the bench."
            ),
        ]
        if q["pages"]:
            lines += [
                "",
                "The same filters through the real view (`/inquiries/?queue=…&sla=…`: middleware, session, selector,"
                " paginator, template), `django.test.Client` in process, DEBUG off, as `bench/run_inquiries.py`"
                f" times its queues ({args.warmup} warm-up requests, then up to {args.runs}); the SQL of one request"
                f" each is in `{Path(args.out).stem}-queries.sql`:",
                "",
                "| page | n | p50 ms | p95 ms | max ms | SQL ms p50 | queries | p95 ≤ 100 ms |",
                "|---|---:|---:|---:|---:|---:|---:|---|",
            ]
            for r in q["pages"]:
                ok = r["p95"] <= QUEUE_TARGET_MS
                lines.append(
                    f"| `{r['example']}` | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | "
                    f"{r['db_p50']:.1f} | {r['queries']} | {'yes' if ok else '**MISS**'} |"
                )
        lines += [
            "",
            f"EXPLAIN (ANALYZE, BUFFERS) of the worst p95 ({worst['queue']}, sla={worst['sla']}):",
            "",
            "```",
            q["explain"],
            "```",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, default=100_000, help="open inquiries wanted (reopens when short)")
    parser.add_argument("--batch-size", type=int, default=targets.BATCH_SIZE)
    parser.add_argument("--profile-inquiries", type=int, default=10_000, help="0: no cProfile")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--refill",
        action="store_true",
        help="clear policy, deadlines and target records of the open inquiries first (a first-time fill)",
    )
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit per page scenario")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="ANALYZE inquiries_inquiry before the queue runs (by default the statistics are what the"
        " recomputes and autovacuum left)",
    )
    parser.add_argument("--skip", default="", help="comma-separated: fill,recompute,queues")
    parser.add_argument("--out", default=str(RESULTS / "targets-latest.md"))
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    # The job runs here; no message for a worker (it might serve another database).
    targets._enqueue = lambda job_id: None

    info = run.machine_info()
    info["argv"] = "".join(" " + a for a in sys.argv[1:])
    stamp = info["date"]  # in each job's reason: this run's events are counted by it
    info["inquiries"] = one("SELECT count(*) FROM inquiries_inquiry")[0]
    info["events"] = one("SELECT count(*) FROM inquiries_inquiryevent")[0]
    if not info["inquiries"]:
        sys.exit("no inquiries: run bench/generate.py and bench/generate_inquiries.py first")
    policy = ServicePolicy.objects.filter(is_default=True).first()
    if policy is None:
        sys.exit("no default service policy: run manage.py migrate")
    target = PolicyTarget.objects.get(policy=policy, priority=EDIT_PRIORITY, channel="")
    if target.resolution_minutes != EDIT_FROM:
        sys.exit(f"the default policy's normal-priority resolution is {target.resolution_minutes}, not {EDIT_FROM}")
    info["rules"] = PolicyRule.objects.filter(is_active=True).count()

    info["open"] = ensure_open(args.open)
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    log(f"open inquiries: {info['open']}")
    if args.refill:
        info["cleared"] = clear_targets()
        log(f"cleared the service-target columns of {info['cleared']:,} open inquiries")
    if "fill" not in skip:
        job = targets.rules_changed(actor=Actor.system("bench"), reason=f"bench {stamp}: initial fill")
        info["fill"] = run_job(job.pk, args.batch_size)
        log(f"initial fill: {info['fill']}")
    info["governed"] = one(
        f"SELECT count(*) FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL} AND policy_id = %s", [policy.pk]
    )[0]
    if info["governed"] < args.open:
        log(f"only {info['governed']:,} open inquiries are governed by the default policy")
    if "recompute" not in skip:
        try:
            info["edit"] = edit_and_recompute(
                policy, EDIT_TO, args.batch_size, f"bench {stamp}: resolution {EDIT_FROM} → {EDIT_TO} (normal)"
            )
            log(f"policy edit: {info['edit']}")
            if args.profile_inquiries:
                info["profile"] = profile_batches(policy, args.profile_inquiries, args.batch_size)
        finally:
            info["restore"] = edit_and_recompute(
                policy, EDIT_FROM, args.batch_size, f"bench {stamp}: resolution {EDIT_TO} → {EDIT_FROM} (restored)"
            )
            log(f"restore: {info['restore']}")
    if "queues" not in skip and args.analyze:
        start = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("ANALYZE inquiries_inquiry")
        info["analyze_seconds"] = time.perf_counter() - start
    if "queues" not in skip:
        native = selector_takes_sla()
        supervisor, rep, mine, mine_count = queue_users()
        rows = []
        for queue, user in (("team", supervisor), ("unassigned", rep), ("mine", mine)):
            for sla in SLA:
                r = time_queue(user, queue, sla, native, args)
                r.update(queue=queue, sla=sla, user=user)
                rows.append(r)
                log(f"{queue:10} {sla:9} p50={r['p50']:7.1f} p95={r['p95']:7.1f} matching={r['matching']:,}")
        worst = max(rows, key=lambda r: r["p95"])
        pages, sql = time_pages({"team": supervisor, "unassigned": rep, "mine": mine}, args) if native else ([], [])
        if sql:
            (Path(args.out).parent / (Path(args.out).stem + "-queries.sql")).write_text("\n\n".join(sql) + "\n")
        info["queues"] = {
            "pages": pages,
            "native": native,
            "rows": rows,
            "worst": worst,
            "explain": explain(worst["user"], worst["queue"], worst["sla"], native),
            "users": {
                "team": supervisor.username,
                "unassigned": rep.username,
                "mine": mine.username,
                "mine_count": mine_count,
            },
        }
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    report = render(info, args)
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")


if __name__ == "__main__":
    main()
