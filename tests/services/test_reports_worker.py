"""The dashboard's rollups refreshed by a real Celery worker (reports.tasks.refresh_rollups, the
beat entry "refresh-report-rollups"), on PostgreSQL and Redis; then the page reads them."""

from __future__ import annotations

import pytest
from django.conf import settings

from fulfillment.tiers import Tier
from reports.models import Rollup
from reports.tasks import refresh_rollups
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

from .conftest import celery_worker, wait_until

pytestmark = pytest.mark.services


def test_the_worker_refreshes_the_rollups_the_dashboard_reads(
    transactional_db, redis_url, monkeypatch, tmp_path, client
):
    assert settings.CELERY_BEAT_SCHEDULE["refresh-report-rollups"]["task"] == "reports.tasks.refresh_rollups"
    InquiryFactory.create_batch(3, tier=Tier.SENIOR_REP)
    with celery_worker(redis_url=redis_url, tmp_path=tmp_path, monkeypatch=monkeypatch) as (worker, log):
        refresh_rollups.delay()
        wait_until(
            lambda: (
                "reports.tasks.refresh_rollups" in log.read_text(errors="replace")
                and " succeeded in " in log.read_text(errors="replace")
            ),
            timeout=120,
            what="the worker to refresh the rollups",
            log=log,
            process=worker,
        )
    assert Rollup.objects.count() > 100
    monkeypatch.setattr(settings, "FD_REPORT_ROLLUP_MAX_AGE", 1200)
    client.force_login(UserFactory(username="boss", tier=Tier.SUPERVISOR))
    response = client.get("/reports/?preset=last7")
    assert response.context["as_of"] is not None  # read from what the worker stored
    backlog = next(card["table"] for card in response.context["cards"] if card["table"].key == "backlog")
    assert backlog.rows == [("Senior rep", 3, 0, 0, 0)]
