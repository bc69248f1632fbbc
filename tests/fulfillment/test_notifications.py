"""The staff notification centre: notices made once per key, read only by their recipient, the
header's unread count as an htmx fragment, the list at a constant query count, CSRF on its
POSTs, titles escaped, and the "read" redirect never leaving the site."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from fulfillment import clock
from fulfillment.errors import NotFound
from fulfillment.models import Notification
from fulfillment.notifications import mark_all_read, mark_read, notifications_for, notify, unread_count

pytestmark = pytest.mark.django_db

#: session, user, the page of notifications
LIST_QUERIES = 3
#: session, user, the count
COUNT_QUERIES = 3


@pytest.fixture
def rep_client(rep):
    client = Client()
    client.force_login(rep)
    return client


def make(user, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        with clock.frozen(dt.datetime(2026, 5, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i)):
            notify(recipients=[user], key=f"test:{i}", title=f"Notice {i}", url=f"/inquiries/{i}/")


# --- services -----------------------------------------------------------------------------------


def test_notify_makes_one_row_per_recipient_and_key_however_often(rep, senior):
    for _ in range(2):
        notify(recipients=[rep, senior], key="escalation:7", title="Escalated", url="/inquiries/7/")
    assert sorted(Notification.objects.values_list("recipient__username", "key")) == [
        ("rep1", "escalation:7"),
        ("senior1", "escalation:7"),
    ]
    assert (unread_count(rep), unread_count(senior)) == (1, 1)


def test_notify_with_nobody_does_nothing(db):
    notify(recipients=[], key="x:1", title="Nobody")
    assert not Notification.objects.exists()


def test_mark_read_is_for_the_recipient_only(rep, senior):
    notify(recipients=[rep], key="x:1", title="Mine")
    notification = Notification.objects.get()
    with pytest.raises(NotFound):
        mark_read(user=senior, notification_id=notification.pk)
    assert Notification.objects.get().read_at is None

    with clock.frozen(dt.datetime(2026, 5, 2, tzinfo=dt.UTC)):
        mark_read(user=rep, notification_id=notification.pk)
    mark_read(user=rep, notification_id=notification.pk)  # again: no change
    assert Notification.objects.get().read_at == dt.datetime(2026, 5, 2, tzinfo=dt.UTC)
    assert unread_count(rep) == 0


def test_mark_all_read_touches_only_the_users_unread(rep, senior):
    make(rep, 3)
    notify(recipients=[senior], key="x:9", title="Theirs")
    assert mark_all_read(user=rep) == 3
    assert mark_all_read(user=rep) == 0
    assert (unread_count(rep), unread_count(senior)) == (0, 1)


def test_notifications_for_is_newest_first_and_the_users_own(rep, senior):
    make(rep, 3)
    notify(recipients=[senior], key="x:9", title="Theirs")
    assert [n.title for n in notifications_for(rep)] == ["Notice 2", "Notice 1", "Notice 0"]


def test_unread_count_is_one_query(rep, django_assert_num_queries):
    make(rep, 2)
    with django_assert_num_queries(1):
        assert unread_count(rep) == 2


# --- pages --------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client):
    for path in ("/notifications/", "/notifications/count/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_user_without_a_staff_role_is_refused(no_role_user):
    client = Client()
    client.force_login(no_role_user)
    assert client.get("/notifications/").status_code == 403
    assert client.get("/notifications/count/").status_code == 403


def test_the_list_marks_unread_and_pages_newest_first(rep, rep_client):
    make(rep, 27)
    mark_read(user=rep, notification_id=Notification.objects.get(key="test:26").pk)
    response = rep_client.get("/notifications/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Notice 26") < html.index("Notice 25")
    assert "Notice 1<" not in html  # 25 a page: 26..2
    assert html.count('class="notification unread"') == 24
    page = response.context["page"]
    assert [n.title for n in page.items][-1] == "Notice 2"
    older = rep_client.get(f"/notifications/?cursor={page.next_cursor}")
    assert [n.title for n in older.context["page"].items] == ["Notice 1", "Notice 0"]


def test_the_list_is_a_constant_number_of_queries(rep, rep_client, django_assert_num_queries):
    make(rep, 2)
    with django_assert_num_queries(LIST_QUERIES):
        assert rep_client.get("/notifications/").status_code == 200
    make(rep, 20, start=2)
    with django_assert_num_queries(LIST_QUERIES):
        response = rep_client.get("/notifications/")
    assert len(response.context["page"].items) == 22


def test_the_list_shows_only_the_users_own(rep, senior, rep_client):
    notify(recipients=[senior], key="x:1", title="Someone else's notice")
    html = rep_client.get("/notifications/").content.decode()
    assert "Someone else" not in html and "No notifications yet." in html


def test_a_title_is_escaped(rep, rep_client):
    notify(recipients=[rep], key="x:1", title="<script>alert(1)</script>", body="<b>bold</b>")
    html = rep_client.get("/notifications/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html


def test_the_count_fragment(rep, rep_client, django_assert_num_queries):
    with django_assert_num_queries(COUNT_QUERIES):
        response = rep_client.get("/notifications/count/")
    assert response.status_code == 200 and 'data-unread="0"' in response.content.decode()
    assert 'class="badge' not in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]

    make(rep, 3)
    html = rep_client.get("/notifications/count/").content.decode()
    assert 'data-unread="3"' in html and ">3<" in html and "3 unread notifications" in html
    assert "<html" not in html  # a fragment, not a page


def test_every_desk_page_links_the_centre_without_a_query_of_its_own(rep, rep_client):
    html = rep_client.get("/notifications/").content.decode()
    assert 'href="/notifications/"' in html and 'hx-get="/notifications/count/"' in html


def test_reading_one_marks_it_read_and_goes_to_its_page(rep, rep_client):
    make(rep, 1)
    notification = Notification.objects.get()
    response = rep_client.post(f"/notifications/{notification.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/inquiries/0/"
    assert Notification.objects.get().read_at is not None


def test_reading_another_users_notification_is_404_and_changes_nothing(rep, senior, rep_client):
    notify(recipients=[senior], key="x:1", title="Theirs", url="/inquiries/1/")
    notification = Notification.objects.get()
    assert rep_client.post(f"/notifications/{notification.pk}/read/").status_code == 404
    assert rep_client.post("/notifications/999999/read/").status_code == 404
    assert Notification.objects.get().read_at is None


@pytest.mark.parametrize(
    "url", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", ""]
)
def test_reading_never_follows_a_link_off_the_site(rep, rep_client, url):
    notify(recipients=[rep], key="x:1", title="Odd link", url=url)
    response = rep_client.post(f"/notifications/{Notification.objects.get().pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"


def test_mark_all_read_page(rep, senior, rep_client):
    make(rep, 3)
    notify(recipients=[senior], key="x:1", title="Theirs")
    response = rep_client.post("/notifications/read-all/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert (unread_count(rep), unread_count(senior)) == (0, 1)


def test_the_posts_need_the_csrf_token(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    make(rep, 1)
    notification = Notification.objects.get()
    assert client.post(f"/notifications/{notification.pk}/read/").status_code == 403
    assert client.post("/notifications/read-all/").status_code == 403
    assert unread_count(rep) == 1


def test_reading_is_post_only(rep, rep_client):
    make(rep, 1)
    assert rep_client.get(f"/notifications/{Notification.objects.get().pk}/read/").status_code == 405
    assert rep_client.get("/notifications/read-all/").status_code == 405
    assert unread_count(rep) == 1
