"""Scheduled work at scale (see bench/README.md, "Scheduled work"; issue 7, "Quality bars").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench_jobs REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/run_scheduling.py --fill

Targets:

1. the sweep's claim (``scheduling.claim_due``: the due rows' ``SELECT … FOR UPDATE SKIP
   LOCKED LIMIT 1000`` and the ``UPDATE`` to queued) on a job table of 1,000,000 rows of which
   1 % are due: ≤ 50 ms;
2. 100,000 due jobs swept and run through a real Celery worker (prefork, 2 processes) on
   PostgreSQL + Redis: ≥ 1,000 jobs/s end to end (2 cores).

Steps:

1. **Fill** (``--fill``; drops and re-creates the database, migrates): ``--rows`` job rows with
   COPY — 1 % scheduled and due (in the ten minutes before the fill), 9 % scheduled in the next
   30 days, 87 % done, 2.5 % cancelled, 0.5 % failed — of the kinds the desk schedules (follow-up
   calls, callback and expedite reminders, customer updates, target warnings, webhook
   deliveries) with their keys and refs. VACUUM (ANALYZE). The fill's time is the newest
   ``created_at``: the claim is timed with that ``now``, so the share of due rows is the same
   however long after the fill it runs.
2. **Claim.** ``claim_due(now=fill time)`` ``--runs`` times after ``--warmup``, each in a
   transaction rolled back (the table stays as filled); then EXPLAIN (ANALYZE, BUFFERS) of the
   statements it ran, captured from one more call.
3. **Throughput.** The fill's due and soon-due rows are parked 100 years ahead; ``--jobs``
   ``bench.touch`` jobs (bench/scheduling_jobs.py: re-read a staff member, write one in-app
   notification) are written due now, ANALYZE; a real ``celery worker --pool=prefork
   --concurrency=2`` (production settings, its own queue on REDIS_URL) is started and one
   ``sweep_jobs`` task is sent — what beat does. Timed from sending it to the last job's
   ``done_at``; then checks every job is done once (attempts 1, one notification each). The
   same handler is also run in this process without Celery (``--inprocess`` jobs) to split the
   time between the engine's per-job work and the task overhead. Afterwards the bench jobs and
   their notifications are deleted and the parked rows put back.

Writes ``bench/results/scheduling-latest.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/fd_bench_jobs"
QUEUE = os.environ.setdefault("FD_CELERY_QUEUE", f"fd-bench-jobs-{uuid.uuid4().hex[:8]}")
os.environ.setdefault("FD_JOB_MODULES", "bench.scheduling_jobs")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402  (ensure_database, migrate)
import run  # noqa: E402  (sets Django up on DATABASE_URL, local only)
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from measure import pct  # noqa: E402

from bench.scheduling_jobs import KIND as BENCH_KIND  # noqa: E402
from fulfillment import scheduling  # noqa: E402
from fulfillment.models import Job, JobState  # noqa: E402
from fulfillment.tasks import sweep_jobs  # noqa: E402

ROOT = run.ROOT
OUT = run.RESULTS / "scheduling-latest.md"
CLAIM_TARGET_MS = 50.0
RATE_TARGET = 1000.0
#: kind, share, key pattern, ref pattern (n is the row number: keys are unique)
KINDS = (
    ("inquiries.follow_up_due", 0.25, "follow-up:{n}:due", "inquiry:{r}"),
    ("inquiries.callback_reminder", 0.10, "callback:{n}:remind", "inquiry:{r}"),
    ("orders.expedite_reminder", 0.15, "expedite:{n}:{a}", "order:{r}"),
    ("inquiries.customer_update", 0.15, "quiet:{n}:{a}", "inquiry:{r}"),
    ("inquiries.target_warning", 0.20, "target-warning:{n}", "inquiry:{r}"),
    ("fulfillment.webhook_deliver", 0.15, "webhook-delivery:{n}:1", "webhook-delivery:{n}"),
)
#: state, share of the rows
STATES = (("due", 0.01), ("future", 0.09), ("done", 0.87), ("cancelled", 0.025), ("failed", 0.005))
COLUMNS = "kind, key, ref, payload, state, due_at, attempts, claimed_at, last_error, created_at, updated_at, done_at"
STAFF = 50
PARK = "interval '100 years'"


def one(sql: str, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def ts(value: dt.datetime | None) -> str:
    return r"\N" if value is None else value.isoformat()


# --- 1. fill ------------------------------------------------------------------------------------


def job_rows(start: int, count: int, now: dt.datetime, rnd: random.Random):
    """COPY lines for rows ``start`` … ``start + count - 1``."""
    kinds = [k for k, *_ in KINDS]
    kind_weights = [w for _k, w, *_ in KINDS]
    patterns = {k: (key, ref) for k, _w, key, ref in KINDS}
    states = [s for s, _ in STATES]
    state_weights = [w for _s, w in STATES]
    for n in range(start, start + count):
        kind = rnd.choices(kinds, kind_weights)[0]
        what = rnd.choices(states, state_weights)[0]
        key_pattern, ref_pattern = patterns[kind]
        ref = ref_pattern.format(n=n, r=rnd.randint(1, 1_000_000))
        key = key_pattern.format(n=n, a=rnd.randint(1, 5))
        payload = json.dumps({"ref": ref, "n": n})
        attempts, claimed, error, done = 0, None, "", None
        if what == "due":
            state, due = "scheduled", now - dt.timedelta(seconds=rnd.randint(1, 600))
            created = due - dt.timedelta(days=rnd.randint(0, 14))
        elif what == "future":
            state, due = "scheduled", now + dt.timedelta(seconds=rnd.randint(60, 30 * 86400))
            created = now - dt.timedelta(seconds=rnd.randint(0, 14 * 86400))
        else:
            due = now - dt.timedelta(seconds=rnd.randint(600, 180 * 86400))
            created = due - dt.timedelta(days=rnd.randint(0, 14))
            state = what
            if what == "done":
                attempts, claimed = 1, due + dt.timedelta(seconds=rnd.randint(0, 10))
                done = claimed + dt.timedelta(milliseconds=rnd.randint(5, 3000))
            elif what == "failed":
                attempts, error = 8, "ConnectionError: the receiver did not answer"
        updated = done or claimed or created
        yield "\t".join(
            (
                kind,
                key,
                ref,
                payload,
                state,
                ts(due),
                str(attempts),
                ts(claimed),
                error,
                ts(created),
                ts(updated),
                ts(done),
            )
        )


def fill(rows: int, seed: int) -> dict:
    url = os.environ["DATABASE_URL"]
    start = time.perf_counter()
    generate.ensure_database(url, reset=True)
    generate.migrate(url)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rnd = random.Random(seed)
    chunk = 100_000
    with connection.cursor() as cur:
        for first in range(0, rows, chunk):
            buffer = io.StringIO("\n".join(job_rows(first, min(chunk, rows - first), now, rnd)) + "\n")
            cur.copy_expert(f"COPY fulfillment_job ({COLUMNS}) FROM STDIN", buffer)
        # the fill's time, for the claim's ``now``: the newest created_at
        cur.execute(
            "UPDATE fulfillment_job SET created_at = %s WHERE id = (SELECT max(id) FROM fulfillment_job)", [now]
        )
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) fulfillment_job")
    return {"rows": rows, "seconds": time.perf_counter() - start, "now": now}


def fill_time() -> dt.datetime:
    value = one("SELECT max(created_at) FROM fulfillment_job WHERE kind <> %s", [BENCH_KIND])[0]
    if value is None:
        sys.exit("the job table is empty: run with --fill first")
    return value


def table_shape() -> dict:
    with connection.cursor() as cur:
        cur.execute("SELECT state, count(*) FROM fulfillment_job GROUP BY state ORDER BY state")
        states = dict(cur.fetchall())
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('fulfillment_job'))")
        size = cur.fetchone()[0]
        cur.execute(
            "SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid)) FROM pg_stat_user_indexes"
            " WHERE relname = 'fulfillment_job' ORDER BY indexrelname"
        )
        indexes = cur.fetchall()
    return {"states": states, "total": sum(states.values()), "size": size, "indexes": indexes}


# --- 2. claim -----------------------------------------------------------------------------------


def time_claims(now: dt.datetime, runs: int, warmup: int) -> dict:
    times, claimed = [], 0
    for i in range(warmup + runs):
        with transaction.atomic():
            start = time.perf_counter()
            ids = scheduling.claim_due(now=now)
            elapsed = (time.perf_counter() - start) * 1000
            transaction.set_rollback(True)
        if i >= warmup:
            times.append(elapsed)
            claimed = len(ids)
    due = one("SELECT count(*) FROM fulfillment_job WHERE state = 'scheduled' AND due_at <= %s", [now])[0]
    return {
        "runs": runs,
        "p50": statistics.median(times),
        "p95": pct(times, 95),
        "max": max(times),
        "min": min(times),
        "claimed": claimed,
        "due": due,
    }


def explain_claim(now: dt.datetime) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement one claim runs, in a rolled-back transaction."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            scheduling.claim_due(now=now)
        transaction.set_rollback(True)
    statements = [
        q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("SELECT", "UPDATE"))
    ]
    parts = []
    for sql in statements:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(r[0] if len(r[0]) < 300 else r[0][:200] + " … " + r[0][-60:] for r in cur.fetchall())
            transaction.set_rollback(True)
        shown = sql if len(sql) < 600 else sql[:400] + " … " + sql[-150:]
        parts.append(f"{shown};\n\n{plan}")
    return "\n\n".join(parts)


# --- 3. throughput ------------------------------------------------------------------------------


def staff() -> list[int]:
    User = get_user_model()
    ids = []
    for i in range(STAFF):
        user, _ = User.objects.get_or_create(
            username=f"benchjobs-{i:02d}", defaults={"email": f"benchjobs{i}@desk.example"}
        )
        ids.append(user.pk)
    return ids


def park(direction: int) -> int:
    """Move the fill's scheduled rows due within a day 100 years ahead (1) or back (-1)."""
    with transaction.atomic(), connection.cursor() as cur:
        if direction > 0:
            cur.execute(
                f"UPDATE fulfillment_job SET due_at = due_at + {PARK} WHERE state = 'scheduled'"
                " AND due_at <= now() + interval '1 day' AND kind <> %s",
                [BENCH_KIND],
            )
        else:
            cur.execute(
                f"UPDATE fulfillment_job SET due_at = due_at - {PARK} WHERE state = 'scheduled'"
                " AND due_at > now() + interval '50 years' AND kind <> %s",
                [BENCH_KIND],
            )
        return cur.rowcount


