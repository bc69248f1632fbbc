"""Who may call what: no key, a revoked key, a read-only key, a write-only key, a read-write key,
a staff session, and a logged-in user without a staff role."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from inquiries.models import Inquiry, Message
from tests.factories import CustomerFactory

from .conftest import URL, assert_problem, make_order

READ = "read"
WRITE = "write"


def endpoints(inquiry) -> dict[str, tuple[str, str, dict | None, str]]:
    """name → (method, path, body, scope needed)."""
    order = make_order(inquiry.customer)
    base = f"{URL}{inquiry.pk}/"
    return {
        "list": ("get", URL, None, READ),
        "detail": ("get", base, None, READ),
        "messages": ("get", base + "messages/", None, READ),
        "create": ("post", URL, {"customer": inquiry.customer_id, "subject": "Hi", "body": "Hello"}, WRITE),
        "patch": ("patch", base, {"priority": 3}, WRITE),
        "reply": ("post", base + "reply/", {"body": "Thanks"}, WRITE),
        "message": ("post", base + "messages/", {"body": "More"}, WRITE),
        "note": ("post", base + "notes/", {"body": "Inside"}, WRITE),
        "status": ("post", base + "status/", {"status": "open"}, WRITE),
        "link": ("post", base + "link-order/", {"order": order.number}, WRITE),
    }


NAMES = ["list", "detail", "messages", "create", "patch", "reply", "message", "note", "status", "link"]


def call(client, method, path, body):
    return getattr(client, method)(path, body, format="json") if body is not None else client.get(path)


@pytest.fixture
def inquiry(db):
    from .conftest import make_inquiry

    return make_inquiry(CustomerFactory(email="c@example.com"))


def _state(inquiry):
    inquiry.refresh_from_db()
    return (Inquiry.objects.count(), Message.objects.count(), inquiry.version, inquiry.status)


@pytest.mark.parametrize("name", NAMES)
def test_no_key_is_401(inquiry, name):
    method, path, body, _scope = endpoints(inquiry)[name]
    before = _state(inquiry)
    response = call(APIClient(), method, path, body)
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Api-Key"
    assert _state(inquiry) == before


@pytest.mark.parametrize("name", NAMES)
def test_revoked_key_is_401(inquiry, revoked, name):
    method, path, body, _scope = endpoints(inquiry)[name]
    before = _state(inquiry)
    assert_problem(call(revoked, method, path, body), 401)
    assert _state(inquiry) == before


@pytest.mark.parametrize("name", NAMES)
def test_read_only_key(inquiry, ro, name):
    method, path, body, scope = endpoints(inquiry)[name]
    before = _state(inquiry)
    response = call(ro, method, path, body)
    if scope == READ:
        assert response.status_code == 200, response.content
    else:
        assert_problem(response, 403)
        assert _state(inquiry) == before


@pytest.mark.parametrize("name", NAMES)
def test_write_only_key(inquiry, wo, name):
    method, path, body, scope = endpoints(inquiry)[name]
    response = call(wo, method, path, body)
    if scope == READ:
        assert_problem(response, 403)
    else:
        assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("name", NAMES)
def test_read_write_key(inquiry, rw, name):
    method, path, body, _scope = endpoints(inquiry)[name]
    response = call(rw, method, path, body)
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("name", NAMES)
def test_staff_session(inquiry, staff, name):
    method, path, body, _scope = endpoints(inquiry)[name]
    response = call(staff, method, path, body)
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("name", NAMES)
def test_user_without_staff_role_is_403(inquiry, no_role_user, name):
    client = APIClient()
    client.force_login(no_role_user)
    method, path, body, _scope = endpoints(inquiry)[name]
    before = _state(inquiry)
    assert_problem(call(client, method, path, body), 403)
    assert _state(inquiry) == before


@pytest.mark.parametrize("name", ["patch", "reply", "note", "status", "link"])
def test_staff_below_the_inquirys_tier_may_not_work_it(inquiry, staff, name):
    Inquiry.objects.filter(pk=inquiry.pk).update(tier=3)
    method, path, body, _scope = endpoints(inquiry)[name]
    before = _state(inquiry)
    assert_problem(call(staff, method, path, body), 403)
    assert _state(inquiry) == before


def test_staff_session_write_needs_csrf(inquiry, rep):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(rep)
    assert_problem(client.post(f"{URL}{inquiry.pk}/notes/", {"body": "x"}, format="json"), 403)
    assert not Message.objects.filter(kind="note").exists()
