"""Redis as the broker, and a REAL Celery worker process running a task against the test database."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection

from fulfillment.celery import app as celery_app
from fulfillment.models import Heartbeat
from fulfillment.tasks import heartbeat
from tests.conftest import require_service

from .conftest import ROOT, child_env, database_url_for, stop_group, tail, wait_until

pytestmark = pytest.mark.services


def test_healthz_reports_the_redis_broker(client, db, redis_url):
    assert redis_url == settings.CELERY_BROKER_URL
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["broker"] == {"ok": True, "detail": "redis"}
    assert body["database"]["ok"] is True


def test_redis_answers_a_ping(redis_url):
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        assert client.ping() is True
        key = f"fd-test:{uuid.uuid4().hex}"
        client.set(key, "1", ex=30)
        assert client.get(key) == b"1"
        client.delete(key)
    finally:
        client.close()


def test_a_real_worker_runs_the_heartbeat_task(transactional_db, redis_url, monkeypatch, tmp_path):
    """.delay() → Redis → `celery worker` (its own process) → the test database."""
    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL (DATABASE_URL=postgres://…): a worker process cannot reach the in-memory SQLite test DB",
    )
    # Own queue: a worker of a `make run` on the same Redis must not take this message.
    queue = f"fd-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    env = child_env(
        DATABASE_URL=database_url_for(connection.settings_dict),
        REDIS_URL=redis_url,
        DJANGO_DEBUG="1",
        DJANGO_SETTINGS_MODULE="fulfillment.settings",
        FD_DATA_DIR=str(tmp_path / "data"),
    )
    log = tmp_path / "worker.log"
    command = [
        *(sys.executable, "-m", "celery", "-A", "fulfillment", "worker"),
        *("--pool=solo", "--concurrency=1", f"--queues={queue}", f"--hostname=fdtest-{queue}@%h"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"),
    ]
    assert not Heartbeat.objects.exists()
    with log.open("wb") as out:
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        assert not connection.in_atomic_block  # the message goes out now, not on some commit
        heartbeat.delay()
        row = wait_until(
            lambda: Heartbeat.objects.filter(name="beat").first(),
            timeout=30,
            what="the worker to write the heartbeat row",
            log=log,
            process=worker,
        )
        assert row.at is not None
        assert worker.poll() is None, tail(log)
    finally:
        leftover = stop_group(worker, timeout=15)
        client = redis.Redis.from_url(redis_url)
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()
    assert leftover == [], f"worker did not stop on SIGTERM: {leftover}\n{tail(log)}"
    assert "fulfillment.tasks.heartbeat" in log.read_text(errors="replace")
