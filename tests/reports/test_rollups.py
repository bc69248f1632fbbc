"""The dashboard's rollups (reports/rollups.py, reports/tasks.py): stored query results the
dashboard reads while they are young, refreshed by a Celery task; shaped in each visitor's
language; the same numbers as the live metrics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment import clock
from fulfillment.models import Team
from fulfillment.tiers import Tier
from inquiries.enums import Category, Channel
from reports import rollups, tasks
from reports.forms import Preset
from reports.metrics import METRICS, Filters
from reports.models import Rollup
from tests.inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
WEEK = Filters(start=dt.date(2026, 2, 26), end=dt.date(2026, 3, 4))


@pytest.fixture
def on(settings):
    settings.FD_REPORT_ROLLUP_MAX_AGE = 1200
    with clock.frozen(NOW):
        yield


def backlog_row(response) -> tuple:
    table = next(card["table"] for card in response.context["cards"] if card["table"].key == "backlog")
    return table.rows[0]


def test_values_come_back_as_themselves():
    value = [
        (dt.date(2026, 3, 2), "first_response", 3, None),
        {"assignee": 7, "average": dt.timedelta(hours=1, seconds=1.5), "at": NOW, "money": Decimal("1.10")},
    ]
    assert rollups.decode(rollups.encode(value), "rows") == [
        (dt.date(2026, 3, 2), "first_response", 3, None),
        {"assignee": 7, "average": dt.timedelta(hours=1, seconds=1.5), "at": NOW, "money": Decimal("1.10")},
    ]
    assert rollups.decode(rollups.encode({"n": 1, "average": 2.5}), "aggregate") == {"n": 1, "average": 2.5}


def test_a_young_rollup_is_read_an_old_one_recomputed_and_fresh_skips_them(client, supervisor, on):
    InquiryFactory.create_batch(2, tier=Tier.REP)
    client.force_login(supervisor)
    first = client.get("/reports/?preset=last7")
    assert backlog_row(first)[:2] == ("Rep", 2)
    assert first.context["as_of"] is None  # computed now, and kept
    assert Rollup.objects.exists()
    InquiryFactory.create_batch(3, tier=Tier.REP)
    with clock.frozen(NOW + dt.timedelta(minutes=19)):
        cached = client.get("/reports/?preset=last7")
        assert backlog_row(cached)[:2] == ("Rep", 2)  # the figures of 10:00
        assert cached.context["as_of"] == NOW
        assert "Figures as of" in cached.content.decode() and "fresh=1" in cached.content.decode()
        fresh = client.get("/reports/?start=2026-02-26&end=2026-03-04&fresh=1")
        assert backlog_row(fresh)[:2] == ("Rep", 5) and fresh.context["as_of"] is None
    with clock.frozen(NOW + dt.timedelta(minutes=41)):  # past the max age of the fresh ones too
        assert backlog_row(client.get("/reports/?preset=last7"))[:2] == ("Rep", 5)


def test_the_rollups_off_means_live(client, supervisor, settings):
    settings.FD_REPORT_ROLLUP_MAX_AGE = 0
    client.force_login(supervisor)
    with clock.frozen(NOW):
        client.get("/reports/?preset=last7")
    assert not Rollup.objects.exists()


def test_the_task_refreshes_the_common_views_and_the_page_then_reads_only_rollups(client, supervisor, on):
    team = Team.objects.create(name="Chennai")
    InquiryFactory.create_batch(2, tier=Tier.REP, category=Category.BILLING, channel=Channel.WEB)
    done = tasks.refresh()
    views = len(Preset.CHOICES) * (1 + len(Tier.values) + len(Category.values) + len(Channel.values) + 1)
    assert done["views"] == views
    assert any(f.team == team.pk for f in tasks.common_filters(NOW.date()))
    client.force_login(supervisor)
    for url in ("/reports/?preset=last7", "/reports/?preset=last30&category=billing", f"/reports/?team={team.pk}"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200 and response.context["as_of"] == NOW
        heavy = [q["sql"] for q in ctx.captured_queries if "reports_rollup" not in q["sql"]]
        # only the session, the user, the teams of the filter form and age's moment-bound query
        assert not [sql for sql in heavy if "escalation_escalation" in sql or "orders_orderline" in sql], heavy


def test_rollups_are_the_live_numbers_in_the_visitors_language(client, supervisor, on):
    InquiryFactory.create_batch(2, tier=Tier.SENIOR_REP, category=Category.BILLING)
    tasks.refresh([WEEK])
    with rollups.reading() as oldest:
        read = {key: metric.compute(WEEK) for key, metric in METRICS.items()}
    assert oldest[0] == NOW
    live = {key: metric.compute(WEEK) for key, metric in METRICS.items()}
    assert read == live
    supervisor.language = "hi"
    supervisor.save(update_fields=["language"])
    client.force_login(supervisor)
    page = client.get("/reports/?start=2026-02-26&end=2026-03-04", HTTP_ACCEPT_LANGUAGE="hi")
    assert page.context["as_of"] == NOW
    backlog = next(card["table"] for card in page.context["cards"] if card["table"].key == "backlog")
    assert backlog.rows[0][0] != "Senior rep" and backlog.rows[0][1] == 2  # the tier's name in Hindi


def test_the_query_count_is_constant_cold_and_warm(client, supervisor, on):
    client.force_login(supervisor)

    def count(url) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    InquiryFactory(tier=Tier.REP)
    cold_small = count("/reports/?preset=last7&fresh=1")
    warm_small = count("/reports/?preset=last7")
    InquiryFactory.create_batch(5, tier=Tier.SPECIALIST, category=Category.BILLING)
    assert count("/reports/?preset=last7&fresh=1") == cold_small
    assert count("/reports/?preset=last7") == warm_small
    assert warm_small < cold_small


def test_old_rollups_are_purged(on):
    Rollup.objects.create(key="a" * 64, kind="count", value=1, computed_at=NOW - dt.timedelta(days=2))
    Rollup.objects.create(key="b" * 64, kind="count", value=1, computed_at=NOW - dt.timedelta(hours=2))
    assert tasks.refresh([])["purged"] == 1
    assert list(Rollup.objects.values_list("key", flat=True)) == ["b" * 64]
