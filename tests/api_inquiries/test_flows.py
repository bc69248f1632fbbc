"""Create, read, update, reply, customer messages, notes, status and linked orders."""

from __future__ import annotations

import pytest
from django.core import mail

from inquiries.models import Inquiry, InquiryEvent, Message, ResponseTemplate
from orders.models import Customer
from tests.factories import CustomerFactory

from .conftest import SYSTEM, URL, assert_problem, make_order, url


def test_create_with_customer_id_orders_tags_and_first_message(db, rw):
    customer = CustomerFactory()
    order = make_order(customer)
    body = {
        "customer": customer.pk,
        "subject": "Parcel late",
        "channel": "email",
        "category": "delivery",
        "priority": 3,
        "body": "Where is it?",
        "orders": [order.number],
        "tags": ["Late", "vip"],
    }
    response = rw.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    inquiry = Inquiry.objects.get()
    assert data["id"] == inquiry.pk
    assert data["reference"] == inquiry.reference
    assert response["Location"] == f"/api/v1/inquiries/{inquiry.pk}/"
    assert response["ETag"] == f'"{inquiry.pk}-{inquiry.version}"'
    assert data["orders"] == [order.number]
    assert data["tags"] == ["late", "vip"]
    assert data["message_count"] == 1
    assert data["status"] == "new"
    assert data["priority"] == 3
    assert data["specialty_needed"] == "shipping"  # from the category
    assert data["deadlines"]["response_due_at"] and data["deadlines"]["due_at"]
    assert data["customer"]["id"] == customer.pk
    assert inquiry.messages.get().body == "Where is it?"
    event = InquiryEvent.objects.filter(inquiry=inquiry, type="created").get()
    assert event.actor_kind == "api_client"


def test_create_by_email_matches_an_existing_customer(db, rw):
    customer = CustomerFactory(email="Ann@Example.com")
    body = {"customer_by_email": {"email": "ann@example.com"}, "subject": "Hello"}
    response = rw.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["customer"]["id"] == customer.pk
    assert Customer.objects.count() == 1


def test_create_by_email_creates_a_new_customer(db, rw):
    body = {
        "customer_by_email": {"email": "new@example.com", "name": "New Person", "preferred_language": "ta"},
        "subject": "Hello",
        "body": "Vanakkam",
    }
    response = rw.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    customer = Customer.objects.get()
    assert (customer.name, customer.email, customer.preferred_language) == ("New Person", "new@example.com", "ta")


def test_create_by_unknown_email_without_name_is_400(db, rw):
    body = {"customer_by_email": {"email": "new@example.com"}, "subject": "Hello"}
    errors = assert_problem(rw.post(URL, body, format="json"), 400)["errors"]
    assert "customer_by_email.name" in errors
    assert not Customer.objects.exists() and not Inquiry.objects.exists()


def test_create_by_email_shared_by_two_customers_is_400(db, rw):
    CustomerFactory(email="shared@example.com")
    CustomerFactory(email="shared@example.com")
    body = {"customer_by_email": {"email": "shared@example.com"}, "subject": "Hello"}
    errors = assert_problem(rw.post(URL, body, format="json"), 400)["errors"]
    assert "customer_by_email.email" in errors
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {},  # neither
        {"customer": 1, "customer_by_email": {"email": "a@example.com"}},  # both
    ],
)
def test_create_needs_exactly_one_customer(db, rw, extra):
    errors = assert_problem(rw.post(URL, {"subject": "x", **extra}, format="json"), 400)["errors"]
    assert "customer" in errors


def test_create_with_unknown_customer_is_400(db, rw):
    errors = assert_problem(rw.post(URL, {"customer": 999999, "subject": "x"}, format="json"), 400)["errors"]
    assert "customer" in errors


def test_create_with_another_customers_order_is_400_and_writes_nothing(db, rw):
    customer = CustomerFactory()
    foreign = make_order(CustomerFactory())
    body = {"customer": customer.pk, "subject": "x", "orders": [foreign.number]}
    errors = assert_problem(rw.post(URL, body, format="json"), 400)["errors"]
    assert "orders" in errors
    assert not Inquiry.objects.exists()


def test_create_with_unknown_order_number_is_400(db, rw):
    customer = CustomerFactory()
    body = {"customer": customer.pk, "subject": "x", "orders": ["NOPE-1"]}
    assert "orders" in assert_problem(rw.post(URL, body, format="json"), 400)["errors"]


