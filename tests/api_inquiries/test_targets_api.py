"""Service targets in the inquiries API: ``due_kind``, ``warn_at``, ``service_state`` and
``policy`` in ``deadlines``, and the ``sla`` list filter (docs/api.md §9, docs/service-targets.md).

The default policy and calendar apply: a normal priority gets 8 business hours to a first
response, Monday to Friday 09:00–17:00 UTC, at risk from 75 %. "Now" is Tuesday 4 March 2031,
10:00.
"""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from fulfillment import clock
from inquiries import selectors, services
from inquiries.models import ServicePolicy
from tests.factories import CustomerFactory

from .conftest import SYSTEM, URL, assert_problem, make_inquiry, url

NOW = dt.datetime(2031, 3, 4, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
LIST_QUERIES = 4  # key, inquiries + customer + assignee + policy, tags, linked orders


def made_at(at: dt.datetime, **kwargs):
    with clock.frozen(at):
        return make_inquiry(**kwargs)


@pytest.fixture
def board(db):
    on_track = made_at(NOW, subject="On track")
    at_risk = made_at(NOW - 23 * HOUR, subject="At risk")  # Mon 11:00: due Tue 11:00, at risk since Mon 17:00
    breached = made_at(NOW - 4 * 24 * HOUR, subject="Breached")  # Fri 10:00: was due Mon 10:00
    paused = made_at(NOW - HOUR / 2, subject="Paused")
    with clock.frozen(NOW - HOUR / 3):
        services.reply_send(actor=SYSTEM, inquiry=paused, body="Which parcel?")
    with clock.frozen(NOW - HOUR / 6):
        services.inquiry_set_status(actor=SYSTEM, inquiry=paused, status="waiting_customer")
    done = made_at(NOW - 4 * 24 * HOUR, subject="Resolved")
    with clock.frozen(NOW - 4 * 24 * HOUR + HOUR):
        services.inquiry_set_status(actor=SYSTEM, inquiry=done, status="resolved")
    return {"on_track": on_track, "at_risk": at_risk, "breached": breached, "paused": paused, "done": done}


def by_id(response) -> dict[int, dict]:
    assert response.status_code == 200, response.content[:300]
    return {row["id"]: row for row in response.json()["results"]}


def test_deadlines_carry_the_kind_the_warning_the_state_and_the_policy(board, rw):
    standard = ServicePolicy.objects.get(is_default=True)
    with clock.frozen(NOW):
        deadlines = rw.get(url(board["at_risk"])).json()["deadlines"]
    assert deadlines == {
        "due_at": "2031-03-04T11:00:00Z",
        "due_kind": "first_response",
        "warn_at": "2031-03-03T17:00:00Z",
        "service_state": "at_risk",
        "policy": {"id": standard.pk, "name": "Standard"},
        "response_due_at": "2031-03-04T11:00:00Z",
        "resolve_due_at": "2031-03-10T11:00:00Z",
        "next_callback_at": None,
        "next_step_due": None,
        "overdue": False,
    }


def test_the_list_judges_every_row_at_the_same_time(board, rw):
    with clock.frozen(NOW):
        rows = by_id(rw.get(URL))
    states = {name: rows[inquiry.pk]["deadlines"]["service_state"] for name, inquiry in board.items()}
    assert states == {
        "on_track": "on_track",
        "at_risk": "at_risk",
        "breached": "breached",
        "paused": "paused",
        "done": "",
    }
    done = rows[board["done"].pk]["deadlines"]
    assert (done["due_at"], done["due_kind"], done["warn_at"]) == (None, "", None)
    assert done["policy"]["name"] == "Standard"  # the policy that timed it stays recorded
    paused = rows[board["paused"].pk]["deadlines"]
    assert (paused["due_at"], paused["due_kind"], paused["warn_at"]) == (None, "", None)
    breached = rows[board["breached"].pk]["deadlines"]
    assert breached["overdue"] is True and breached["due_kind"] == "first_response"


def test_the_state_moves_with_the_clock(board, rw):
    inquiry = board["on_track"]  # first response due Wed 10:00, at risk from Tue 16:00
    for at, state in ((NOW, "on_track"), (NOW + 6 * HOUR, "at_risk"), (NOW + 24 * HOUR, "breached")):
        with clock.frozen(at):
            assert rw.get(url(inquiry)).json()["deadlines"]["service_state"] == state, at


@pytest.mark.parametrize(
    ("sla", "expected"),
    [("at_risk", {"at_risk"}), ("breached", {"breached"}), ("attention", {"at_risk", "breached"})],
)
def test_the_sla_filter(board, rw, sla, expected):
    with clock.frozen(NOW):
        rows = by_id(rw.get(URL, {"sla": sla}))
    assert set(rows) == {board[name].pk for name in expected}
    assert {row["deadlines"]["service_state"] for row in rows.values()} == expected


def test_the_sla_filter_combines_with_the_others(board, rw, staff):
    with clock.frozen(NOW):
        assert set(by_id(rw.get(URL, {"sla": "attention", "status": "new", "q": "Breached"}))) == {board["breached"].pk}
        assert set(by_id(staff.get(URL, {"sla": "breached"}))) == {board["breached"].pk}


@pytest.mark.parametrize("value", ["late", "AT_RISK", "", "at_risk,breached"])
def test_a_bad_sla_value_is_400_naming_the_field(board, rw, value):
    body = assert_problem(rw.get(URL, {"sla": value}), 400)
    assert list(body["errors"]) == ["sla"], body
    assert body["errors"]["sla"][0]


def test_the_filter_needs_a_key_like_every_read(board, ro, wo):
    assert_problem(APIClient().get(URL, {"sla": "breached"}), 401)
    assert_problem(wo.get(URL, {"sla": "breached"}), 403)
    with clock.frozen(NOW):
        assert set(by_id(ro.get(URL, {"sla": "breached"}))) == {board["breached"].pk}


def test_the_api_and_the_queue_agree(board, rw, supervisor):
    with clock.frozen(NOW):
        api = set(by_id(rw.get(URL, {"sla": "attention"})))
        desk = {row.pk for row in selectors.inquiry_queue(actor=supervisor, queue="team", sla="attention")}
    assert api == desk


@pytest.mark.parametrize("size", [2, 20])
@pytest.mark.parametrize("sla", [None, "attention"])
def test_the_list_is_a_constant_number_of_queries(db, rw, size, sla, django_assert_num_queries):
    customer = CustomerFactory()
    for n in range(22):
        made_at(NOW - 4 * 24 * HOUR + n * dt.timedelta(minutes=1), customer=customer, tags=["a"])
    params = {"page_size": size, **({"sla": sla} if sla else {})}
    with clock.frozen(NOW):
        rw.get(URL, params)  # warm-up: the key's last_used_at is written once
        with django_assert_num_queries(LIST_QUERIES):
            response = rw.get(URL, params)
    assert len(response.json()["results"]) == size
