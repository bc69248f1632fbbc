"""Last week's report by email (reports/weekly_mail.py): when it is due, whom it tells, what it
says (hand-computed on a small data set), in whose language, once per person per week, and what
happens when the mail server is down. Mail goes through a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from fulfillment import clock
from fulfillment.models import Notification
from fulfillment.tiers import Tier
from inquiries.enums import Category, FollowUpState, InquiryStatus
from inquiries.models import FollowUpCall
from inquiries.targets.models import TargetKind, TargetRecord
from reports import weekly_mail
from reports.metrics import Table
from reports.tasks import send_weekly_reports
from tests.conftest import require_service
from tests.escalation.test_notify import received, smtp, smtp_down  # noqa: F401  (fixtures)
from tests.factories import UserFactory

from .test_metrics import at, call, inquiry, put, record

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 3, 9, 7, 0, tzinfo=dt.UTC)  # last week: Monday 2 to Sunday 8 March 2026
WEEK = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))
ROOT = Path(__file__).resolve().parents[2]


# --- when ----------------------------------------------------------------------------------------


def test_the_report_is_due_from_the_hour_on_monday_until_the_next_week(settings):
    settings.FD_WEEKLY_REPORT_HOUR = "7"
    assert weekly_mail.due_week(MONDAY - dt.timedelta(minutes=1)) is None
    assert weekly_mail.due_week(MONDAY) == WEEK
    assert weekly_mail.due_week(MONDAY + dt.timedelta(days=6, hours=16, minutes=59)) == WEEK  # Sunday 23:59
    next_monday = MONDAY + dt.timedelta(days=7)
    assert weekly_mail.due_week(next_monday - dt.timedelta(hours=1)) is None  # Monday 06:00
    assert weekly_mail.due_week(next_monday) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))
    settings.FD_WEEKLY_REPORT_HOUR = "off"
    assert weekly_mail.due_week(MONDAY) is None


def test_the_hour_is_the_desks_local_hour(settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # 07:00 in Kolkata is 01:30 UTC
    assert weekly_mail.due_week(dt.datetime(2026, 3, 9, 1, 29, tzinfo=dt.UTC)) is None
    assert weekly_mail.due_week(dt.datetime(2026, 3, 9, 1, 30, tzinfo=dt.UTC)) == WEEK
    # Sunday 20:00 UTC is already Monday 01:30 in Kolkata: not yet the hour
    settings.FD_WEEKLY_REPORT_HOUR = "1"
    assert weekly_mail.due_week(dt.datetime(2026, 3, 8, 20, 0, tzinfo=dt.UTC)) == WEEK


@pytest.mark.parametrize("value", ["25", "-1", "seven", "7.5"])
def test_a_bad_hour_stops_the_settings_with_a_message(value):
    env = {
        **os.environ,
        "FD_WEEKLY_REPORT_HOUR": value,
        "DJANGO_SETTINGS_MODULE": "fulfillment.settings",
        "DJANGO_DEBUG": "1",  # past the production-only checks, to this one
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "FD_WEEKLY_REPORT_HOUR must be an hour from 0 to 23, or off." in done.stderr


# --- what it says --------------------------------------------------------------------------------


def table(key: str, rows: list[tuple]) -> Table:
    return Table(key=key, title=key, columns=[], rows=rows)


EMPTY = {
    key: table(key, [])
    for key in ("backlog", "targets", "first_contact", "escalations", "follow_ups", "expedites", "satisfaction")
} | {"hot_spots": table("hot_spots", [])}


def test_an_empty_week_says_only_the_backlog():
    assert weekly_mail.headlines(EMPTY) == ["Open now: 0"]


def test_the_headlines_add_up_the_tables():
    day = dt.date(2026, 3, 2)
    tables = EMPTY | {
        "backlog": table("backlog", [("Rep", 3, 2, 0, 1), ("Senior rep", 1, 0, 0, 0)]),
        "targets": table("targets", [(day, 4, 3, 2, 1), (day, 4, 4, 0, 0)]),
        "first_contact": table("first_contact", [("All", 8, 6, 75.0, 1, 12.5)]),
        "escalations": table("escalations", [("Rep", 10, 2, 20.0, 1.5), ("Senior rep", 2, 1, 50.0, None)]),
        "follow_ups": table("follow_ups", [(day, 2, 1, 1), (day, 1, 1, 0)]),
        "expedites": table("expedites", [("Shipped", 5, 1, 2), ("Delivered", 3, 0, 1)]),
        "satisfaction": table("satisfaction", [(1, 1), (2, 0), (3, 0), (4, 1), (5, 2)]),
        "hot_spots": table("hot_spots", [("Category: Billing", 7), ("Product: SKU-1", 9), ("Category: Other", 2)]),
    }
    assert weekly_mail.headlines(tables) == [
        "Open now: 7",
        "First responses on time: 7 of 8 (87.5 %)",
        "Resolutions on time: 1 of 2 (50.0 %)",
        "Resolved: 8; at first contact: 75.0 %; reopened: 12.5 %",
        "Escalations: 3",
        "Follow-up calls: 3 due, 2 done, 1 missed",
        "Expedite promises: 8 kept, 1 late",
        "Satisfaction: 3.75 of 5 from 4 ratings",  # (1 + 4 + 5 + 5) / 4
        "Hot spots: Product: SKU-1 (9), Category: Billing (7), Category: Other (2)",
    ]


# --- whom it tells, end to end -------------------------------------------------------------------


@pytest.fixture
def week_of_work():
    """Last week at the desk: two open inquiries (a rep's and a senior's tier), one resolved
    inquiry answered once and on time, a follow-up call done."""
    open_rep = inquiry(at(3, 9), category=Category.BILLING)
    open_senior = inquiry(at(4, 9), category=Category.BILLING)
    put(open_senior, tier=Tier.SENIOR_REP)
    done = inquiry(at(2, 9), category=Category.DELIVERY)
    put(
        done,
        status=InquiryStatus.RESOLVED,
        resolved_at=at(5, 12),
        first_response_at=at(2, 10),
        last_outbound_at=at(2, 10),
    )
    TargetRecord.objects.all().delete()
    record(done, TargetKind.FIRST_RESPONSE, at(2, 10), True)
    record(done, TargetKind.RESOLUTION, at(5, 12), True)
    call(done, at(6, 10), FollowUpState.DONE)
    assert FollowUpCall.objects.count() == 1
    return open_rep, open_senior, done


def test_supervisors_seniors_and_specialists_are_told_in_their_language(smtp, week_of_work):  # noqa: F811
    supervisor = UserFactory(username="boss", tier=Tier.SUPERVISOR, email="boss@example.com", language="en")
    senior = UserFactory(username="senior", tier=Tier.SENIOR_REP, email="senior@example.com", language="hi")
    specialist = UserFactory(username="spec", tier=Tier.SPECIALIST, email="spec@example.com", language="en")
    UserFactory(username="rep", tier=Tier.REP, email="rep@example.com")
    UserFactory(username="gone", tier=Tier.SUPERVISOR, email="gone@example.com", is_active=False)
    with clock.frozen(MONDAY):
        assert weekly_mail.send() == 3
    mails = {m["To"]: m for m in received(smtp)}
    assert set(mails) == {"boss@example.com", "senior@example.com", "spec@example.com"}

    boss = mails["boss@example.com"]
    assert boss["Subject"] == "Weekly report 2026-W10 · All tiers"
    body = boss.get_content()
    assert "Monday 2026-03-02 to Sunday 2026-03-08 · All tiers" in body
    for line in (
        "- Open now: 2",
        "- First responses on time: 1 of 1 (100.0 %)",
        "- Resolutions on time: 1 of 1 (100.0 %)",
        "- Resolved: 1; at first contact: 100.0 %; reopened: 0.0 %",
        "- Follow-up calls: 1 due, 1 done, 0 missed",
        "- Hot spots: Category: Billing (2), Category: Delivery (1)",
    ):
        assert line in body
    assert "Escalations" not in body and "Satisfaction" not in body  # nothing to say
    assert body.rstrip().endswith(f"{django_settings.FD_SITE_URL.rstrip('/')}/reports/weekly/?week=2026-W10")

    # a senior's figures are their own tier's, in Hindi
    hindi = mails["senior@example.com"]
    assert "2026-W10" in hindi["Subject"] and "Weekly report" not in hindi["Subject"]
    with translation.override("hi"):
        open_now = gettext("Open now: %(count)d") % {"count": 1}  # only the senior tier's one
    assert open_now != "Open now: 1" and f"- {open_now}" in hindi.get_content()
    # the specialist tier has nothing open
    assert "- Open now: 0" in mails["spec@example.com"].get_content()

    notice = Notification.objects.get(recipient=supervisor)
    assert (notice.key, notice.url) == ("weekly-report:2026-W10", "/reports/weekly/?week=2026-W10")
    assert Notification.objects.filter(recipient__in=[senior, specialist], key="weekly-report:2026-W10").count() == 2


def test_each_person_is_told_once_a_week_and_a_newcomer_later_in_the_week(smtp):  # noqa: F811
    UserFactory(username="boss", tier=Tier.SUPERVISOR, email="boss@example.com")
    with clock.frozen(MONDAY):
        assert weekly_mail.send() == 1
    with clock.frozen(MONDAY + dt.timedelta(hours=1)):
        assert weekly_mail.send() == 0
    UserFactory(username="new", tier=Tier.SUPERVISOR, email="new@example.com")
    with clock.frozen(MONDAY + dt.timedelta(days=2)):
        assert weekly_mail.send() == 1
    assert [m["To"] for m in received(smtp)] == ["boss@example.com", "new@example.com"]
    with clock.frozen(MONDAY + dt.timedelta(days=7)):  # the next week's report
        assert weekly_mail.send() == 2
    assert Notification.objects.filter(key="weekly-report:2026-W11").count() == 2


def test_nothing_goes_before_the_hour_or_when_switched_off(smtp, settings):  # noqa: F811
    UserFactory(username="boss", tier=Tier.SUPERVISOR, email="boss@example.com")
    with clock.frozen(MONDAY - dt.timedelta(minutes=1)):
        assert weekly_mail.send() == 0
    settings.FD_WEEKLY_REPORT_HOUR = "off"
    with clock.frozen(MONDAY + dt.timedelta(hours=3)):
        assert weekly_mail.send() == 0
    assert received(smtp) == [] and not Notification.objects.exists()


def test_a_mail_server_down_leaves_the_report_for_the_next_run(smtp, smtp_down):  # noqa: F811
    UserFactory(username="boss", tier=Tier.SUPERVISOR, email="boss@example.com")
    with clock.frozen(MONDAY):
        assert weekly_mail.send() == 0
    assert not Notification.objects.exists()  # rolled back with the failed mail
    smtp_down()  # the server is back
    with clock.frozen(MONDAY + dt.timedelta(hours=1)):
        assert weekly_mail.send() == 1
    assert [m["To"] for m in received(smtp)] == ["boss@example.com"]


def test_someone_without_an_email_is_told_in_the_app(smtp):  # noqa: F811
    boss = UserFactory(username="boss", tier=Tier.SUPERVISOR, email="")
    with clock.frozen(MONDAY):
        assert send_weekly_reports() == 1  # the beat task
    assert received(smtp) == []
    notice = Notification.objects.get(recipient=boss)
    assert notice.title == "Weekly report 2026-W10 · All tiers" and "Open now: 0" in notice.body


def test_beat_runs_it_every_hour():
    entry = django_settings.CELERY_BEAT_SCHEDULE["send-weekly-reports"]
    assert (entry["task"], entry["schedule"]) == ("reports.tasks.send_weekly_reports", 3600.0)


@pytest.mark.django_db(transaction=True)
def test_two_runners_at_once_tell_each_person_once(smtp, monkeypatch):  # noqa: F811
    """Two beats by mistake: both runs find the same people untold; the row lock makes the second
    wait for the first and then find them told. (Without the lock both would mail: the slowed
    ``words`` keeps both runs inside ``tell`` at the same time.)"""
    require_service(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://…")
    for name in ("boss", "boss2"):
        UserFactory(username=name, tier=Tier.SUPERVISOR, email=f"{name}@example.com")
    real_words_for = weekly_mail.words_for

    def slow_words_for(user, week):
        words = real_words_for(user, week)

        def slow():
            time.sleep(0.5)
            return words()

        return slow

    monkeypatch.setattr(weekly_mail, "words_for", slow_words_for)
    start, told = threading.Barrier(2), []

    def run():
        try:
            start.wait()
            told.append(weekly_mail.send())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    with clock.frozen(MONDAY):  # once, here: clock.frozen swaps a global, not a thread's own
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(told) == [0, 2] or sorted(told) == [1, 1]
    assert sorted(m["To"] for m in received(smtp)) == ["boss2@example.com", "boss@example.com"]
    assert Notification.objects.filter(key="weekly-report:2026-W10").count() == 2


# --- turning it off --------------------------------------------------------------------------------


def test_a_person_turns_the_report_off_and_on_from_the_notifications_page(client, smtp):  # noqa: F811
    boss = UserFactory(username="boss", tier=Tier.SUPERVISOR, email="boss@example.com")
    client.force_login(boss)
    page = client.get("/notifications/").content.decode()
    assert 'action="/preferences/weekly-report/"' in page and 'name="weekly_report" checked' in page
    response = client.post("/preferences/weekly-report/", {})  # the box unticked
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    boss.refresh_from_db()
    assert boss.weekly_report is False
    assert "You will no longer get the weekly report." in client.get("/notifications/").content.decode()
    with clock.frozen(MONDAY):
        assert weekly_mail.send() == 0
    assert received(smtp) == [] and not Notification.objects.exists()
    client.post("/preferences/weekly-report/", {"weekly_report": "on"})
    boss.refresh_from_db()
    assert boss.weekly_report is True
    with clock.frozen(MONDAY + dt.timedelta(hours=1)):
        assert weekly_mail.send() == 1


def test_a_rep_is_not_offered_the_report(client):
    rep = UserFactory(username="rep", tier=Tier.REP)
    client.force_login(rep)
    assert "weekly-report" not in client.get("/notifications/").content.decode()


def test_the_preference_needs_a_staff_login_a_post_and_the_csrf_token(client, no_role_user):
    assert client.post("/preferences/weekly-report/", {}).status_code == 302  # to the login page
    boss = UserFactory(username="boss", tier=Tier.SUPERVISOR)
    client.force_login(boss)
    assert client.get("/preferences/weekly-report/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(boss)
    assert strict.post("/preferences/weekly-report/", {}).status_code == 403
    boss.refresh_from_db()
    assert boss.weekly_report is True
    other = Client()
    other.force_login(no_role_user)
    assert other.post("/preferences/weekly-report/", {}).status_code == 403


def test_the_command_sends_it_now_and_says_what_it_did(smtp, settings):  # noqa: F811
    UserFactory(username="boss", tier=Tier.SUPERVISOR, email="boss@example.com")
    out = io.StringIO()
    with clock.frozen(MONDAY):
        call_command("send_weekly_reports", stdout=out)
        call_command("send_weekly_reports", stdout=out)
    assert out.getvalue().splitlines() == [
        "Week 2026-W10: 1 told now (those told before are not told again).",
        "Week 2026-W10: 0 told now (those told before are not told again).",
    ]
    assert [m["To"] for m in received(smtp)] == ["boss@example.com"]
    settings.FD_WEEKLY_REPORT_HOUR = "off"
    out = io.StringIO()
    call_command("send_weekly_reports", stdout=out)
    assert out.getvalue().startswith("Nothing due")
