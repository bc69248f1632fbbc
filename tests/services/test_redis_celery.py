"""Redis as the broker, and a REAL Celery worker process running a task against the test database."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection

from fulfillment.models import Heartbeat
from fulfillment.tasks import heartbeat

from .conftest import celery_worker, tail, wait_until

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
    assert not Heartbeat.objects.exists()
    with celery_worker(redis_url=redis_url, tmp_path=tmp_path, monkeypatch=monkeypatch) as (worker, log):
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
    assert "fulfillment.tasks.heartbeat" in log.read_text(errors="replace")
