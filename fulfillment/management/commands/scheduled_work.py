"""python manage.py scheduled_work — the scheduled jobs that are due, overdue, handed out past their
lease or failed (the operations page's list, for a terminal or a monitoring check).

    manage.py scheduled_work                          # everything due, overdue, stuck or failed
    manage.py scheduled_work --state failed --kind webhooks.deliver --limit 20
    manage.py scheduled_work --json                   # for scripts
    manage.py scheduled_work --check                  # exit 1 when anything is overdue, stuck or failed
    manage.py scheduled_work --retry-failed [--kind K]

Exit codes: 0 normally; 1 with ``--check`` when a job is overdue, handed out past its lease, or
failed in the last 7 days; 2 on bad arguments.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import Truncator

from fulfillment import clock, ops
from fulfillment.pagination import keyset_page

STATES = (*ops.BUCKETS, "all")
MAX_LIMIT = 10_000


class Command(BaseCommand):
    help = "List due, overdue, stuck and failed scheduled jobs; --check for monitoring; --retry-failed."

    def add_arguments(self, parser):
        parser.add_argument(
            "--state",
            metavar="{" + ",".join(STATES) + "}",
            help="due (due now), overdue (due over 5 minutes ago), stuck (handed out past the lease), "
            "failed, or all of them (the default).",
        )
        parser.add_argument("--kind", default="", help="Only jobs of this kind, e.g. webhooks.deliver.")
        parser.add_argument("--limit", type=int, default=50, help=f"List at most this many (1 to {MAX_LIMIT}).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table.")
        parser.add_argument(
            "--check", action="store_true", help="Exit 1 when anything is overdue, stuck or failed in the last 7 days."
        )
        parser.add_argument(
            "--retry-failed", action="store_true", help="Run every failed job (of --kind) again now; prints how many."
        )

    def handle(self, *args, state, kind, limit, json: bool, check: bool, retry_failed: bool, **options):
        kind = kind.strip()
        if state is not None and state not in STATES:
            raise CommandError(f"--state must be one of: {', '.join(STATES)} (got {state!r}).", returncode=2)
        if not 1 <= limit <= MAX_LIMIT:
            raise CommandError(f"--limit must be between 1 and {MAX_LIMIT} (got {limit}).", returncode=2)
        if kind and not ops.kind_exists(kind):
            known = ", ".join(ops.kinds()) or "none registered"
            raise CommandError(f"No scheduled job has kind {kind!r}. Known kinds: {known}.", returncode=2)
        if retry_failed:
            if state is not None or check or json:
                raise CommandError("--retry-failed takes only --kind.", returncode=2)
            retried = ops.retry_failed(kind=kind)
            self.stdout.write(
                f"Retried {retried} failed job{'' if retried == 1 else 's'}{f' of kind {kind}' if kind else ''}."
            )
            return
        self._list(state=state or "all", kind=kind, limit=limit, as_json=json, check=check)

    def _list(self, *, state: str, kind: str, limit: int, as_json: bool, check: bool) -> None:
        now = clock.now()
        bucket = "" if state == "all" else state
        rows = ops.jobs(buckets=[bucket] if bucket else list(ops.BUCKETS), kind=kind, now=now)
        key, ascending = ops.list_order(bucket)
        page = keyset_page(rows, cursor=None, size=limit, key=key, ascending=ascending)
        totals = ops.counts(now=now, kind=kind).total
        counts = {
            "due": totals.due,
            "overdue": totals.overdue,
            "stuck": totals.stuck,
            "failed_7d": totals.failed,
            "done_24h": totals.done,
        }
        listed = [self._row(job, now) for job in page.items]
        if as_json:
            body = {
                "now": now.isoformat(),
                "state": state,
                "kind": kind or None,
                "counts": counts,
                "jobs": listed,
                "more": page.next_cursor is not None,
            }
            self.stdout.write(json.dumps(body, indent=2))
        else:
            self._table(now, counts, listed, more=page.next_cursor is not None, limit=limit)
        trouble = totals.overdue + totals.stuck + totals.failed
        if check and trouble:
            raise CommandError(
                f"{totals.overdue} overdue, {totals.stuck} handed out past the lease, "
                f"{totals.failed} failed in the last 7 days.",
                returncode=1,
            )

    @staticmethod
    def _row(job, now) -> dict:
        return {
            "id": job.pk,
            "kind": job.kind,
            "key": job.key,
            "ref": job.ref,
            "state": job.state,
            "bucket": ops.bucket_of(job, now),
            "due_at": job.due_at.isoformat(),
            "claimed_at": job.claimed_at.isoformat() if job.claimed_at else None,
            "attempts": job.attempts,
            "last_error": job.last_error,
        }

    def _table(self, now, counts: dict, rows: list[dict], *, more: bool, limit: int) -> None:
        self.stdout.write(
            f"Scheduled work at {now:%Y-%m-%d %H:%M:%S %Z}: {counts['due']} due now, {counts['overdue']} overdue, "
            f"{counts['stuck']} handed out past the lease, {counts['failed_7d']} failed in the last 7 days, "
            f"{counts['done_24h']} done in the last 24 hours."
        )
        if not rows:
            self.stdout.write("No jobs to list.")
            return
        self.stdout.write(f"{'id':>8}  {'state':<8}  {'kind':<32}  {'due':<20}  {'tries':>5}  {'ref':<20}  last error")
        for row in rows:
            due = row["due_at"][:19].replace("T", " ")
            error = Truncator(" ".join(row["last_error"].split())).chars(60)
            line = (
                f"{row['id']:>8}  {row['bucket']:<8}  {row['kind']:<32}  {due:<20}  {row['attempts']:>5}  "
                f"{row['ref'] or '-':<20}  {error}"
            )
            self.stdout.write(line.rstrip())
        if more:
            self.stdout.write(f"(only the first {limit}; use --limit, --state or --kind to see others)")
