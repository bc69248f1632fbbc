"""/healthz: database and broker reachability, no login needed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from fulfillment import clock
from fulfillment.celery import app
from fulfillment.models import Heartbeat

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


def test_healthz_reports_database_and_broker_ok_without_login(client, settings):
    # The embedded default uses the filesystem broker; with REDIS_URL set (CI) it is Redis.
    expected_broker = "filesystem" if settings.CELERY_BROKER_URL == "filesystem://" else "redis"
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {
        "status": "ok",
        "database": {"ok": True, "detail": connection.vendor},
        "broker": {"ok": True, "detail": expected_broker},
        "last_beat_seconds_ago": None,
    }


def test_healthz_reports_the_age_of_the_last_beat(client):
    Heartbeat.objects.create(name="beat", at=NOW - dt.timedelta(seconds=42))
    with clock.frozen(NOW):
        response = client.get("/healthz")
    assert response.json()["last_beat_seconds_ago"] == 42


def test_healthz_is_503_when_the_broker_is_unreachable(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(app, "connection_for_write", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"] == {"ok": False, "detail": "ConnectionRefusedError"}
    assert body["database"]["ok"] is True


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