def write_bench_jobs(count: int, users: list[int], tag: str, due: dt.datetime) -> None:
    lines = []
    for i in range(count):
        payload = json.dumps({"user": users[i % len(users)]})
        lines.append(
            "\t".join(
                (
                    BENCH_KIND,
                    f"bench-touch:{tag}:{i}",
                    f"bench:{i}",
                    payload,
                    "scheduled",
                    ts(due),
                    "0",
                    r"\N",
                    "",
                    ts(due),
                    ts(due),
                    r"\N",
                )
            )
        )
    with connection.cursor() as cur:
        cur.copy_expert(f"COPY fulfillment_job ({COLUMNS}) FROM STDIN", io.StringIO("\n".join(lines) + "\n"))
        cur.execute("ANALYZE fulfillment_job")


def remove_bench_jobs() -> None:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM fulfillment_notification WHERE key LIKE 'bench-touch:%%'")
        cur.execute("DELETE FROM fulfillment_job WHERE kind = %s", [BENCH_KIND])


def in_process(count: int, users: list[int]) -> dict:
    """The same jobs run by ``scheduling.run_jobs`` in this process: no broker, no Celery."""
    tag = f"inproc-{uuid.uuid4().hex[:6]}"
    now = dt.datetime.now(dt.UTC)
    write_bench_jobs(count, users, tag, now - dt.timedelta(seconds=1))
    ids = list(Job.objects.filter(key__startswith=f"bench-touch:{tag}:").values_list("id", flat=True))
    start = time.perf_counter()
    claimed = []
    while True:
        batch = scheduling.claim_due(now=dt.datetime.now(dt.UTC))
        if not batch:
            break
        claimed += batch
    claim_s = time.perf_counter() - start
    with CaptureQueriesContext(connection) as captured:
        scheduling.run_jobs(claimed[:10])
    queries_per_job = len(captured.captured_queries) / 10
    with CaptureQueriesContext(connection) as shown:
        scheduling.run_jobs(claimed[10:12])
    own_backend = one("SELECT pg_backend_pid()")[0]
    start, cpu_start, db_start = time.perf_counter(), time.process_time(), cpu_seconds([own_backend])
    for k in range(12, len(claimed), scheduling.TASK_CHUNK):
        scheduling.run_jobs(claimed[k : k + scheduling.TASK_CHUNK])
    run_s = time.perf_counter() - start
    ran = len(claimed) - 12
    py_cpu_ms = (time.process_time() - cpu_start) / ran * 1000
    db_cpu_ms = (cpu_seconds([own_backend]) - db_start) / ran * 1000
    done = Job.objects.filter(pk__in=ids, state=JobState.DONE).count()
    remove_bench_jobs()
    return {
        "jobs": count,
        "done": done,
        "claim_s": claim_s,
        "run_s": run_s,
        "rate": ran / run_s if run_s else 0.0,
        "queries_per_job": queries_per_job,
        "py_cpu_ms": py_cpu_ms,
        "db_cpu_ms": db_cpu_ms,
        "statements": [q["sql"][:150] for q in shown.captured_queries],
    }


