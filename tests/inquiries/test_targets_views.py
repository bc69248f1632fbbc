"""Service targets where reps and supervisors see them: the queues' "Due next" column and
``sla`` filter, and the inquiry page's "Service targets" panel (docs/service-targets.md, R23–R28).

Every inquiry here runs on the default policy ("Standard": a normal priority gets 8 business
hours to a first response, 40 to resolution, at risk from 75 %) and its calendar ("Standard
hours": Monday to Friday, 09:00–17:00 in the desk's time zone, UTC in tests). "Now" is Tuesday
4 March 2031, 10:00.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fulfillment import clock
from fulfillment.tiers import Tier
from inquiries import selectors, services
from inquiries.enums import InquiryStatus, ServiceState, SlaFilter
from inquiries.models import Inquiry
from inquiries.selectors import Queue
from inquiries.templatetags import inquiry_tags

from .conftest import NOW
from .factories import InquiryFactory

S = InquiryStatus
HOUR = dt.timedelta(hours=1)
MONDAY = NOW - dt.timedelta(days=1)  # 3 March 2031, 10:00
FRIDAY = NOW - dt.timedelta(days=4)  # 28 February 2031, 10:00


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def made_at(at: dt.datetime, **kwargs) -> Inquiry:
    with clock.frozen(at):
        return InquiryFactory(**kwargs)


def at(when: dt.datetime, call, **kwargs):
    with clock.frozen(when):
        return call(**kwargs)


@pytest.fixture
def board(rep, specialist):
    """One inquiry in each service state at NOW, plus one resolved (no state at all)."""
    on_track = made_at(NOW, subject="On track")  # first response due Wed 10:00, at risk from Tue 16:00
    at_risk = made_at(MONDAY + HOUR, subject="At risk", assignee=rep)  # due Tue 11:00, at risk from Mon 17:00
    breached = made_at(FRIDAY, subject="Breached")  # first response was due Mon 10:00
    paused = made_at(NOW - 30 * dt.timedelta(minutes=1), subject="Paused", assignee=rep)
    at(NOW - 20 * dt.timedelta(minutes=1), services.reply_send, actor=rep, inquiry=paused, body="Which parcel?")
    at(
        NOW - 10 * dt.timedelta(minutes=1),
        services.inquiry_set_status,
        actor=rep,
        inquiry=paused,
        status=S.WAITING_CUSTOMER,
    )
    done = made_at(FRIDAY, subject="Resolved", status=S.RESOLVED)
    rows = {"on_track": on_track, "at_risk": at_risk, "breached": breached, "paused": paused, "done": done}
    return {name: Inquiry.objects.get(pk=inquiry.pk) for name, inquiry in rows.items()}


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def queue_rows(response) -> dict[str, tuple[str, str]]:
    """reference → (the row's state class, the text of its "Due next" cell)."""
    assert response.status_code == 200
    page = response.content.decode()
    found = {}
    for state, row in re.findall(r'<tr class="sla-row ([a-z_]*)">(.*?)</tr>', page, re.S):
        reference = re.search(r"INQ-\d+", row).group(0)
        cell = re.search(r'<td class="due-next">(.*?)</td>', row, re.S).group(1)
        found[reference] = (state, _text(cell))
    return found


# --- the service state of a row (R28) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "due", "warn", "expected"),
    [
        (S.OPEN, NOW + HOUR, NOW + HOUR / 2, ServiceState.ON_TRACK),
        (S.OPEN, NOW + HOUR, NOW, ServiceState.AT_RISK),  # at risk from the warning instant on
        (S.NEW, NOW + HOUR, NOW - HOUR, ServiceState.AT_RISK),
        (S.OPEN, NOW, NOW - HOUR, ServiceState.BREACHED),  # breached from the deadline on (R24)
        (S.WAITING_DEPARTMENT, NOW - HOUR, NOW - 2 * HOUR, ServiceState.BREACHED),
        (S.WAITING_CUSTOMER, NOW + HOUR, NOW - HOUR, ServiceState.AT_RISK),  # a callback is still due
        (S.WAITING_CUSTOMER, None, None, ServiceState.PAUSED),
        (S.OPEN, None, None, ""),  # nothing timed
        (S.RESOLVED, None, None, ""),
        (S.CLOSED, NOW - HOUR, NOW - HOUR, ""),
    ],
)
def test_the_service_state_of_a_row(status, due, warn, expected):
    inquiry = Inquiry(status=status, due_at=due, warn_at=warn)
    assert selectors.service_state(inquiry, NOW) == expected


