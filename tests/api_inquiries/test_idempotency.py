"""Idempotency-Key on every POST: a retry gets the first answer and changes nothing."""

from __future__ import annotations

import pytest

from inquiries.models import Inquiry, Message
from orders.models import Customer
from tests.factories import CustomerFactory

from .conftest import URL, assert_problem, url


def test_same_key_creates_one_inquiry(db, rw):
    body = {"customer_by_email": {"email": "new@example.com", "name": "New"}, "subject": "Hi", "body": "Hello"}
    first = rw.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert first.status_code == 201, first.content
    again = rw.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again["Location"] == first["Location"] and again["ETag"] == first["ETag"]
    assert Inquiry.objects.count() == 1
    assert Customer.objects.count() == 1
    assert Message.objects.count() == 1


def test_without_key_two_posts_make_two(db, rw):
    customer = CustomerFactory()
    body = {"customer": customer.pk, "subject": "Hi"}
    assert rw.post(URL, body, format="json").status_code == 201
    assert rw.post(URL, body, format="json").status_code == 201
    assert Inquiry.objects.count() == 2


def test_same_key_different_body_is_422(db, rw):
    customer = CustomerFactory()
    assert (
        rw.post(URL, {"customer": customer.pk, "subject": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code
        == 201
    )
    response = rw.post(URL, {"customer": customer.pk, "subject": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert assert_problem(response, 422)["type"] == "/problems/idempotency_key_reused"
    assert Inquiry.objects.count() == 1


def test_keys_are_per_client(db, rw, make_key):
    from .conftest import key_client

    customer = CustomerFactory()
    body = {"customer": customer.pk, "subject": "A"}
    _client, other_key = make_key("read", "write")
    assert rw.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert key_client(other_key).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert Inquiry.objects.count() == 2


@pytest.mark.parametrize(
    ("tail", "body", "kind"),
    [
        ("reply/", {"body": "Thanks"}, "outbound"),
        ("messages/", {"body": "More"}, "inbound"),
        ("notes/", {"body": "Inside"}, "note"),
    ],
)
def test_actions_replay(inquiry, rw, tail, body, kind):
    before = Message.objects.filter(kind=kind).count()
    first = rw.post(url(inquiry, tail), body, format="json", HTTP_IDEMPOTENCY_KEY=f"{tail}-1")
    assert first.status_code == 201, first.content
    again = rw.post(url(inquiry, tail), body, format="json", HTTP_IDEMPOTENCY_KEY=f"{tail}-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.filter(kind=kind).count() == before + 1


def test_status_replay_is_not_a_409(inquiry, rw):
    body = {"status": "resolved"}
    assert rw.post(url(inquiry, "status/"), body, format="json", HTTP_IDEMPOTENCY_KEY="s").status_code == 200
    again = rw.post(url(inquiry, "status/"), body, format="json", HTTP_IDEMPOTENCY_KEY="s")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    # Without the key the same request is a new one, and resolved → resolved is refused.
    assert_problem(rw.post(url(inquiry, "status/"), body, format="json"), 409)


def test_refused_request_is_not_remembered(inquiry, rw):
    body = {"status": "closed", "reason": "x"}
    response = rw.post(url(inquiry, "status/"), {"status": "new"}, format="json", HTTP_IDEMPOTENCY_KEY="r")
    assert_problem(response, 409)
    response = rw.post(url(inquiry, "status/"), body, format="json", HTTP_IDEMPOTENCY_KEY="r2")
    assert response.status_code == 200


@pytest.mark.parametrize("key", ["", " ", "k" * 256])
def test_bad_key_is_400(inquiry, rw, key):
    response = rw.post(url(inquiry, "notes/"), {"body": "x"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert_problem(response, 400)
    assert not Message.objects.filter(kind="note").exists()