def cpu_seconds(pids) -> float:
    """user + system CPU time of these processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = Path(f"/proc/{pid}/stat").read_text()
            fields = raw[raw.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def group_pids(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = stat.read_text()
            if int(raw[raw.rindex(")") + 2 :].split()[2]) == pgid:
                pids.append(int(stat.parent.name))
    return pids


def start_worker(log: Path, concurrency: int) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        DJANGO_ALLOWED_HOSTS="localhost",
        FD_LOG_LEVEL="WARNING",
        FD_DATA_DIR=str(log.parent / "data"),
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [
        *(sys.executable, "-m", "celery", "-A", "fulfillment", "worker", "--pool=prefork"),
        *(f"--concurrency={concurrency}", f"--queues={QUEUE}", f"--hostname=fdbench-{QUEUE}@%h"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"),
    ]
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return worker


def stop_worker(worker: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete(QUEUE, f"_kombu.binding.{QUEUE}", f"_kombu.binding_permanent.{QUEUE}")
    client.close()


def throughput(count: int, concurrency: int, users: list[int], log: Path) -> dict:
    tag = f"e2e-{uuid.uuid4().hex[:6]}"
    write_start = time.perf_counter()
    write_bench_jobs(count, users, tag, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    write_s = time.perf_counter() - write_start
    worker = start_worker(log, concurrency)
    try:
        load_before = os.getloadavg()[0]
        worker_cpu_at_start = cpu_seconds(group_pids(worker.pid))
        sent = dt.datetime.now(dt.UTC)
        sweep_jobs.apply_async()
        deadline = time.monotonic() + max(600, count / 50)
        remaining = count
        while remaining:
            if worker.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(1)
            remaining = one(
                "SELECT count(*) FROM fulfillment_job WHERE kind = %s AND state IN ('scheduled', 'queued')",
                [BENCH_KIND],
            )[0]
        load_after = os.getloadavg()[0]
        # CPU the worker's processes took for the work, whatever else ran on the box (less what
        # they used starting up). Its database backends cannot be counted: Celery's Django fixup
        # closes the connection around every task, so each lives for one task.
        worker_cpu = cpu_seconds(group_pids(worker.pid)) - worker_cpu_at_start
    finally:
        stop_worker(worker)
    first_claim, last_done, done, once, failed = one(
        "SELECT min(claimed_at), max(done_at), count(*) FILTER (WHERE state = 'done'),"
        " count(*) FILTER (WHERE state = 'done' AND attempts = 1), count(*) FILTER (WHERE state = 'failed')"
        " FROM fulfillment_job WHERE kind = %s",
        [BENCH_KIND],
    )
    notes = one("SELECT count(*), count(DISTINCT key) FROM fulfillment_notification WHERE key LIKE 'bench-touch:%%'")
    text = log.read_text(errors="replace")
    remove_bench_jobs()
    end_to_end = (last_done - sent).total_seconds() if last_done else float("nan")
    from_claim = (last_done - first_claim).total_seconds() if last_done else float("nan")
    return {
        "jobs": count,
        "concurrency": concurrency,
        "write_s": write_s,
        "seconds": end_to_end,
        "rate": done / end_to_end if end_to_end else 0.0,
        "from_claim_s": from_claim,
        "done": done,
        "once": once,
        "failed": failed,
        "remaining": remaining,
        "notifications": notes[0],
        "distinct_notifications": notes[1],
        "tasks": len(re.findall(r"fulfillment\.tasks\.run_jobs\[[\w-]+\] succeeded", text)),
        "errors": text.count("ERROR"),
        "load": (load_before, load_after),
        "worker_cpu": worker_cpu,
        "worker_cpu_ms": worker_cpu / done * 1000 if done else float("nan"),
    }


# --- report -------------------------------------------------------------------------------------


def render(info: dict, shape: dict, claim: dict, plan: str, e2e: dict | None, inproc: dict | None, args) -> str:
    lines = [
        "# Scheduled work at scale",
        "",
        "Reproduce (PostgreSQL and Redis on 127.0.0.1; the fill drops and re-creates `fd_bench_jobs`):",
        "",
        "```sh",
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench_jobs REDIS_URL=redis://127.0.0.1:6379/12 \\",
        f"    .venv/bin/python bench/run_scheduling.py --fill --rows {args.rows} --jobs {args.jobs}",
        "```",
        "",
        f"- Date: {info['date']}; code: `{info['revision']}`",
        f"- Machine: {info.get('cpu', '?')}, nproc={info['nproc']}, {info.get('memory', '?')} RAM;"
        f" load average before: {info['load_before']}",
        f"- PostgreSQL {info['postgres']} on 127.0.0.1 ({info['pg_settings']}); Redis {info['redis']};"
        f" Python {info['python']}, Django {info['django']}, Celery {info['celery']}",
        f"- Job table: {shape['total']:,} rows ("
        + ", ".join(f"{s} {c:,}" for s, c in shape["states"].items())
        + f"), {shape['size']} with indexes ("
        + ", ".join(f"{n} {s}" for n, s in shape["indexes"])
        + ")",
        "",
        "## Results",
        "",
        "| what | measured | target | |",
        "|---|---:|---:|---|",
        f"| sweep claim (`claim_due`, {claim['claimed']:,} of {claim['due']:,} due rows), p50 / p95 over"
        f" {claim['runs']} runs | {claim['p50']:.1f} / {claim['p95']:.1f} ms | ≤ {CLAIM_TARGET_MS:.0f} ms |"
        f" {'met' if claim['p95'] <= CLAIM_TARGET_MS else 'MISSED'} |",
    ]
    if e2e:
        lines.append(
            f"| {e2e['jobs']:,} due jobs swept and run by a real worker (prefork, {e2e['concurrency']} processes),"
            f" end to end | {e2e['rate']:,.0f} jobs/s ({e2e['seconds']:.1f} s) | ≥ {RATE_TARGET:,.0f} jobs/s |"
            f" {'met' if e2e['rate'] >= RATE_TARGET else 'MISSED'} |"
        )
    lines += [
        "",
        f"Claim: min {claim['min']:.1f} ms, max {claim['max']:.1f} ms; {args.warmup} warm-up runs; each run one"
        " `claim_due(now=<fill time>)` in a transaction rolled back afterwards (so every run claims the same"
        " 1,000 oldest due rows and the table stays as filled).",
        "",
    ]
    if e2e:
        lines += [
            "### End to end",
            "",
            f"- {e2e['jobs']:,} `bench.touch` jobs (re-read a staff member, write one in-app notification)"
            f" due when the run started, on top of the {shape['total']:,}-row table (its own due rows parked"
            f" a century ahead for the run); written with COPY in {e2e['write_s']:.1f} s (not timed).",
            "- One `sweep_jobs` task sent to the worker, as beat sends it: it claims in batches of"
            f" {scheduling.CLAIM_BATCH:,} and sends run_jobs tasks of {scheduling.TASK_CHUNK} ids"
            f" ({e2e['tasks']:,} tasks); the worker runs the sweep and the jobs in its {e2e['concurrency']}"
            " processes.",
            f"- From sending the sweep to the last `done_at`: {e2e['seconds']:.1f} s; from the first claim:"
            f" {e2e['from_claim_s']:.1f} s. Load average (1 min) before / at the end:"
            f" {e2e['load'][0]:.2f} / {e2e['load'][1]:.2f}.",
            f"- CPU used by the worker's processes: {e2e['worker_cpu']:.1f} s, {e2e['worker_cpu_ms']:.2f} ms a job"
            " (the sweep, Celery, the engine and the handler; its PostgreSQL backends are not counted here, see"
            " below).",
            f"- Checked: {e2e['done']:,} done, {e2e['once']:,} of them at the first attempt, {e2e['failed']}"
            f" failed, {e2e['remaining']} left; {e2e['notifications']:,} notifications"
            f" ({e2e['distinct_notifications']:,} distinct keys); ERROR lines in the worker log: {e2e['errors']}.",
            "",
        ]
    if inproc:
        lines += [
            "### The same jobs without Celery (one process)",
            "",
            f"- {inproc['jobs']:,} jobs claimed in {inproc['claim_s']:.2f} s and run by `scheduling.run_jobs` in"
            f" chunks of {scheduling.TASK_CHUNK} in {inproc['run_s']:.2f} s: {inproc['rate']:,.0f} jobs/s in one"
            f" process ({inproc['done']:,} done). CPU a job: {inproc['py_cpu_ms']:.2f} ms in this process,"
            f" {inproc['db_cpu_ms']:.2f} ms in its PostgreSQL backend.",
            f"- {inproc['queries_per_job']:.1f} statements a job (a chunk of 10); those of a chunk of 2 jobs:",
            "",
            "```sql",
            *inproc["statements"],
            "```",
            "",
        ]
    if e2e and inproc:
        per_job = e2e["worker_cpu_ms"] + inproc["db_cpu_ms"]
        lines += [
            "### CPU a job, whatever else ran on the box",
            "",
            f"The worker's {e2e['worker_cpu_ms']:.2f} ms (measured end to end) plus the database's"
            f" {inproc['db_cpu_ms']:.2f} ms (measured in process: the same statements) = {per_job:.2f} ms of CPU a"
            f" job: two cores given to this alone would run at most about {2000 / per_job:,.0f} jobs/s (derived,"
            " not measured; Redis, the WAL writer and the kernel not counted).",
            "",
        ]
    lines += ["## EXPLAIN (ANALYZE, BUFFERS) of the claim", "", "```", plan, "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fill", action="store_true", help="drop, re-create, migrate and fill the database")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs through the worker (0: skip)")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--inprocess", type=int, default=5_000, help="jobs run without Celery (0: skip)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if urlparse(os.environ["DATABASE_URL"]).path.lstrip("/") in ("fd_bench", "fulfillment"):
        sys.exit("run_scheduling.py drops its database with --fill: give it its own (fd_bench_jobs)")
    if args.jobs and not os.environ.get("REDIS_URL"):
        sys.exit("the throughput run needs REDIS_URL=redis://… (or --jobs 0)")

    if args.fill:
        filled = fill(args.rows, args.seed)
        print(f"filled {filled['rows']:,} job rows in {filled['seconds']:.1f} s (fill time {filled['now']})")
    remove_bench_jobs()  # a run that was interrupted
    park(-1)
    now = fill_time()
    info = run.machine_info()
    import celery
    import redis

    info["celery"] = celery.__version__
    info["redis"] = (
        redis.Redis.from_url(os.environ["REDIS_URL"]).info("server")["redis_version"]
        if os.environ.get("REDIS_URL")
        else "-"
    )
    shape = table_shape()
    claim = time_claims(now, args.runs, args.warmup)
    print(f"claim: p50 {claim['p50']:.1f} ms, p95 {claim['p95']:.1f} ms ({claim['claimed']} of {claim['due']} due)")
    plan = explain_claim(now)

    e2e = inproc = None
    if args.jobs or args.inprocess:
        users = staff()
        parked = park(1)
        print(f"parked {parked:,} of the fill's scheduled rows")
        try:
            if args.inprocess:
                inproc = in_process(args.inprocess, users)
                print(f"in process: {inproc['rate']:,.0f} jobs/s, {inproc['queries_per_job']:.0f} statements a job")
            if args.jobs:
                log = run.RESULTS / "scheduling-worker.log.tmp"
                e2e = throughput(args.jobs, args.concurrency, users, log)
                print(f"end to end: {e2e['rate']:,.0f} jobs/s ({e2e['jobs']:,} in {e2e['seconds']:.1f} s)")
        finally:
            remove_bench_jobs()
            park(-1)
            with connection.cursor() as cur:
                cur.execute("VACUUM (ANALYZE) fulfillment_job")
    args.out.write_text(render(info, shape, claim, plan, e2e, inproc, args))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
