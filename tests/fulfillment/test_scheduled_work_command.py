"""manage.py scheduled_work: the list (text and --json), --check's exit codes for monitoring,
--retry-failed, and exit code 2 with a clear message on bad arguments. Injected clock."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from fulfillment import clock
from fulfillment.models import Job, JobState

from .test_operations import MIN, T, make

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def jobs():
    return {
        "due": make("due", JobState.SCHEDULED, due=T - MIN, ref="inquiry:7"),
        "overdue": make("overdue", JobState.SCHEDULED, due=T - 10 * MIN),
        "later": make("later", JobState.SCHEDULED, due=T + MIN),
        "stuck": make("stuck", JobState.QUEUED, kind="test.beta", due=T - 30 * MIN, claimed_at=T - 15 * MIN),
        "failed": make("failed", JobState.FAILED, due=T - 2 * MIN, attempts=8, last_error="SMTPException: 451\nlater"),
        "b_failed": make("b-failed", JobState.FAILED, kind="test.beta", due=T - 3 * MIN, attempts=3),
        "done": make("done", JobState.DONE, due=T - 5 * MIN, done_at=T - MIN),
    }


def run(*args) -> str:
    out = io.StringIO()
    with clock.frozen(T):
        call_command("scheduled_work", *args, stdout=out)
    return out.getvalue()


def test_the_default_lists_due_overdue_stuck_and_failed(jobs):
    out = run()
    assert out.splitlines()[0] == (
        "Scheduled work at 2026-03-02 09:00:00 UTC: 1 due now, 1 overdue, 1 handed out past the lease, "
        "2 failed in the last 7 days, 1 done in the last 24 hours."
    )
    rows = out.splitlines()[2:]
    assert [line.split()[0] for line in rows] == [
        str(jobs[k].pk) for k in ("stuck", "overdue", "b_failed", "failed", "due")
    ]  # oldest due first
    failed_row = next(line for line in rows if line.split()[0] == str(jobs["failed"].pk))
    assert failed_row.split()[1] == "failed" and "SMTPException: 451 later" in failed_row
    assert "inquiry:7" in out and str(jobs["later"].pk) not in [line.split()[0] for line in rows]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--state", "due"], ["due"]),
        (["--state", "overdue"], ["overdue"]),
        (["--state", "stuck"], ["stuck"]),
        (["--state", "failed"], ["failed", "b_failed"]),  # the latest failure first
        (["--state", "failed", "--kind", "test.beta"], ["b_failed"]),
        (["--kind", "test.beta"], ["stuck", "b_failed"]),
    ],
)
def test_state_and_kind_filters(jobs, args, expected):
    listed = json.loads(run("--json", *args))["jobs"]
    assert [row["id"] for row in listed] == [jobs[k].pk for k in expected]


def test_json_shape(jobs):
    body = json.loads(run("--json", "--limit", "2"))
    assert set(body) == {"now", "state", "kind", "counts", "jobs", "more"}
    assert body["now"] == T.isoformat() and body["state"] == "all" and body["kind"] is None
    assert body["counts"] == {"due": 1, "overdue": 1, "stuck": 1, "failed_7d": 2, "done_24h": 1}
    assert body["more"] is True and len(body["jobs"]) == 2
    stuck = body["jobs"][0]
    assert stuck == {
        "id": jobs["stuck"].pk,
        "kind": "test.beta",
        "key": "stuck",
        "ref": "",
        "state": "queued",
        "bucket": "stuck",
        "due_at": (T - 30 * MIN).isoformat(),
        "claimed_at": (T - 15 * MIN).isoformat(),
        "attempts": 0,
        "last_error": "",
    }


def test_nothing_to_list(db):
    assert run().splitlines()[1] == "No jobs to list."
    assert run("--check").startswith("Scheduled work at")  # exit 0: no exception


def test_check_exits_1_when_anything_is_overdue_stuck_or_failed(jobs):
    with pytest.raises(CommandError) as raised:
        run("--check")
    assert raised.value.returncode == 1
    assert str(raised.value) == "1 overdue, 1 handed out past the lease, 2 failed in the last 7 days."


def test_check_passes_when_only_due_or_old_failures(db):
    make("due", JobState.SCHEDULED, due=T - MIN)
    make("old", JobState.FAILED, due=T - dt.timedelta(days=9), updated_at=T - dt.timedelta(days=8))
    assert "1 due now, 0 overdue" in run("--check")


def test_retry_failed_retries_them_and_says_how_many(jobs):
    assert run("--retry-failed", "--kind", "test.beta") == "Retried 1 failed job of kind test.beta.\n"
    assert Job.objects.get(pk=jobs["b_failed"].pk).state == JobState.SCHEDULED
    assert Job.objects.get(pk=jobs["failed"].pk).state == JobState.FAILED
    assert run("--retry-failed") == "Retried 1 failed job.\n"
    failed = Job.objects.get(pk=jobs["failed"].pk)
    assert (failed.state, failed.attempts, failed.due_at) == (JobState.SCHEDULED, 0, T)
    assert run("--retry-failed") == "Retried 0 failed jobs.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--state", "broken"], "--state must be one of: due, overdue, stuck, failed, all (got 'broken')."),
        (["--limit", "0"], "--limit must be between 1 and 10000 (got 0)."),
        (["--kind", "no.such"], "No scheduled job has kind 'no.such'. Known kinds:"),
        (["--retry-failed", "--state", "failed"], "--retry-failed takes only --kind."),
        (["--retry-failed", "--check"], "--retry-failed takes only --kind."),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(jobs, args, message):
    with pytest.raises(CommandError) as raised:
        run(*args)
    assert raised.value.returncode == 2
    assert str(raised.value).startswith(message)
    assert Job.objects.filter(state=JobState.FAILED).count() == 2  # nothing retried


def test_a_kind_with_rows_but_no_handler_is_accepted(jobs):
    assert json.loads(run("--json", "--kind", "test.alpha"))["kind"] == "test.alpha"


def test_bad_arguments_exit_2_from_the_command_line(tmp_path):
    """The real process: argparse's errors and the command's own reach the shell as exit code 2
    (both are refused before the database is read)."""
    env = {
        "DJANGO_SETTINGS_MODULE": "fulfillment.settings_test",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FD_DATA_DIR": str(tmp_path),
    }

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    bad = manage("scheduled_work", "--limit", "-1")
    assert bad.returncode == 2 and "--limit must be between 1 and 10000" in bad.stderr
    unparsable = manage("scheduled_work", "--limit", "many")
    assert unparsable.returncode == 2 and "invalid int value" in unparsable.stderr
