"""The calls-due page (/inquiries/calls-due/), its outcome forms, the header badge and the inquiry
page's follow-up panel: who sees what, bad input as form errors, and constant query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fulfillment import clock, scheduling
from fulfillment.api.auth import api_client_create
from fulfillment.models import Job, Notification
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import EventType, FollowUpState, InquiryStatus
from inquiries.models import CallLog, FollowUpCall, FollowUpDelay, InquiryEvent
from orders import services as order_services

from ..api.conftest import key_client
from ..factories import UserFactory
from .factories import InquiryFactory

T0 = dt.datetime(2031, 3, 4, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DUE = T0 + 24 * HOUR  # resolved at T0: delivery / normal calls come due a day later
PAGE = "/inquiries/calls-due/"


@pytest.fixture(autouse=True)
def _now():
    with clock.frozen(DUE + HOUR):
        yield


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _due_call(assignee, *, missed: bool = False) -> FollowUpCall:
    """A follow-up call of ``assignee``'s, due (or missed), its jobs run as a worker would."""
    with clock.frozen(T0 - HOUR):
        inquiry = InquiryFactory(assignee=assignee)
    with clock.frozen(T0):
        services.inquiry_set_status(actor=assignee, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    call = FollowUpCall.objects.get(inquiry=inquiry)
    for at in [DUE, DUE + 24 * HOUR] if missed else [DUE]:
        ids = list(Job.objects.filter(payload__call=call.pk).values_list("id", flat=True))
        with clock.frozen(at):
            for pk in scheduling.claim_due(now=at, ids=ids):
                scheduling.run_job(pk)
    call.refresh_from_db()
    assert call.state == (FollowUpState.MISSED if missed else FollowUpState.DUE)
    return call


# --- access -----------------------------------------------------------------------------------


def test_anonymous_users_go_to_the_login_page(db):
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_user_without_a_staff_role_is_refused(no_role_user):
    assert _client(no_role_user).get(PAGE).status_code == 403


def test_giving_a_call_needs_a_login_and_a_staff_role(rep, no_role_user):
    call = _due_call(rep)
    data = {f"give{call.pk}-assignee": rep.pk}
    response = Client().post(f"{PAGE}{call.pk}/give/", data)
    assert response.status_code == 302 and "/login" in response["Location"]
    assert _client(no_role_user).post(f"{PAGE}{call.pk}/give/", data).status_code == 403


# --- the page ----------------------------------------------------------------------------------


def test_my_calls_show_what_a_rep_needs_to_phone(rep):
    call = _due_call(rep)
    theirs = _due_call(UserFactory(username="rep2", tier=Tier.REP))
    with clock.frozen(DUE + HOUR):
        services.callback_promise(
            actor=rep, inquiry=InquiryFactory(assignee=rep), due_at=DUE + 90 * dt.timedelta(minutes=1)
        )
    response = _client(rep).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    customer = call.inquiry.customer
    assert call.inquiry.reference in page and customer.name in page
    assert f'href="tel:{customer.phone}"' in page
    assert "1 of 3" in page
    assert f'action="/inquiries/calls-due/{call.pk}/"' in page and "csrfmiddlewaretoken" in page
    assert theirs.inquiry.reference not in page  # someone else's call is on their own list
    assert "Callbacks you promised" in page


def test_the_team_view_is_for_seniors_and_shows_due_and_missed_calls(rep, senior):
    due = _due_call(rep)
    missed = _due_call(UserFactory(username="rep2", tier=Tier.REP), missed=True)
    with clock.frozen(DUE + 30 * HOUR):
        page = _client(senior).get(PAGE, {"view": "team"}).content.decode()
        assert due.inquiry.reference in page and missed.inquiry.reference in page
        assert page.count('class="follow-up-form"') == 2  # a senior may log both
        # a rep asking for the team view gets their own calls
        rep_page = _client(rep).get(PAGE, {"view": "team"}).content.decode()
        assert due.inquiry.reference in rep_page and missed.inquiry.reference not in rep_page
    with clock.frozen(DUE + 24 * HOUR + 8 * 24 * HOUR):  # missed more than a week ago: gone
        assert missed.inquiry.reference not in _client(senior).get(PAGE, {"view": "team"}).content.decode()


# --- logging from the page ---------------------------------------------------------------------


def _post(client, call, **data):
    prefix = f"fu{call.pk}-"
    return client.post(
        f"{PAGE}{call.pk}/", {f"{prefix}{k}" if k in ("outcome", "notes") else k: v for k, v in data.items()}
    )


def test_logging_satisfied_closes_the_inquiry_and_returns_to_the_list(rep):
    call = _due_call(rep)
    response = _post(_client(rep), call, outcome="satisfied", notes="Parcel arrived.")
    assert response.status_code == 302 and response["Location"] == f"{PAGE}?view=mine"
    call.refresh_from_db()
    call.inquiry.refresh_from_db()
    assert (call.state, call.inquiry.status) == (FollowUpState.DONE, InquiryStatus.CLOSED)


def test_logging_from_the_inquiry_page_returns_there(rep):
    call = _due_call(rep)
    response = _post(_client(rep), call, outcome="no_answer", next="inquiry")
    assert response["Location"] == f"/inquiries/{call.inquiry_id}/"


def test_a_bad_outcome_is_a_form_error_and_changes_nothing(rep):
    call = _due_call(rep)
    response = _post(_client(rep), call, outcome="<b>maybe</b>")
    assert response.status_code == 400
    page = response.content.decode()
    assert "errorlist" in page and "<b>maybe</b>" not in page
    call.refresh_from_db()
    assert (call.state, call.attempts, CallLog.objects.count()) == (FollowUpState.DUE, 0, 0)


def test_another_rep_is_refused_with_a_message(rep):
    call = _due_call(rep)
    response = _post(_client(UserFactory(username="rep2", tier=Tier.REP)), call, outcome="satisfied")
    assert response.status_code == 403
    assert "senior colleague or a supervisor" in response.content.decode()
    call.refresh_from_db()
    assert call.state == FollowUpState.DUE


def test_logging_a_call_already_logged_is_a_400_not_a_500(rep):
    call = _due_call(rep)
    client = _client(rep)
    assert _post(client, call, outcome="satisfied").status_code == 302
    response = _post(client, call, outcome="satisfied")
    assert response.status_code == 400
    assert "no longer open" in response.content.decode()


def test_an_unknown_call_is_404(rep):
    assert _client(rep).get(f"{PAGE}999999/").status_code == 404


def test_the_form_needs_its_csrf_token(rep):
    call = _due_call(rep)
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post(f"{PAGE}{call.pk}/", {f"fu{call.pk}-outcome": "satisfied"}).status_code == 403


# --- giving a call to another caller ----------------------------------------------------------------


def _give(client, call, assignee, **data):
    return client.post(f"{PAGE}{call.pk}/give/", {f"give{call.pk}-assignee": assignee, **data})


def test_a_senior_gives_a_due_call_from_the_team_view_and_the_new_caller_is_told(
    rep, senior, django_capture_on_commit_callbacks
):
    call = _due_call(rep)
    other = UserFactory(username="rep2", first_name="Ana", last_name="Reyes", tier=Tier.REP)
    client = _client(senior)
    page = client.get(PAGE, {"view": "team"}).content.decode()
    assert f'action="{PAGE}{call.pk}/give/"' in page and f'name="give{call.pk}-assignee"' in page
    assert f'<option value="{other.pk}">Ana Reyes · ' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = _give(client, call, other.pk, view="team")
    assert response.status_code == 302 and response["Location"] == f"{PAGE}?view=team"
    call.refresh_from_db()
    assert call.assignee == other
    assert Notification.objects.filter(recipient=other, key=f"follow-up:{call.pk}:0").exists()
    follow = client.get(response["Location"]).content.decode()
    assert f"{call.inquiry.reference}: the follow-up call is now Ana Reyes" in follow
    # the timeline names who gave it and the new caller
    event = InquiryEvent.objects.filter(inquiry=call.inquiry, type=EventType.FOLLOW_UP_SCHEDULED).latest("id")
    assert (event.actor_user_id, event.details["caller"]) == (senior.pk, "Ana Reyes")
    # the new caller now has it in "my calls"
    assert call.inquiry.reference in _client(other).get(PAGE).content.decode()


def test_a_missed_call_is_given_from_the_inquiry_panel_and_returns_there(rep, senior):
    call = _due_call(rep, missed=True)
    client = _client(senior)
    panel = client.get(f"/inquiries/{call.inquiry_id}/follow-up/").content.decode()
    assert f'action="{PAGE}{call.pk}/give/"' in panel
    response = _give(client, call, senior.pk, next="inquiry")
    assert response["Location"] == f"/inquiries/{call.inquiry_id}/"
    call.refresh_from_db()
    assert (call.assignee, call.state) == (senior, FollowUpState.MISSED)


def test_a_rep_is_not_offered_the_form_and_is_refused(rep):
    call = _due_call(rep)
    client = _client(rep)
    assert "follow-up-give" not in client.get(PAGE).content.decode()
    assert "follow-up-give" not in client.get(f"/inquiries/{call.inquiry_id}/follow-up/").content.decode()
    other = UserFactory(username="rep2", tier=Tier.REP)
    response = _give(client, call, other.pk)
    assert response.status_code == 403
    assert "needs Senior rep or above" in response.content.decode()
    call.refresh_from_db()
    assert call.assignee == rep


@pytest.mark.parametrize("value", ["", "999999", "<b>x</b>", "rep1"])
def test_a_bad_choice_is_a_form_error_and_changes_nothing(rep, senior, value):
    call = _due_call(rep)
    response = _give(_client(senior), call, value)
    assert response.status_code == 400
    page = response.content.decode()
    assert "errorlist" in page and "<b>x</b>" not in page
    call.refresh_from_db()
    assert call.assignee == rep


def test_an_inactive_person_is_not_offered_and_cannot_be_chosen(rep, senior):
    call = _due_call(rep)
    gone = UserFactory(username="gone", tier=Tier.REP, is_active=False)
    client = _client(senior)
    assert f'<option value="{gone.pk}"' not in client.get(PAGE, {"view": "team"}).content.decode()
    assert _give(client, call, gone.pk).status_code == 400
    call.refresh_from_db()
    assert call.assignee == rep


def test_a_logged_call_cannot_be_given_400_not_500(rep, senior):
    call = _due_call(rep)
    assert _post(_client(rep), call, outcome="satisfied").status_code == 302
    response = _give(_client(senior), call, senior.pk)
    assert response.status_code == 400
    assert "no longer open" in response.content.decode()
    call.refresh_from_db()
    assert call.assignee == rep


def test_giving_needs_the_csrf_token_and_a_post(rep, senior):
    call = _due_call(rep)
    client = Client(enforce_csrf_checks=True)
    client.force_login(senior)
    assert client.post(f"{PAGE}{call.pk}/give/", {f"give{call.pk}-assignee": senior.pk}).status_code == 403
    assert _client(senior).get(f"{PAGE}{call.pk}/give/").status_code == 405
    call.refresh_from_db()
    assert call.assignee == rep


# --- badge and panel ----------------------------------------------------------------------------


def test_the_badge_counts_my_due_calls_and_callbacks(rep, django_assert_num_queries):
    _due_call(rep)
    _due_call(rep)
    client = _client(rep)
    with django_assert_num_queries(3):  # session, user, the count
        response = client.get(f"{PAGE}count/")
    assert 'data-calls-due="2"' in response.content.decode()
    assert (
        'data-calls-due="0"'
        in _client(UserFactory(username="rep2", tier=Tier.REP)).get(f"{PAGE}count/").content.decode()
    )
    assert f'hx-get="{PAGE}count/"' in client.get("/inquiries/").content.decode()


def test_the_inquiry_page_loads_the_panel_which_offers_the_form_to_the_caller(rep):
    call = _due_call(rep)
    client = _client(rep)
    page = client.get(f"/inquiries/{call.inquiry_id}/").content.decode()
    assert f'hx-get="/inquiries/{call.inquiry_id}/follow-up/"' in page
    panel = client.get(f"/inquiries/{call.inquiry_id}/follow-up/").content.decode()
    assert "Follow-up call" in panel and 'name="next" value="inquiry"' in panel
    other = _client(UserFactory(username="rep2", tier=Tier.REP)).get(f"/inquiries/{call.inquiry_id}/follow-up/")
    assert "Due" in other.content.decode() and "follow-up-form" not in other.content.decode()


# --- query counts ------------------------------------------------------------------------------


def _count(client, path, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(("view", "expected"), [("mine", 4), ("team", 4)])
def test_the_page_is_a_constant_number_of_queries(rep, senior, view, expected):
    """mine (a rep): session, user, the calls with inquiry, customer and caller, the callbacks
    due; team (a senior): the same without the callbacks, with the staff a call may be given to."""
    user = rep if view == "mine" else senior
    for _ in range(2):
        _due_call(rep)
    client = _client(user)
    small = _count(client, PAGE, view=view)
    for _ in range(18):
        _due_call(rep)
    assert _count(client, PAGE, view=view) == small == expected


def test_the_panel_is_a_constant_number_of_queries(rep, senior):
    call = _due_call(rep)
    client = _client(rep)
    assert _count(client, f"/inquiries/{call.inquiry_id}/follow-up/") == 3
    for n in range(20):
        UserFactory(username=f"staff{n}", tier=Tier.REP)
    # a senior: and the staff a call may be given to, read once however many there are
    assert _count(_client(senior), f"/inquiries/{call.inquiry_id}/follow-up/") == 4


# --- admin -------------------------------------------------------------------------------------

ADMIN = "/admin/inquiries/"


def test_the_delays_are_edited_in_the_list(admin_user):
    client = _client(admin_user)
    assert client.get(f"{ADMIN}followupdelay/").status_code == 200
    rows = list(FollowUpDelay.objects.order_by("pk"))
    data = {"form-TOTAL_FORMS": len(rows), "form-INITIAL_FORMS": len(rows), "_save": "Save"}
    for i, row in enumerate(rows):
        data |= {f"form-{i}-id": row.pk, f"form-{i}-delay_minutes": 90 if i == 0 else row.delay_minutes}
        if row.enabled:
            data[f"form-{i}-enabled"] = "on"
    response = client.post(f"{ADMIN}followupdelay/", data)
    assert response.status_code == 302
    assert FollowUpDelay.objects.get(pk=rows[0].pk).delay_minutes == 90


def test_the_settings_row_is_one_never_added_nor_deleted(admin_user):
    client = _client(admin_user)
    assert client.get(f"{ADMIN}schedulepolicy/add/").status_code == 403
    assert client.get(f"{ADMIN}schedulepolicy/1/delete/").status_code == 403
    response = client.get(f"{ADMIN}schedulepolicy/1/change/")
    assert response.status_code == 200 and "follow_up_retry_minutes" in response.content.decode()


def test_follow_up_calls_are_listed_read_only_and_found_by_reference(admin_user, rep):
    first, second = _due_call(rep), _due_call(rep)
    client = _client(admin_user)
    page = client.get(f"{ADMIN}followupcall/", {"q": second.inquiry.reference}).content.decode()
    assert second.inquiry.reference in page and first.inquiry.reference not in page
    assert client.get(f"{ADMIN}followupcall/", {"state__exact": "due"}).status_code == 200
    assert client.get(f"{ADMIN}followupcall/add/").status_code == 403
    with CaptureQueriesContext(connection) as few:
        client.get(f"{ADMIN}followupcall/")
    for _ in range(5):
        _due_call(rep)
    with CaptureQueriesContext(connection) as more:
        client.get(f"{ADMIN}followupcall/")
    assert len(more) == len(few)


# --- the customer's opt-out, in the staff form and the API ---------------------------------------


def test_the_staff_customer_form_sets_the_opt_out(rep, customer):
    client = _client(rep)
    page = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    assert 'name="no_follow_up_calls"' in page
    data = {name: getattr(customer, name) for name in order_services.CUSTOMER_FIELDS if name != "no_follow_up_calls"}
    data |= {"no_follow_up_calls": "on", "version": customer.version}
    response = client.post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.no_follow_up_calls
    with clock.frozen(T0):
        inquiry = InquiryFactory(customer=customer, assignee=rep)
        services.inquiry_set_status(actor=rep, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    assert not FollowUpCall.objects.filter(inquiry=inquiry).exists()


def test_the_api_reads_and_writes_the_opt_out(db, customer):
    _api_client, key = api_client_create(name="shop", scopes=["read", "write"])
    rw = key_client(key)
    url = f"/api/v1/customers/{customer.pk}/"
    assert rw.get(url).json()["no_follow_up_calls"] is False
    response = rw.patch(url, {"no_follow_up_calls": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["no_follow_up_calls"] is True
    customer.refresh_from_db()
    assert customer.no_follow_up_calls
    assert rw.patch(url, {"no_follow_up_calls": "perhaps"}, format="json").status_code == 400


def test_the_timeline_says_what_happened_to_the_call(rep):
    call = _due_call(rep)
    client = _client(rep)
    assert _post(client, call, outcome="no_answer").status_code == 302
    page = client.get(f"/inquiries/{call.inquiry_id}/").content.decode()
    assert "Follow-up call scheduled" in page and f"caller {rep.get_full_name()}" in page
    assert "Follow-up call due" in page
    assert "No answer → Scheduled" in page
