"""The operations page (/operations/), the admin's job list and beat-schedule page, and the Celery
signal receivers that record beat runs and log task failures with their ids.

Clock-driven: a fixed set of jobs around ``T`` and ``clock.frozen(T)``, never a sleep."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import uuid

import pytest
from celery.signals import task_failure, task_prerun, task_success
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import NoReverseMatch, reverse

from fulfillment import clock, ops
from fulfillment.celery import app as celery_app
from fulfillment.models import (
    ApiClient,
    DeliveryState,
    Heartbeat,
    Job,
    JobState,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from fulfillment.tasks import purge_idempotency_records, run_jobs
from fulfillment.tiers import Tier
from inquiries.enums import FollowUpState
from inquiries.models import FollowUpCall
from inquiries.tasks import sweep_reminders

from ..factories import OrderFactory, UserFactory
from ..inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

T = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)
#: session, user, the bucket counts, the done count, two figures (failed webhook deliveries,
#: missed follow-up calls), the beat runs, the page of jobs, the order refs' numbers
PAGE_QUERIES = 9


def make(key: str, state: str, *, kind: str = "test.alpha", due: dt.datetime = T, **fields) -> Job:
    fields.setdefault("updated_at", due)
    return Job.objects.create(
        kind=kind, key=key, state=state, due_at=due, created_at=T - dt.timedelta(days=9), **fields
    )


@pytest.fixture
def jobs():
    """One job in every situation the page tells apart."""
    return {
        "due": make("a-due", JobState.SCHEDULED, due=T - MIN),
        "overdue": make("a-overdue", JobState.SCHEDULED, due=T - 10 * MIN),
        "later": make("a-later", JobState.SCHEDULED, due=T + dt.timedelta(hours=1)),
        "stuck": make("a-stuck", JobState.QUEUED, due=T - 20 * MIN, claimed_at=T - 11 * MIN),
        "running": make("a-running", JobState.QUEUED, due=T - 2 * MIN, claimed_at=T - MIN),
        "failed": make(
            "a-failed", JobState.FAILED, due=T - dt.timedelta(days=1), attempts=8, last_error="ConnectionError: no"
        ),
        "old_failed": make("a-old-failed", JobState.FAILED, due=T - dt.timedelta(days=8), attempts=8),
        "done": make("a-done", JobState.DONE, due=T - 2 * MIN, done_at=T - dt.timedelta(hours=1)),
        "old_done": make("a-old-done", JobState.DONE, due=T - dt.timedelta(days=2), done_at=T - dt.timedelta(hours=25)),
        "cancelled": make("a-cancelled", JobState.CANCELLED, due=T - 30 * MIN),
        "b_overdue": make("b-overdue", JobState.SCHEDULED, kind="test.beta", due=T - 6 * MIN),
        "b_failed": make(
            "b-failed", JobState.FAILED, kind="test.beta", due=T - dt.timedelta(hours=2), last_error="x" * 500
        ),
    }


@pytest.fixture
def supervisor_client(supervisor):
    client = Client()
    client.force_login(supervisor)
    return client


def get(client, path="/operations/", **params):
    with clock.frozen(T):
        return client.get(path, params)


# --- who may see it ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client):
    for response in (client.get("/operations/"), client.post("/operations/jobs/1/retry/")):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("tier", [Tier.REP, Tier.SENIOR_REP, Tier.SPECIALIST, None])
def test_below_supervisor_is_refused(tier, jobs):
    client = Client()
    client.force_login(UserFactory(username=f"u{tier}", tier=tier))
    assert client.get("/operations/").status_code == 403
    assert client.post(f"/operations/jobs/{jobs['failed'].pk}/retry/").status_code == 403
    assert Job.objects.get(pk=jobs["failed"].pk).state == JobState.FAILED
    assert "/operations/" not in client.get("/notifications/").content.decode()


@pytest.mark.parametrize("who", ["supervisor", "admin_user", "staff"])
def test_supervisors_administrators_and_staff_see_it(who, request):
    user = (
        UserFactory(username="ops-staff", tier=None, is_staff=True) if who == "staff" else request.getfixturevalue(who)
    )
    client = Client()
    client.force_login(user)
    response = client.get("/operations/")
    assert response.status_code == 200
    assert 'href="/operations/"' in response.content.decode()  # the nav link


# --- what it shows -------------------------------------------------------------------------------


def test_counts_per_kind_and_bucket(jobs, supervisor_client):
    counts = get(supervisor_client).context["counts"]
    rows = {row.kind: row for row in counts.rows}
    alpha, beta = rows["test.alpha"], rows["test.beta"]
    assert (alpha.due, alpha.overdue, alpha.stuck, alpha.failed, alpha.done) == (1, 1, 1, 1, 1)
    assert (beta.due, beta.overdue, beta.stuck, beta.failed, beta.done) == (0, 1, 0, 1, 0)
    total = counts.total
    assert (total.due, total.overdue, total.stuck, total.failed, total.done) == (1, 2, 1, 2, 1)
    assert alpha.needs_attention and beta.needs_attention


def test_the_counts_follow_the_clock(jobs):
    # six minutes earlier the "overdue" job was due 4 minutes, the "due" one not yet, and the stuck
    # one still within its lease
    counts = ops.counts(now=T - 6 * MIN, kind="test.alpha").rows[0]
    assert (counts.due, counts.overdue, counts.stuck) == (1, 0, 0)


def test_the_default_list_is_what_needs_a_look(jobs, supervisor_client):
    response = get(supervisor_client)
    shown = [job.key for job in response.context["page"].items]
    # oldest due first: overdue, stuck and failed — every failed one, however old
    assert shown == ["a-old-failed", "a-failed", "b-failed", "a-stuck", "a-overdue", "b-overdue"]
    html = response.content.decode()
    assert html.count(">Retry</button>") == 3
    assert "ConnectionError: no" in html
    assert ">" + "x" * 119 + "…</td>" in html  # the error is cut short in the cell (whole in its title)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "failed"}, ["b-failed", "a-failed", "a-old-failed"]),  # the latest failure first
        ({"state": "failed", "kind": "test.alpha"}, ["a-failed", "a-old-failed"]),
        ({"state": "due"}, ["a-due"]),
        ({"state": "overdue"}, ["a-overdue", "b-overdue"]),
        ({"state": "stuck"}, ["a-stuck"]),
    ],
)
def test_filters(jobs, supervisor_client, params, expected, monkeypatch):
    monkeypatch.setattr(ops, "kinds", lambda: ["test.alpha", "test.beta"])
    response = get(supervisor_client, **params)
    assert response.status_code == 200
    assert [job.key for job in response.context["page"].items] == expected


def test_a_bad_filter_is_a_400_with_the_field_named(jobs, supervisor_client):
    response = get(supervisor_client, state="exploded", kind="no.such")
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"state", "kind"}
    assert len(response.context["page"].items) == 6  # the default list still shows


def test_refs_link_to_their_pages(supervisor_client):
    order = OrderFactory()
    make("order-job", JobState.FAILED, ref=f"order:{order.pk}")
    make("inquiry-job", JobState.FAILED, ref="inquiry:41")
    make("other-job", JobState.FAILED, ref="something:3")
    make("delivery-job", JobState.FAILED, ref="webhook-delivery:5")
    html = get(supervisor_client).content.decode()
    assert f'href="/orders/{order.number}/"' in html
    assert 'href="/inquiries/41/"' in html
    assert "something:3</td>" in html
    assert "webhook-delivery:5</td>" in html  # its page is in the admin, which a supervisor may not open


def test_admin_pages_are_linked_for_staff(admin_user):
    make("delivery-job", JobState.FAILED, ref="webhook-delivery:5")
    client = Client()
    client.force_login(admin_user)
    (job,) = get(client).context["page"].items
    try:
        expected = reverse("admin:fulfillment_webhookdelivery_change", args=[5])
    except NoReverseMatch:  # webhook deliveries not in the admin: no link rather than a dead one
        expected = ""
    assert job.ref_url == expected


def test_user_text_is_escaped(supervisor_client):
    make("x", JobState.FAILED, ref="<b>ref</b>", last_error="<script>alert(1)</script>")
    html = get(supervisor_client).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "<b>ref</b>" not in html


def test_the_list_pages_by_keyset(supervisor_client):
    for i in range(55):
        make(f"f{i:02d}", JobState.FAILED, updated_at=T - i * MIN)
    first = get(supervisor_client, state="failed").context["page"]
    assert len(first.items) == 50 and first.items[0].key == "f00"
    rest = get(supervisor_client, state="failed", cursor=first.next_cursor).context["page"]
    assert [job.key for job in rest.items] == ["f50", "f51", "f52", "f53", "f54"]


def test_the_figures_of_other_apps_and_webhooks(supervisor_client):
    inquiry = InquiryFactory()
    for cycle, when in enumerate([T - dt.timedelta(days=1), T - dt.timedelta(days=8)]):
        FollowUpCall.objects.create(
            inquiry=inquiry, cycle=cycle, state=FollowUpState.MISSED, due_at=when, window_ends_at=when, updated_at=when
        )
    subscription = WebhookSubscription.objects.create(
        client=ApiClient.objects.create(name="shop", key_prefix="p1", key_hash="h"), url="https://x.example/h"
    )
    for state in (DeliveryState.FAILED, DeliveryState.DELIVERED):
        event = WebhookEvent.objects.create(event_id=uuid.uuid4(), type="order.created")
        WebhookDelivery.objects.create(subscription=subscription, event=event, state=state)
    response = get(supervisor_client)
    figures = {str(figure.title): figure.value for figure in response.context["panels"]}
    assert figures == {"Follow-up calls missed in the last 7 days": 1, "Failed webhook deliveries": 1}


def test_the_page_shows_every_beat_entry(supervisor_client):
    html = get(supervisor_client).content.decode()
    for name, spec in settings.CELERY_BEAT_SCHEDULE.items():
        assert f">{name}</th>" in html and spec["task"] in html


def test_the_page_is_a_constant_number_of_queries(supervisor_client, django_assert_num_queries):
    order = OrderFactory()

    def add(n, start):
        for i in range(start, start + n):
            make(f"q{i}", JobState.FAILED, ref=f"order:{order.pk}" if i % 2 else f"inquiry:{i}", last_error="boom")

    add(2, 0)
    with django_assert_num_queries(PAGE_QUERIES):
        assert get(supervisor_client).status_code == 200
    add(18, 2)
    with django_assert_num_queries(PAGE_QUERIES):
        response = get(supervisor_client)
    assert len(response.context["page"].items) == 20


# --- retry ---------------------------------------------------------------------------------------


def test_retry_runs_a_failed_job_again_and_returns_to_the_page(jobs, supervisor_client):
    job = jobs["failed"]
    with clock.frozen(T):
        response = supervisor_client.post(
            f"/operations/jobs/{job.pk}/retry/", {"next": "/operations/?state=failed"}, follow=True
        )
    assert response.redirect_chain[-1][0] == "/operations/?state=failed"
    job.refresh_from_db()
    assert (job.state, job.attempts, job.due_at) == (JobState.SCHEDULED, 0, T)
    assert f"Job {job.pk} (test.alpha) will run again now." in response.content.decode()


def test_retry_of_a_job_that_is_not_failed_changes_nothing(jobs, supervisor_client):
    job = jobs["due"]
    response = supervisor_client.post(f"/operations/jobs/{job.pk}/retry/", follow=True)
    assert "nothing to retry" in response.content.decode()
    assert Job.objects.get(pk=job.pk).due_at == T - MIN
    assert supervisor_client.post("/operations/jobs/999999/retry/").status_code == 404


def test_retry_never_redirects_off_the_site(jobs, supervisor_client):
    response = supervisor_client.post(f"/operations/jobs/{jobs['failed'].pk}/retry/", {"next": "//evil.example/"})
    assert response["Location"] == "/operations/"


def test_retry_is_post_only_and_needs_the_csrf_token(jobs, supervisor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    path = f"/operations/jobs/{jobs['failed'].pk}/retry/"
    assert client.get(path).status_code == 405
    assert client.post(path).status_code == 403
    assert Job.objects.get(pk=jobs["failed"].pk).state == JobState.FAILED


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_client_(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_the_admin_beat_page_lists_every_entry(admin_client_):
    with clock.frozen(T):
        ops.record_beat_run(task="fulfillment.tasks.sweep_jobs", what=ops.RAN)
        ops.record_beat_run(task="fulfillment.tasks.sweep_jobs", what=ops.FAILED_RUN, error="OperationalError: gone")
        response = admin_client_.get("/admin/beat-schedule/")
    assert response.status_code == 200
    html = response.content.decode()
    for name, spec in settings.CELERY_BEAT_SCHEDULE.items():
        assert f">{name}</th>" in html and spec["task"] in html
    assert "every 10 seconds" in html and "every day" in html
    assert "OperationalError: gone" in html
    entry = {e.task: e for e in response.context["entries"]}["fulfillment.tasks.sweep_jobs"]
    assert entry.failing and entry.last_ran == T and not entry.late
    # beat started at T: a task that has not run yet is late only after twice its interval
    assert not {e.task: e for e in response.context["entries"]}["fulfillment.tasks.heartbeat"].late
    with clock.frozen(T + dt.timedelta(minutes=4)):
        ops.record_beat_run(task="fulfillment.tasks.sweep_jobs", what=ops.RAN)
        later = {e.task: e for e in ops.beat_schedule()}
    assert later["fulfillment.tasks.heartbeat"].late  # every minute, never ran in four
    assert not later["fulfillment.tasks.purge_finished_jobs"].late  # hourly: not yet
    assert not later["fulfillment.tasks.sweep_jobs"].late


def test_with_no_run_recorded_at_all_every_entry_is_late(db):
    with clock.frozen(T):
        assert all(entry.late for entry in ops.beat_schedule())


def test_the_admin_index_links_the_beat_page(admin_client_):
    assert 'href="/admin/beat-schedule/"' in admin_client_.get("/admin/").content.decode()


def test_the_beat_page_needs_the_job_view_permission():
    user = UserFactory(username="clerk", tier=None, is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/beat-schedule/").status_code == 403
    assert 'href="/admin/beat-schedule/"' not in client.get("/admin/").content.decode()
    user.user_permissions.add(Permission.objects.get(codename="view_job"))
    client.force_login(type(user).objects.get(pk=user.pk))
    assert client.get("/admin/beat-schedule/").status_code == 200


def test_the_admin_job_list_filters_and_searches(jobs, admin_client_):
    url = reverse("admin:fulfillment_job_changelist")
    response = admin_client_.get(url, {"state": "failed"})
    assert response.status_code == 200
    assert {job.key for job in response.context["cl"].result_list} == {"a-failed", "a-old-failed", "b-failed"}
    response = admin_client_.get(url, {"q": "b-overdue"})
    assert [job.key for job in response.context["cl"].result_list] == ["b-overdue"]
    assert admin_client_.get(reverse("admin:fulfillment_job_change", args=[jobs["failed"].pk])).status_code == 200


def test_the_admin_actions_retry_and_cancel(jobs, admin_client_):
    url = reverse("admin:fulfillment_job_changelist")
    picked = [jobs["failed"].pk, jobs["cancelled"].pk, jobs["done"].pk]
    with clock.frozen(T):
        admin_client_.post(url, {"action": "retry_now", "_selected_action": picked})
    states = dict(Job.objects.filter(pk__in=picked).values_list("key", "state"))
    assert states == {"a-failed": JobState.SCHEDULED, "a-cancelled": JobState.SCHEDULED, "a-done": JobState.DONE}
    picked = [jobs["later"].pk, jobs["b_failed"].pk]
    admin_client_.post(url, {"action": "cancel_jobs", "_selected_action": picked})
    states = dict(Job.objects.filter(pk__in=picked).values_list("key", "state"))
    assert states == {"a-later": JobState.CANCELLED, "b-failed": JobState.FAILED}


# --- signals: beat runs recorded, failures logged with their ids ---------------------------------


def test_a_beat_task_run_through_celery_is_recorded():
    with clock.frozen(T):
        purge_idempotency_records.apply()
    seen = dict(Heartbeat.objects.values_list("name", "at"))
    assert seen["ran:fulfillment.tasks.purge_idempotency_records"] == T
    assert seen["ok:fulfillment.tasks.purge_idempotency_records"] == T
    assert "failed:fulfillment.tasks.purge_idempotency_records" not in seen


def test_a_beat_task_failure_is_recorded_and_logged(caplog):
    task = sweep_reminders
    with clock.frozen(T), caplog.at_level(logging.ERROR, logger="fulfillment.tasks"):
        task_prerun.send(sender=task, task_id="t-1", task=task, args=(), kwargs={})
        task_failure.send(sender=task, task_id="t-1", exception=RuntimeError("db gone"), args=(), kwargs={})
    entry = {e.task: e for e in ops.beat_schedule(now=T)}["inquiries.tasks.sweep_reminders"]
    assert (entry.last_ran, entry.last_failed, entry.last_ok) == (T, T, None)
    assert entry.failing and entry.last_error == "RuntimeError: db gone"
    # kept on the failure's row, so every process (web, worker; embedded or not) reads the same
    assert Heartbeat.objects.get(name="failed:inquiries.tasks.sweep_reminders").detail == "RuntimeError: db gone"
    assert "inquiries.tasks.sweep_reminders [t-1] failed" in caplog.text
    with clock.frozen(T + MIN):
        task_success.send(sender=task, result=0)
    entry = {e.task: e for e in ops.beat_schedule(now=T)}["inquiries.tasks.sweep_reminders"]
    assert entry.last_ok == T + MIN and not entry.failing


def test_an_item_task_failure_is_logged_with_its_ids_and_not_recorded_as_beat(caplog):
    with caplog.at_level(logging.ERROR, logger="fulfillment.tasks"):
        task_failure.send(sender=run_jobs, task_id="t-2", exception=ValueError("bad"), args=([41, 42],), kwargs={})
    record = next(r for r in caplog.records if "t-2" in r.getMessage())
    assert record.levelno == logging.ERROR and "[41, 42]" in record.getMessage() and "run_jobs" in record.getMessage()
    assert not Heartbeat.objects.filter(name__endswith="run_jobs").exists()


def test_every_item_task_retries_with_back_off():
    """Beat tasks run again at their next tick; every other task of the desk takes an item id and
    must retry on its own, with back-off, acknowledged late (a killed worker's task is redelivered)."""
    for module in ("fulfillment.tasks", "inquiries.tasks", "escalation.tasks", "portal.tasks", "reports.tasks"):
        importlib.import_module(module)  # a worker imports them at start; a test process does not
    beat = ops.beat_tasks()
    ours = [
        t
        for name, t in celery_app.tasks.items()
        if name.split(".")[0] in {"fulfillment", "orders", "inquiries", "escalation", "portal", "reports"}
    ]
    item_tasks = [t for t in ours if t.name not in beat]
    assert item_tasks, "no item-level tasks found"
    for task in item_tasks:
        assert task.autoretry_for and task.retry_backoff and task.acks_late, task.name
    assert beat <= {t.name for t in ours}  # every beat entry names a real task