def test_detail_by_id_and_by_reference(inquiry, rw):
    for ref in (str(inquiry.pk), inquiry.reference, inquiry.reference.lower(), f"INQ{inquiry.pk}"):
        response = rw.get(f"{URL}{ref}/")
        assert response.status_code == 200, (ref, response.content)
        assert response.json()["id"] == inquiry.pk
        assert response["ETag"] == f'"{inquiry.pk}-{inquiry.version}"'


@pytest.mark.parametrize("ref", ["999999", "INQ-999999", "999999999999", "INQ-abc", "abc"])
def test_detail_unknown_is_404(db, rw, ref):
    assert_problem(rw.get(f"{URL}{ref}/"), 404)


def test_patch_details(inquiry, rw):
    body = {"priority": 4, "category": "billing", "subject": "Double charge", "tags": ["billing"]}
    response = rw.patch(url(inquiry), body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["priority"], data["category"], data["subject"], data["tags"]) == (
        4,
        "billing",
        "Double charge",
        ["billing"],
    )
    assert data["version"] == inquiry.version + 1
    assert response["ETag"] == f'"{inquiry.pk}-{inquiry.version + 1}"'


def test_patch_never_changes_the_status(inquiry, rw):
    errors = assert_problem(rw.patch(url(inquiry), {"status": "closed"}, format="json"), 400)["errors"]
    assert "status" in errors
    inquiry.refresh_from_db()
    assert inquiry.status == "new"


def test_put_is_not_allowed(inquiry, rw):
    assert_problem(rw.put(url(inquiry), {"subject": "x"}, format="json"), 405)


def test_if_match_current_passes_and_stale_is_412(inquiry, rw):
    current = rw.get(url(inquiry))["ETag"]
    assert rw.patch(url(inquiry), {"priority": 3}, format="json", HTTP_IF_MATCH=current).status_code == 200
    response = rw.patch(url(inquiry), {"priority": 1}, format="json", HTTP_IF_MATCH=current)
    body = assert_problem(response, 412)
    assert body["type"] == "/problems/stale_version"
    inquiry.refresh_from_db()
    assert inquiry.priority == 3


def test_if_match_on_actions(inquiry, rw):
    stale = f'"{inquiry.pk}-{inquiry.version - 1}"' if inquiry.version > 1 else '"0-0"'
    response = rw.post(url(inquiry, "notes/"), {"body": "x"}, format="json", HTTP_IF_MATCH=stale)
    assert_problem(response, 412)
    assert not Message.objects.filter(kind="note").exists()