def test_the_sla_filter_of_every_queue(board, supervisor, rep):
    """at_risk: warn_at ≤ now < due_at; breached: due_at ≤ now; attention: either."""
    expected = {
        SlaFilter.AT_RISK: {"at_risk"},
        SlaFilter.BREACHED: {"breached"},
        SlaFilter.ATTENTION: {"at_risk", "breached"},
        "": {"on_track", "at_risk", "breached", "paused"},
    }
    by_pk = {inquiry.pk: name for name, inquiry in board.items()}
    with clock.frozen(NOW):
        for sla, names in expected.items():
            team = selectors.inquiry_queue(actor=supervisor, queue=Queue.TEAM, sla=sla)
            assert {by_pk[row.pk] for row in team} == names, sla
            everything = selectors.inquiry_queue(actor=supervisor, queue=Queue.ALL, sla=sla)
            assert {by_pk[row.pk] for row in everything} == names | ({"done"} if not sla else set()), sla
            mine = selectors.inquiry_queue(actor=rep, queue=Queue.MINE, sla=sla)
            assert {by_pk[row.pk] for row in mine} == names & {"at_risk", "paused"}, sla
            unassigned = selectors.inquiry_queue(actor=rep, queue=Queue.UNASSIGNED, sla=sla)
            assert {by_pk[row.pk] for row in unassigned} == names & {"on_track", "breached"}, sla
        # The filter agrees with the state every row shows.
        for row in selectors.inquiry_queue(actor=supervisor, queue=Queue.TEAM, sla=SlaFilter.ATTENTION):
            assert selectors.service_state(row, NOW) in {ServiceState.AT_RISK, ServiceState.BREACHED}


def test_the_sla_filter_keeps_the_nearest_deadline_first(board, supervisor):
    with clock.frozen(NOW):
        rows = list(selectors.inquiry_queue(actor=supervisor, queue=Queue.TEAM, sla=SlaFilter.ATTENTION))
    assert [row.pk for row in rows] == [board["breached"].pk, board["at_risk"].pk]


def test_the_callbacks_queue_takes_the_filter_too(board, rep):
    promised = at(
        NOW - HOUR,
        services.callback_promise,
        actor=rep,
        inquiry=board["on_track"],
        due_at=NOW + 10 * dt.timedelta(minutes=1),
    )
    assert promised
    with clock.frozen(NOW):  # 50 of the 70 minutes promised have passed: at risk, and due next
        assert [r.pk for r in selectors.inquiry_queue(actor=rep, queue=Queue.CALLBACKS, sla=SlaFilter.AT_RISK)] == [
            board["on_track"].pk
        ]
        assert not selectors.inquiry_queue(actor=rep, queue=Queue.CALLBACKS, sla=SlaFilter.BREACHED)


def test_an_unknown_sla_filter_is_refused_by_the_selector(supervisor):
    with pytest.raises(ValueError, match="unknown sla filter"):
        selectors.inquiry_queue(actor=supervisor, queue=Queue.TEAM, sla="late")


@pytest.mark.parametrize(
    ("value", "style", "expected"),
    [
        (dt.timedelta(0), "", "under a minute"),
        (dt.timedelta(seconds=59), "", "under a minute"),
        (dt.timedelta(minutes=5, seconds=59), "", "5 min"),
        (dt.timedelta(minutes=65), "", "1 h 05 min"),
        (-dt.timedelta(minutes=90), "", "1 h 30 min"),
        (dt.timedelta(hours=26), "", "26 h 00 min"),  # business time stays in hours
        (dt.timedelta(hours=26), "days", "1 d 2 h"),
        (dt.timedelta(hours=48, minutes=20), "days", "2 d"),
        (dt.timedelta(hours=5, minutes=7), "days", "5 h 07 min"),
    ],
)
def test_durations_read_at_a_glance(value, style, expected):
    assert inquiry_tags.duration(value, style) == expected


# --- the queue pages -------------------------------------------------------------------------------


