"""The desk's inquiry pages: access, queues, the inquiry page's actions, bad input, escaping,
the stale-reply guard, presence, the new-call screen and the public contact form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from fulfillment import clock
from fulfillment.tiers import Tier
from inquiries import services
from inquiries.enums import CallOutcome, Category, InquiryStatus, RemedyState
from inquiries.models import Callback, Inquiry, Message, Remedy

from ..factories import CustomerFactory, UserFactory
from .factories import InquiryFactory, ResponseTemplateFactory, paid_order


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rep_client(rep):
    return _client(rep)


def _pages(inquiry) -> list[str]:
    pk = inquiry.pk
    return [
        "/inquiries/",
        "/inquiries/?queue=unassigned",
        "/inquiries/?queue=callbacks",
        "/inquiries/?queue=team",
        "/inquiries/?queue=all",
        "/inquiries/search/?q=parcel",
        "/inquiries/call/",
        f"/inquiries/call/?customer={inquiry.customer_id}",
        f"/inquiries/new/{inquiry.customer_id}/",
        f"/inquiries/{pk}/",
        f"/inquiries/{pk}/presence/?seen=0",
    ]


def test_every_page_needs_a_login_and_a_staff_role(db, inquiry, no_role_user):
    anonymous = Client()
    for path in _pages(inquiry):
        response = anonymous.get(path)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), path
    no_role = _client(no_role_user)
    for path in _pages(inquiry):
        assert no_role.get(path).status_code == 403, path


def test_every_page_opens_for_a_rep(rep_client, inquiry):
    for path in _pages(inquiry):
        assert rep_client.get(path).status_code == 200, path


def test_posts_need_a_login_and_csrf(db, inquiry, rep):
    anonymous = Client()
    response = anonymous.post(f"/inquiries/{inquiry.pk}/actions/note/", {"body": "x"})
    assert response.status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rep)
    assert strict.post(f"/inquiries/{inquiry.pk}/actions/note/", {"body": "x"}).status_code == 403
    assert not Message.objects.filter(body="x").exists()


def test_unknown_inquiries_and_actions_are_404(rep_client, inquiry):
    assert rep_client.get("/inquiries/999999/").status_code == 404
    assert rep_client.post(f"/inquiries/{inquiry.pk}/actions/launch/", {}).status_code == 404
    assert rep_client.post("/inquiries/999999/actions/note/", {"body": "x"}).status_code == 404


# --- queues ---------------------------------------------------------------------------------


def test_my_queue_is_sorted_by_the_nearest_deadline(rep, rep_client):
    urgent = InquiryFactory(assignee=rep, priority=4)
    low = InquiryFactory(assignee=rep, priority=1)
    normal = InquiryFactory(assignee=rep, priority=2)
    InquiryFactory()  # not mine
    items = rep_client.get("/inquiries/").context["page"].items
    assert [i.pk for i in items] == [urgent.pk, normal.pk, low.pk]


def test_the_unassigned_queue_shows_only_my_tier_and_below(rep_client):
    mine = InquiryFactory()
    InquiryFactory(tier=Tier.SPECIALIST)
    InquiryFactory(status=InquiryStatus.RESOLVED)
    items = rep_client.get("/inquiries/?queue=unassigned").context["page"].items
    assert [i.pk for i in items] == [mine.pk]


def test_claiming_from_the_queue_and_losing_a_claim(rep, rep_client):
    inquiry = InquiryFactory()
    response = rep_client.post(f"/inquiries/{inquiry.pk}/claim/", {"next": "queue"})
    assert response.status_code == 302 and response.url == "/inquiries/?queue=unassigned"
    assert Inquiry.objects.get(pk=inquiry.pk).assignee == rep
    other = _client(UserFactory(username="rep9", tier=Tier.REP))
    response = other.post(f"/inquiries/{inquiry.pk}/claim/", follow=True)
    assert "has already claimed this inquiry" in response.content.decode()
    assert Inquiry.objects.get(pk=inquiry.pk).assignee == rep


def test_the_callbacks_queue_lists_promises_due_soon(rep, rep_client):
    inquiry = InquiryFactory(assignee=rep)
    services.callback_promise(actor=rep, inquiry=inquiry, due_at=clock.now() + dt.timedelta(minutes=30))
    later = InquiryFactory(assignee=rep)
    services.callback_promise(actor=rep, inquiry=later, due_at=clock.now() + dt.timedelta(days=2))
    items = rep_client.get("/inquiries/?queue=callbacks").context["page"].items
    assert [i.pk for i in items] == [inquiry.pk]


def test_a_queue_pages_with_a_cursor(rep, rep_client, settings):
    settings.FD_PAGE_SIZE = 2
    made = [InquiryFactory(assignee=rep, priority=p) for p in (4, 3, 2, 1, 1)]
    first = rep_client.get("/inquiries/").context["page"]
    second = rep_client.get(f"/inquiries/?queue=mine&cursor={first.next_cursor}").context["page"]
    third = rep_client.get(f"/inquiries/?queue=mine&cursor={second.next_cursor}").context["page"]
    seen = [i.pk for i in [*first.items, *second.items, *third.items]]
    assert sorted(seen) == sorted(i.pk for i in made) and len(seen) == 5
    back = rep_client.get(f"/inquiries/?queue=mine&cursor={second.prev_cursor}").context["page"]
    assert [i.pk for i in back.items] == [i.pk for i in first.items]


def test_a_bad_cursor_or_queue_name_gives_the_first_page(rep, rep_client):
    InquiryFactory(assignee=rep)
    assert rep_client.get("/inquiries/?queue=mine&cursor=%%%garbage").status_code == 200
    assert rep_client.get("/inquiries/?queue=nope").context["queue"] == "mine"


# --- the inquiry page ------------------------------------------------------------------------


def test_message_html_is_escaped_on_the_page(rep_client, customer):
    inquiry = InquiryFactory(customer=customer, body='<script>alert("x")</script><b>bold</b>')
    html = rep_client.get(f"/inquiries/{inquiry.pk}/").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html


def test_reply_from_the_page_with_a_template(rep, rep_client, customer, order):
    customer.name = "Lakshmi Iyer"
    customer.save()
    inquiry = InquiryFactory(customer=customer, orders=[order])
    template = ResponseTemplateFactory(body="Order {order_number} ships today.")
    response = rep_client.post(
        f"/inquiries/{inquiry.pk}/actions/reply/",
        {"template": template.pk, "body": "", "seen_message_id": inquiry.last_message_id},
    )
    assert response.status_code == 302
    reply = Message.objects.get(inquiry=inquiry, kind="outbound")
    assert reply.body.startswith("Dear Lakshmi,") and f"Order {order.number} ships today." in reply.body


def test_an_empty_reply_is_refused_with_a_message(rep_client, inquiry):
    response = rep_client.post(f"/inquiries/{inquiry.pk}/actions/reply/", {"body": "  "})
    assert response.status_code == 400
    assert "Write a reply or choose a template." in response.content.decode()
    assert not Message.objects.filter(inquiry=inquiry, kind="outbound").exists()


def test_a_stale_reply_is_held_back_and_the_draft_kept(rep, rep_client, inquiry):
    seen = inquiry.last_message_id
    services.message_receive(actor=rep, inquiry=inquiry, body="Actually it arrived today!", channel="email")
    response = rep_client.post(
        f"/inquiries/{inquiry.pk}/actions/reply/", {"body": "We are tracing it.", "seen_message_id": seen}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Your reply was not sent" in html and "Actually it arrived today!" in html
    assert "We are tracing it." in html  # the draft is still in the box
    assert (
        response.context["forms"]["reply"].data["seen_message_id"] == Inquiry.objects.get(pk=inquiry.pk).last_message_id
    )
    assert not Message.objects.filter(inquiry=inquiry, kind="outbound").exists()


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("note", {"body": ""}, "body"),
        ("call", {"direction": "outbound", "outcome": "nonsense"}, "outcome"),
        ("call", {"direction": "outbound", "outcome": "info_given", "duration": "12:99"}, "duration"),
        ("callback", {"due_at": "not a date"}, "due_at"),
        ("status", {"status": "shipped"}, "status"),
        ("details", {"subject": "", "priority": 2, "category": "billing"}, "subject"),
        ("details", {"subject": "x", "priority": 9, "category": "billing"}, "priority"),
        ("details", {"subject": "x", "priority": 2, "category": "billing", "tags": "<b>"}, "tags"),
        ("link", {"number": "FD9999999"}, "number"),
        ("remedy", {"kind": "refund", "reason": "late"}, None),
        ("plan", {"title": ""}, "title"),
        ("customer", {"email": "not-an-email"}, "email"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(rep_client, inquiry, action, data, field):
    before = Inquiry.objects.get(pk=inquiry.pk).version
    response = rep_client.post(f"/inquiries/{inquiry.pk}/actions/{action}/", data)
    assert response.status_code in (400, 409)
    form = response.context["forms"][action]
    assert form.errors
    if field:
        assert field in form.errors
    assert Inquiry.objects.get(pk=inquiry.pk).version == before


def test_a_stale_details_form_gets_409_and_writes_nothing(rep, rep_client, inquiry):
    version = inquiry.version
    services.inquiry_update(actor=rep, inquiry=inquiry, priority=3)
    response = rep_client.post(
        f"/inquiries/{inquiry.pk}/actions/details/",
        {"version": version, "subject": "Changed", "priority": 1, "category": "billing"},
    )
    assert response.status_code == 409
    assert Inquiry.objects.get(pk=inquiry.pk).subject != "Changed"


def test_resolving_with_open_steps_needs_the_override(rep, rep_client, inquiry):
    services.plan_step_add(actor=rep, inquiry=inquiry, title="Trace parcel")
    url = f"/inquiries/{inquiry.pk}/actions/status/"
    response = rep_client.post(url, {"status": "resolved"})
    assert response.status_code == 400 and "plan step" in response.content.decode()
    response = rep_client.post(url, {"status": "resolved", "override_open_steps": "on", "reason": "Customer happy"})
    assert response.status_code == 302
    assert Inquiry.objects.get(pk=inquiry.pk).status == InquiryStatus.RESOLVED


def test_remedy_decline_then_alternative_through_the_page(rep, rep_client, customer):
    order = paid_order(customer, "80.00")
    inquiry = InquiryFactory(customer=customer, orders=[order], category=Category.DELIVERY)
    rep_client.post(
        f"/inquiries/{inquiry.pk}/actions/remedy/",
        {"kind": "refund", "order": order.pk, "amount": "20.00", "reason": "Late"},
    )
    refund = Remedy.objects.get(inquiry=inquiry)
    response = rep_client.post(
        f"/inquiries/{inquiry.pk}/remedies/{refund.pk}/", {"state": "declined", "note": "I want the product"}
    )
    assert response.status_code == 302 and f"alternative={refund.pk}" in response.url
    page = rep_client.get(response.url).content.decode()
    assert f'name="alternative_to" value="{refund.pk}"' in page
    assert page.count('name="alternative_to"') == 1  # a second, empty one would win the POST
    rep_client.post(
        f"/inquiries/{inquiry.pk}/actions/remedy/",
        {"kind": "replacement", "order": order.pk, "reason": "Late", "alternative_to": refund.pk},
    )
    replacement = Remedy.objects.exclude(pk=refund.pk).get(inquiry=inquiry)
    assert replacement.alternative_to_id == refund.pk
    rep_client.post(f"/inquiries/{inquiry.pk}/remedies/{replacement.pk}/", {"state": "accepted"})
    replacement.refresh_from_db()
    assert replacement.state == RemedyState.ACCEPTED and replacement.replacement_order is not None


def test_plan_steps_tick_and_untick(rep, rep_client, inquiry):
    step = services.plan_step_add(actor=rep, inquiry=inquiry, title="Ask warehouse")
    rep_client.post(f"/inquiries/{inquiry.pk}/steps/{step.pk}/", {"done": "1"})
    assert Inquiry.objects.get(pk=inquiry.pk).plan_steps_done == 1
    rep_client.post(f"/inquiries/{inquiry.pk}/steps/{step.pk}/", {"done": "0"})
    assert Inquiry.objects.get(pk=inquiry.pk).plan_steps_done == 0


def test_a_callback_is_marked_done_from_the_page(rep, rep_client, inquiry):
    callback = services.callback_promise(actor=rep, inquiry=inquiry, due_at=clock.now() + dt.timedelta(hours=1))
    rep_client.post(f"/inquiries/{inquiry.pk}/callbacks/{callback.pk}/")
    assert Callback.objects.get(pk=callback.pk).state == "done"
    assert Inquiry.objects.get(pk=inquiry.pk).next_callback_at is None


def test_account_adjustment_lands_on_both_timelines(rep, rep_client, inquiry):
    customer = inquiry.customer
    response = rep_client.post(
        f"/inquiries/{inquiry.pk}/actions/customer/",
        {"version": customer.version, "email": customer.email, "phone": customer.phone, "city": "Madurai"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "Madurai"
    assert inquiry.events.filter(type="customer_updated").exists()
    assert customer.events.filter(type="updated").exists()


# --- presence ------------------------------------------------------------------------------


def test_presence_shows_who_else_is_here_and_what_arrived(rep, rep_client, inquiry):
    other = UserFactory(username="rep7", tier=Tier.REP, first_name="Ravi", last_name="K")
    _client(other).get(f"/inquiries/{inquiry.pk}/presence/?composing=1")
    seen = inquiry.last_message_id
    services.message_receive(actor=rep, inquiry=inquiry, body="More news", channel="email")
    html = rep_client.get(f"/inquiries/{inquiry.pk}/presence/?seen={seen}").content.decode()
    assert "Ravi K is writing a reply" in html
    assert "1 new message" in html


# --- the new-call screen ---------------------------------------------------------------------


def test_the_caller_is_found_by_phone_in_any_format(rep_client):
    customer = CustomerFactory(name="Kavya Nair", phone="+91 98400 12345")
    response = rep_client.get("/inquiries/call/", {"q": "98400-12345"})
    assert customer in response.context["candidates"]


def test_a_call_creates_the_inquiry_the_call_and_the_callback_in_one_step(rep, rep_client, customer, order):
    due = (clock.now() + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = rep_client.post(
        "/inquiries/call/",
        {
            "customer": customer.pk,
            "subject": "Parcel late",
            "category": "delivery",
            "priority": 2,
            "orders": [order.pk],
            "direction": "inbound",
            "duration": "4:30",
            "outcome": CallOutcome.CALLBACK,
            "notes": "Upset, needs it Friday",
            "callback_due_at": due,
        },
    )
    assert response.status_code == 302
    inquiry = Inquiry.objects.get(subject="Parcel late")
    assert inquiry.assignee == rep and inquiry.status == InquiryStatus.OPEN
    assert list(inquiry.orders.all()) == [order]
    call = inquiry.calls.get()
    assert call.duration_seconds == 270
    assert inquiry.callbacks.get().state == "pending"


def test_a_call_with_a_missing_callback_time_writes_nothing(rep_client, customer):
    response = rep_client.post(
        "/inquiries/call/",
        {
            "customer": customer.pk,
            "subject": "Parcel late",
            "category": "delivery",
            "priority": 2,
            "direction": "inbound",
            "outcome": CallOutcome.CALLBACK,
            "notes": "x",
        },
    )
    assert response.status_code == 400
    assert "callback_due_at" in response.context["form"].errors
    assert not Inquiry.objects.exists()


def test_a_letter_needs_its_date_received(rep_client, customer):
    url = f"/inquiries/new/{customer.pk}/"
    data = {"channel": "letter", "subject": "Letter", "category": "other", "priority": 2, "body": "Dear desk"}
    response = rep_client.post(url, data)
    assert response.status_code == 400 and "received_on" in response.context["form"].errors
    response = rep_client.post(url, {**data, "received_on": clock.today().isoformat()})
    assert response.status_code == 302
    message = Inquiry.objects.get(subject="Letter").messages.get()
    assert message.received_on == clock.today() and message.channel == "letter"


def test_a_letter_refuses_another_customers_order(rep_client, customer):
    other_order = paid_order(CustomerFactory())
    response = rep_client.post(
        f"/inquiries/new/{customer.pk}/",
        {
            "channel": "letter",
            "subject": "Letter",
            "category": "other",
            "priority": 2,
            "body": "x",
            "received_on": clock.today().isoformat(),
            "orders": other_order.number,
        },
    )
    assert response.status_code == 400 and "orders" in response.context["form"].errors


# --- the public contact form --------------------------------------------------------------------


@pytest.fixture
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def test_the_contact_form_creates_an_inquiry_and_emails_the_reference(
    db, fresh_rate_limit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/contact/",
            {"name": "Grace Bautista", "email": "grace@example.com", "subject": "Late", "body": "Where is it?"},
        )
    assert response.status_code == 200
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == "web" and inquiry.customer.email == "grace@example.com"
    assert inquiry.reference in response.content.decode()
    assert len(mail.outbox) == 1 and inquiry.reference in mail.outbox[0].subject
    assert mail.outbox[0].to == ["grace@example.com"]


def test_the_contact_form_honeypot_keeps_nothing(db, fresh_rate_limit):
    response = Client().post(
        "/contact/",
        {"name": "Bot", "email": "bot@example.com", "subject": "Buy", "body": "spam", "website": "http://spam"},
    )
    assert response.status_code == 200 and not Inquiry.objects.exists()


def test_the_contact_form_is_rate_limited(db, fresh_rate_limit, settings):
    settings.FD_WEB_FORM_RATE = 2
    data = {"name": "Ann", "email": "ann@example.com", "subject": "Hi", "body": "Hello"}
    client = Client()
    assert [client.post("/contact/", data).status_code for _ in range(3)] == [200, 200, 429]
    assert Inquiry.objects.count() == 2


def test_the_contact_form_refuses_bad_input(db, fresh_rate_limit):
    response = Client().post("/contact/", {"name": "", "email": "nope", "subject": "", "body": ""})
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"name", "email", "subject", "body"}


def test_order_actions_from_the_inquiry_page_come_back_to_it(rep_client, inquiry, order):
    page = rep_client.get(f"/inquiries/{inquiry.pk}/").content.decode()
    assert f"/orders/{order.number}/actions/confirm/" in page
    response = rep_client.post(
        f"/orders/{order.number}/actions/confirm/", {"version": order.version, "next": f"/inquiries/{inquiry.pk}/"}
    )
    assert response.status_code == 302 and response.url == f"/inquiries/{inquiry.pk}/"
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_an_order_action_never_redirects_off_site(rep_client, order):
    response = rep_client.post(
        f"/orders/{order.number}/actions/confirm/", {"version": order.version, "next": "https://evil.example/"}
    )
    assert response.url == f"/orders/{order.number}/"


def test_a_declined_remedy_offers_an_alternative_only_until_one_is_made(rep, rep_client, customer):
    order = paid_order(customer, "80.00")
    inquiry = InquiryFactory(customer=customer, orders=[order], category=Category.DELIVERY)
    refund = services.remedy_propose(actor=rep, inquiry=inquiry, kind="refund", amount="5.00", order=order, reason="x")
    services.remedy_decide(actor=rep, remedy=refund, state=RemedyState.DECLINED)
    assert f"?alternative={refund.pk}" in rep_client.get(f"/inquiries/{inquiry.pk}/").content.decode()
    services.remedy_propose(
        actor=rep, inquiry=inquiry, kind="replacement", order=order, reason="x", alternative_to=refund
    )
    assert f"?alternative={refund.pk}" not in rep_client.get(f"/inquiries/{inquiry.pk}/").content.decode()