def test_reply_sends_mail_and_opens(inquiry, rw):
    inquiry.refresh_from_db()
    seen = inquiry.last_message_id
    response = rw.post(url(inquiry, "reply/"), {"body": "On its way.", "seen_message_id": seen}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind"] == "outbound"
    assert "On its way." in data["body"]
    inquiry.refresh_from_db()
    assert inquiry.status == "open"
    assert inquiry.first_response_at is not None


def test_reply_with_template_in_the_customers_language(inquiry, rw):
    ResponseTemplate.objects.create(name="shipped", language="en", body="Shipped, {first_name}.")
    response = rw.post(url(inquiry, "reply/"), {"template": "shipped", "frame": False}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["body"] == "Shipped, Ann."


def test_reply_with_unknown_template_is_400(inquiry, rw):
    response = rw.post(url(inquiry, "reply/"), {"template": "nope"}, format="json")
    assert "template" in assert_problem(response, 400)["errors"]
    response = rw.post(url(inquiry, "reply/"), {"template": "9" * 100}, format="json")
    assert "template" in assert_problem(response, 400)["errors"]


def test_reply_needs_body_or_template(inquiry, rw):
    assert "body" in assert_problem(rw.post(url(inquiry, "reply/"), {"body": "  "}, format="json"), 400)["errors"]


def test_stale_reply_is_409_with_new_message_ids_and_sends_nothing(inquiry, rw):
    inquiry.refresh_from_db()
    seen = inquiry.last_message_id
    newer = services_receive(inquiry, "Any news?")
    outbox = len(mail.outbox)
    body = {"body": "On its way.", "seen_message_id": seen}
    response = rw.post(url(inquiry, "reply/"), body, format="json", HTTP_IDEMPOTENCY_KEY="reply-1")
    problem = assert_problem(response, 409)
    assert problem["new_message_ids"] == [newer.pk]
    assert problem["type"] == "/problems/stale_reply"
    assert not Message.objects.filter(kind="outbound").exists()
    assert len(mail.outbox) == outbox
    # Held back is not remembered under the key: after reading, the same key may send.
    response = rw.post(
        url(inquiry, "reply/"), {**body, "seen_message_id": newer.pk}, format="json", HTTP_IDEMPOTENCY_KEY="reply-2"
    )
    assert response.status_code == 201, response.content


def services_receive(inquiry, text):
    from inquiries import services

    return services.message_receive(actor=SYSTEM, inquiry=inquiry, body=text, channel="web")


def test_customer_message_reopens_a_resolved_inquiry(inquiry, rw):
    from inquiries import services

    services.inquiry_set_status(actor=SYSTEM, inquiry=inquiry, status="resolved")
    response = rw.post(url(inquiry, "messages/"), {"body": "Still broken."}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "inbound"
    assert response.json()["channel"] == "web"  # the inquiry's channel by default
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.reopen_count, inquiry.message_count) == ("open", 1, 2)


def test_note_is_hidden_from_api_keys_but_shown_to_staff(inquiry, rw, staff):
    response = rw.post(url(inquiry, "notes/"), {"body": "Customer is a reseller."}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "note"
    kinds = [m["kind"] for m in rw.get(url(inquiry, "messages/")).json()["results"]]
    assert kinds == ["inbound"]
    kinds = [m["kind"] for m in staff.get(url(inquiry, "messages/")).json()["results"]]
    assert kinds == ["inbound", "note"]
    assert rw.get(url(inquiry)).json()["message_count"] == 1


def test_messages_oldest_first_and_paginated(inquiry, rw):
    for n in range(4):
        services_receive(inquiry, f"message {n}")
    seen, response = [], rw.get(url(inquiry, "messages/"), {"page_size": 2})
    while True:
        body = response.json()
        seen += [m["body"] for m in body["results"]]
        if not body["next"]:
            break
        response = rw.get(body["next"])
    assert seen == ["It has been a week.", "message 0", "message 1", "message 2", "message 3"]


def test_status_moves_and_refusal_is_409_with_allowed(inquiry, rw):
    response = rw.post(url(inquiry, "status/"), {"status": "resolved", "reason": "Delivered"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "resolved"
    assert response.json()["allowed_statuses"] == ["open", "closed"]
    body = assert_problem(rw.post(url(inquiry, "status/"), {"status": "waiting_customer"}, format="json"), 409)
    assert body["allowed"] == ["closed", "open"]
    assert body["current"] == "resolved"
    inquiry.refresh_from_db()
    assert inquiry.status == "resolved"


def test_status_unknown_value_is_400(inquiry, rw):
    assert "status" in assert_problem(rw.post(url(inquiry, "status/"), {"status": "x"}, format="json"), 400)["errors"]


def test_link_order(inquiry, rw):
    order = make_order(inquiry.customer)
    response = rw.post(url(inquiry, "link-order/"), {"order": order.number}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["orders"] == [order.number]
    again = assert_problem(rw.post(url(inquiry, "link-order/"), {"order": order.number}, format="json"), 400)
    assert "order" in again["errors"]


def test_link_order_of_another_customer_or_unknown_is_400(inquiry, rw):
    foreign = make_order(CustomerFactory())
    for number in (foreign.number, "NOPE"):
        response = rw.post(url(inquiry, "link-order/"), {"order": number}, format="json")
        assert list(assert_problem(response, 400)["errors"]) == ["order"]
    assert not inquiry.order_links.exists()


def test_actions_on_missing_inquiry_are_404(db, rw):
    for tail, body in (("reply/", {"body": "x"}), ("notes/", {"body": "x"}), ("status/", {"status": "open"})):
        assert_problem(rw.post(f"{URL}999999/{tail}", body, format="json"), 404)
    assert_problem(rw.get(f"{URL}999999/messages/"), 404)


def test_html_in_bodies_is_returned_as_data(inquiry, rw):
    html = '<script>alert("x")</script><b>bold</b> & <img src=x onerror=alert(1)>'
    response = rw.post(url(inquiry, "messages/"), {"body": html}, format="json")
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert response.json()["body"] == html
    listed = rw.get(url(inquiry, "messages/"))
    assert listed["Content-Type"] == "application/json"
    assert listed.json()["results"][-1]["body"] == html
    created = rw.post(URL, {"customer": inquiry.customer_id, "subject": html, "body": html}, format="json")
    assert created.json()["subject"] == html