def test_the_due_next_column_says_the_state_the_kind_and_the_time(board, supervisor):
    with clock.frozen(NOW):
        rows = queue_rows(_client(supervisor).get("/inquiries/?queue=team"))
    ref = {name: inquiry.reference for name, inquiry in board.items()}
    assert set(rows) == {ref["on_track"], ref["at_risk"], ref["breached"], ref["paused"]}
    state, text = rows[ref["breached"]]
    assert state == "breached"
    assert text.startswith("Breached First response 1 d overdue ·")
    state, text = rows[ref["at_risk"]]
    assert state == "at_risk"
    assert text.startswith("At risk First response in 1 h 00 min ·")
    state, text = rows[ref["on_track"]]
    assert state == "on_track"
    assert text.startswith("On track First response in 1 d ·")
    assert rows[ref["paused"]] == ("paused", "Paused waiting on the customer")


def test_the_due_next_column_shows_the_absolute_time_in_the_users_time_zone(board, supervisor, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30; the calendar keeps its own zone (UTC)
    with clock.frozen(NOW):
        page = _client(supervisor).get("/inquiries/?queue=team").content.decode()
    # The at-risk first response is due Tue 11:00 UTC: 16:30 in Kolkata.
    assert 'datetime="2031-03-04T16:30:00+05:30"' in page
    assert "March 4, 2031, 4:30 p.m. IST" in page


def test_the_states_are_words_and_classes_not_colour_alone(board, supervisor):
    with clock.frozen(NOW):
        page = _client(supervisor).get("/inquiries/?queue=team").content.decode()
    for css, words in (
        ("breached", "Breached"),
        ("at_risk", "At risk"),
        ("on_track", "On track"),
        ("paused", "Paused"),
    ):
        assert f'<span class="sla {css}">{words}</span>' in page


def test_the_filter_control_keeps_the_queue(board, supervisor):
    with clock.frozen(NOW):
        response = _client(supervisor).get("/inquiries/?queue=team&sla=attention")
    page = response.content.decode()
    nav = re.search(r'<nav class="sla-filter" aria-label="Service targets">(.*?)</nav>', page, re.S).group(1)
    links = re.findall(r'<a class="[^"]*" href="\?([^"]*)"( aria-current="true")?>([^<]*)</a>', nav)
    assert [(html.unescape(href), bool(current), label) for href, current, label in links] == [
        ("queue=team", False, "All"),
        ("queue=team&sla=at_risk", False, "At risk"),
        ("queue=team&sla=breached", False, "Breached"),
        ("queue=team&sla=attention", True, "Needs attention"),
    ]
    # The queue tabs keep the filter.
    assert 'href="?queue=mine&amp;sla=attention"' in page
    assert 'href="?queue=team&amp;sla=attention" aria-current="page"' in page
    assert set(queue_rows(response)) == {board["at_risk"].reference, board["breached"].reference}


@pytest.mark.parametrize(
    ("sla", "expected"),
    [("at_risk", {"at_risk"}), ("breached", {"breached"}), ("attention", {"at_risk", "breached"})],
)
def test_the_filter_on_the_page(board, supervisor, sla, expected):
    with clock.frozen(NOW):
        rows = queue_rows(_client(supervisor).get(f"/inquiries/?queue=team&sla={sla}"))
    assert set(rows) == {board[name].reference for name in expected}
    assert {state for state, _text in rows.values()} == expected


def test_an_unknown_filter_value_shows_the_whole_queue(board, supervisor):
    with clock.frozen(NOW):
        response = _client(supervisor).get("/inquiries/?queue=team&sla=late")
    assert len(queue_rows(response)) == 4
    assert 'class="sla-all" href="?queue=team" aria-current="true"' in response.content.decode()


def test_a_filter_with_nothing_to_show_says_so(db, supervisor):
    made_at(NOW, subject="Fine")
    with clock.frozen(NOW):
        page = _client(supervisor).get("/inquiries/?queue=team&sla=breached").content.decode()
    assert "Nothing here matches this filter." in page


def test_the_pager_keeps_the_queue_and_the_filter(db, supervisor, settings):
    settings.FD_PAGE_SIZE = 2
    made = [made_at(FRIDAY + n * dt.timedelta(minutes=10), subject=f"Late {n}") for n in range(5)]
    made_at(NOW, subject="Fine")
    client = _client(supervisor)
    seen = []
    with clock.frozen(NOW):
        path = "/inquiries/?queue=team&sla=breached"
        for _page in range(5):
            response = client.get(path)
            seen += list(queue_rows(response))
            following = re.search(r'href="\?([^"]*)" rel="next"', response.content.decode())
            if not following:
                break
            query = html.unescape(following.group(1))
            assert query.startswith("queue=team&sla=breached&cursor=")
            path = f"/inquiries/?{query}"
    assert seen == [inquiry.reference for inquiry in made]  # oldest deadline first, every one once


def test_search_results_show_the_state_too(board, rep):
    with clock.frozen(NOW):
        rows = queue_rows(_client(rep).get("/inquiries/search/?q=Breached"))
    assert rows[board["breached"].reference][0] == "breached"


# --- the inquiry page's panel ---------------------------------------------------------------------


def panel(response) -> str:
    assert response.status_code == 200
    page = response.content.decode()
    section = re.search(r'<section class="card targets".*?</section>', page, re.S)
    assert section, "no Service targets panel"
    return _text(section.group(0))


def clock_text(text: str, label: str) -> str:
    """The part of the panel's text about one clock."""
    labels = ["First response", "Next reply", "Resolution", "Time left counts"]
    start = text.index(label)
    ends = [text.index(other, start + 1) for other in labels if other != label and other in text[start + 1 :]]
    return (text[start : min(ends)] if ends else text[start:]).strip()


def test_the_panel_shows_three_clocks_with_business_time_left(board, rep):
    with clock.frozen(NOW):
        text = panel(_client(rep).get(f"/inquiries/{board['at_risk'].pk}/"))
    assert text.startswith("Service targets At risk")
    assert "Policy “Standard” · calendar “Standard hours” (UTC)" in text
    first = clock_text(text, "First response")
    assert "At risk 1 h 00 min left (business hours)" in first
    assert "Used 7 h 00 min of 8 h 00 min" in first
    assert "Deadline March 4, 2031, 11 a.m. UTC" in first
    assert clock_text(text, "Next reply") == (
        "Next reply Not started Starts when the customer writes again after a response."
    )
    resolution = clock_text(text, "Resolution")
    assert "On track 33 h 00 min left (business hours)" in resolution
    assert "Used 7 h 00 min of 40 h 00 min" in resolution
    # 30 business hours in: used up at Thursday's closing, not at Friday's opening (R6).
    assert "At risk from March 6, 2031, 5 p.m. UTC" in resolution
    assert "Deadline March 10, 2031, 11 a.m. UTC" in resolution
    assert "Times are shown in UTC." in text


def test_the_panel_says_how_long_a_target_has_been_breached(board, rep):
    with clock.frozen(NOW):
        text = panel(_client(rep).get(f"/inquiries/{board['breached'].pk}/"))
    assert text.startswith("Service targets Breached")
    first = clock_text(text, "First response")
    # Due Mon 10:00; by Tue 10:00 seven business hours on Monday and one on Tuesday have passed.
    assert "Breached breached 8 h 00 min ago (business hours)" in first
    assert "Deadline March 3, 2031, 10 a.m. UTC" in first
    assert "On track 24 h 00 min left (business hours)" in clock_text(text, "Resolution")


def test_the_panel_shows_met_and_paused_clocks(board, rep):
    with clock.frozen(NOW):
        text = panel(_client(rep).get(f"/inquiries/{board['paused'].pk}/"))
    assert text.startswith("Service targets Paused")
    first = clock_text(text, "First response")
    assert "Met took 10 min of 8 h 00 min (business hours)" in first
    assert "Stopped March 4, 2031, 9:40 a.m. UTC" in first
    resolution = clock_text(text, "Resolution")
    assert "Paused 39 h 40 min left when it resumes (business hours)" in resolution
    assert "None while waiting on the customer: it moves with the pause." in resolution


def test_the_panel_shows_a_missed_target_and_the_next_cycle(board, rep):
    inquiry = board["breached"]
    at(NOW - HOUR / 2, services.reply_send, actor=rep, inquiry=inquiry, body="Sorry for the wait.")
    at(NOW - HOUR / 4, services.message_receive, actor=rep, inquiry=inquiry, body="Still nothing.", channel="email")
    with clock.frozen(NOW):
        text = panel(_client(rep).get(f"/inquiries/{inquiry.pk}/"))
    # Friday 7 h + Monday 8 h + Tuesday 30 min: 15 h 30 min for an 8-hour target.
    assert "Missed took 15 h 30 min of 8 h 00 min (business hours)" in clock_text(text, "First response")
    assert "On track 7 h 45 min left (business hours)" in clock_text(text, "Next reply")


def test_a_resolved_inquiry_shows_its_stopped_clocks(board, rep):
    with clock.frozen(NOW):
        text = panel(_client(rep).get(f"/inquiries/{board['done'].pk}/"))
    assert text.startswith("Service targets Policy")  # no state: nothing is due
    assert "Met took 0 min" not in text
    assert "Met took under a minute of 8 h 00 min (business hours)" in clock_text(text, "First response")
    assert "Met took under a minute of 40 h 00 min (business hours)" in clock_text(text, "Resolution")


def test_the_deadline_is_shown_in_the_users_time_zone(board, rep, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    with clock.frozen(NOW):
        text = panel(_client(rep).get(f"/inquiries/{board['at_risk'].pk}/"))
    assert "Deadline March 4, 2031, 4:30 p.m. IST" in clock_text(text, "First response")
    assert "Times are shown in Asia/Kolkata." in text


def test_target_clocks_reads_three_rows(board, django_assert_num_queries):
    inquiry = Inquiry.objects.select_related("customer", "policy", "calendar").get(pk=board["at_risk"].pk)
    selectors.target_clocks(inquiry, now=NOW)  # the calendar's hours, read once per process
    with django_assert_num_queries(3):  # the policy with its calendar, its target row, the history
        shown = selectors.target_clocks(inquiry, now=NOW)
    assert [c.kind for c in shown.clocks] == ["first_response", "next_reply", "resolution"]
    first = shown.clocks[0]
    assert (first.state, first.standing, first.left, first.over) == ("running", "at_risk", HOUR, None)
    assert first.used == 7 * HOUR and first.target == 8 * HOUR
    assert (shown.policy, shown.calendar, shown.time_zone, shown.state) == (
        "Standard",
        "Standard hours",
        "UTC",
        "at_risk",
    )


# --- who may see it ----------------------------------------------------------------------------------


def test_login_and_a_desk_role_are_needed(board, no_role_user):
    paths = ["/inquiries/?queue=team&sla=attention", f"/inquiries/{board['at_risk'].pk}/"]
    anonymous = Client()
    for path in paths:
        response = anonymous.get(path)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), path
    for path in paths:
        assert _client(no_role_user).get(path).status_code == 403, path


def test_reps_see_the_column_the_filter_and_the_panel(board, rep):
    client = _client(rep)
    with clock.frozen(NOW):
        rows = queue_rows(client.get("/inquiries/?queue=mine&sla=attention"))
        assert rows == {board["at_risk"].reference: ("at_risk", rows[board["at_risk"].reference][1])}
        assert "Service targets" in panel(client.get(f"/inquiries/{board['breached'].pk}/"))


def test_a_rep_sees_only_the_tiers_a_rep_works(board, rep):
    made_at(FRIDAY, subject="Specialist work", tier=Tier.SPECIALIST)
    with clock.frozen(NOW):
        rows = queue_rows(_client(rep).get("/inquiries/?queue=team&sla=breached"))
    assert set(rows) == {board["breached"].reference}


# --- query counts -----------------------------------------------------------------------------------------

QUEUE_QUERIES = 3  # session, user, the page of inquiries with customers and assignees (as without a filter)


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("queue", Queue.CHOICES)
@pytest.mark.parametrize("sla", ["", "at_risk", "breached", "attention"])
def test_a_filtered_queue_page_is_a_constant_number_of_queries(rep, queue, sla, django_assert_num_queries):
    def make(n):
        for i in range(n):
            inquiry = made_at(FRIDAY + i * dt.timedelta(minutes=1), assignee=rep if i % 2 else None)
            at(FRIDAY, services.callback_promise, actor=rep, inquiry=inquiry, due_at=NOW + dt.timedelta(minutes=20))

    client = _client(rep)
    path = f"/inquiries/?queue={queue}&sla={sla}"
    with clock.frozen(NOW):
        make(2)
        small = _count(client, path)
        make(20)
        assert _count(client, path) == small
        with django_assert_num_queries(QUEUE_QUERIES):
            client.get(path)
