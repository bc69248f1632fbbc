"""/api/v1/metrics/ and /api/v1/metrics/<key>/: keys with the read scope, staff sessions by the
browser's rule, the one error shape, the JSON equal to the metric's Table, constant queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from fulfillment import clock
from fulfillment.api.auth import api_client_create
from fulfillment.models import Team
from fulfillment.tiers import Tier
from inquiries.enums import Category
from reports.metrics import METRICS, Filters
from tests.api.conftest import assert_problem, key_client
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
LIST = "/api/v1/metrics/"


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def make_key(db):
    names = iter(range(100))

    def make(*scopes: str):
        return api_client_create(name=f"bi-{next(names)}", scopes=list(scopes))

    return make


@pytest.fixture
def ro(make_key) -> APIClient:
    return key_client(make_key("read")[1])


def session(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_anonymous_is_401_in_the_error_shape():
    assert_problem(APIClient().get(LIST), 401)
    assert_problem(APIClient().get(f"{LIST}backlog/"), 401)


def test_a_write_only_key_is_403(make_key):
    _client, key = make_key("write")
    assert_problem(key_client(key).get(LIST), 403)
    assert_problem(key_client(key).get(f"{LIST}backlog/"), 403)


def test_an_unknown_key_is_401():
    assert_problem(key_client("fd_nope_nope").get(LIST), 401)


def test_the_list_names_every_metric_in_order(ro):
    response = ro.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert [item["key"] for item in body] == list(METRICS)
    assert body[0]["title"] == str(METRICS["backlog"].title)
    assert body[0]["url"].endswith("/api/v1/metrics/backlog/")


@pytest.mark.parametrize("key", list(METRICS))
def test_a_metric_is_its_table(ro, frozen, key):
    InquiryFactory(tier=Tier.REP, category=Category.BILLING)
    InquiryFactory(tier=Tier.SPECIALIST)
    response = ro.get(f"{LIST}{key}/?start=2026-03-01&end=2026-03-04&category=billing")
    assert response.status_code == 200, response.content
    body = response.json()
    table = METRICS[key].compute(Filters(dt.date(2026, 3, 1), dt.date(2026, 3, 4), category="billing"))
    assert set(body) == {"key", "title", "columns", "rows", "filters"}
    assert body["key"] == key and body["title"] == str(table.title)
    assert body["columns"] == [str(column) for column in table.columns]
    assert len(body["rows"]) == len(table.rows)
    assert body["filters"] == {
        "start": "2026-03-01",
        "end": "2026-03-04",
        "tier": None,
        "category": "billing",
        "channel": "",
        "team": None,
    }


def test_the_backlog_by_hand(ro, frozen):
    InquiryFactory(tier=Tier.REP)
    InquiryFactory(tier=Tier.REP)
    InquiryFactory(tier=Tier.SPECIALIST)
    body = ro.get(f"{LIST}backlog/?tier=3").json()
    assert [row[0] for row in body["rows"]] == [str(Tier.SPECIALIST.label)]
    assert sum(body["rows"][0][1:]) == 1
    assert body["filters"]["tier"] == 3
    # Without dates: the last seven days.
    assert body["filters"]["start"] == "2026-02-26" and body["filters"]["end"] == "2026-03-04"


@pytest.mark.parametrize(
    "query",
    [
        "start=nope&end=2026-03-01",
        "start=2026-03-05&end=2026-03-01",
        "tier=9",
        "category=x",
        "start=2026-03-01",
        "team=424242",
        "team=x",
    ],
)
def test_bad_filters_are_400_with_field_errors(ro, frozen, query):
    body = assert_problem(ro.get(f"{LIST}backlog/?{query}"), 400)
    assert body["errors"]


def test_the_teams_list_names_the_team_filter_values(ro, make_key, frozen):
    chennai = Team.objects.create(name="Chennai phones")
    lead = UserFactory(username="meera", tier=Tier.SUPERVISOR, team=chennai)
    Team.objects.filter(pk=chennai.pk).update(lead=lead)
    UserFactory(username="priya", tier=Tier.REP, team=chennai)
    manila = Team.objects.create(name="Manila email")
    assert ro.get("/api/v1/teams/").json() == [
        {"id": chennai.pk, "name": "Chennai phones", "lead": "meera", "members": 2},
        {"id": manila.pk, "name": "Manila email", "lead": None, "members": 0},
    ]
    InquiryFactory(tier=Tier.REP, assignee=lead)
    InquiryFactory(tier=Tier.REP)
    body = ro.get(f"{LIST}backlog/?team={chennai.pk}").json()
    assert body["filters"]["team"] == chennai.pk
    assert body["rows"] == [["Rep", 1, 0, 0, 0]]
    _client, key = make_key("write")
    assert_problem(key_client(key).get("/api/v1/teams/"), 403)
    assert_problem(APIClient().get("/api/v1/teams/"), 401)


def test_an_unknown_metric_is_404(ro):
    assert_problem(ro.get(f"{LIST}nope/"), 404)


def test_staff_sessions_follow_the_browser_rule(rep, senior, supervisor, frozen):
    InquiryFactory(tier=Tier.REP)
    InquiryFactory(tier=Tier.SENIOR_REP)
    assert_problem(session(rep).get(LIST), 403)
    assert_problem(session(rep).get(f"{LIST}backlog/"), 403)
    body = session(senior).get(f"{LIST}backlog/?tier=1").json()
    assert body["filters"]["tier"] == Tier.SENIOR_REP
    assert [row[0] for row in body["rows"]] == [str(Tier.SENIOR_REP.label)]
    body = session(supervisor).get(f"{LIST}backlog/").json()
    assert [row[0] for row in body["rows"]] == [str(Tier.REP.label), str(Tier.SENIOR_REP.label)]


def test_query_count_does_not_grow_with_data(make_key, frozen):
    _client, key = make_key("read")
    client = key_client(key)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            for metric in METRICS:
                assert client.get(f"{LIST}{metric}/?preset=last30").status_code == 200
        return len(queries)

    client.get(LIST)  # the key's last_used_at is written once a minute: not part of the count
    InquiryFactory(tier=Tier.REP)
    small = count()
    for tier in (Tier.REP, Tier.SENIOR_REP, Tier.SPECIALIST, Tier.SUPERVISOR):
        InquiryFactory(tier=tier, category=Category.BILLING)
    assert count() == small
