"""Bad input of every kind gets the one error shape, never a 500, and changes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from inquiries.models import Inquiry, Message

from .conftest import URL, assert_problem, url

BIG = "x" * 10_000
HUGE = "y" * 50_001


def state():
    return (Inquiry.objects.count(), Message.objects.count(), list(Inquiry.objects.values_list("version", flat=True)))


def create_body(inquiry, **extra):
    return {"customer": inquiry.customer_id, "subject": "Hello", **extra}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"customer": "abc"}, "customer"),
        ({"customer": 0}, "customer"),
        ({"customer": 2**64}, "customer"),
        ({"customer": [1]}, "customer"),
        ({"subject": ""}, "subject"),
        ({"subject": BIG}, "subject"),
        ({"subject": None}, "subject"),
        ({"subject": {"a": 1}}, "subject"),
        ({"subject": "a\x00b"}, "subject"),
        ({"channel": "pigeon"}, "channel"),
        ({"category": 5}, "category"),
        ({"priority": 9}, "priority"),
        ({"priority": "urgent"}, "priority"),
        ({"priority": True}, "priority"),
        ({"specialty_needed": "magic"}, "specialty_needed"),
        ({"body": HUGE}, "body"),
        ({"body": ["a"]}, "body"),
        ({"orders": "A-1"}, "orders"),
        ({"orders": [BIG]}, "orders"),
        ({"orders": ["1"] * 21}, "orders"),
        ({"tags": "vip"}, "tags"),
        ({"tags": ["<b>"]}, "tags"),
        ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
        ({"tags": [BIG]}, "tags"),
        ({"bogus": 1}, "bogus"),
        ({"status": "closed"}, "status"),
        ({"customer_by_email": {"email": "not-an-email"}, "customer": None}, "customer"),
    ],
)
def test_bad_create_bodies_are_400(inquiry, rw, extra, field):
    before = state()
    errors = assert_problem(rw.post(URL, create_body(inquiry, **extra), format="json"), 400).get("errors", {})
    assert any(key == field or key.startswith(field) for key in errors), errors
    assert state() == before


@pytest.mark.parametrize(
    "customer_by_email",
    [
        {"email": "not-an-email", "name": "X"},
        {"email": "a@example.com", "name": "X", "colour": "red"},
        {"email": "a@example.com", "name": BIG},
        {"email": "a@example.com", "name": "X", "preferred_language": "xx"},
        "a@example.com",
    ],
)
def test_bad_customer_by_email_is_400(db, rw, customer_by_email):
    body = {"customer_by_email": customer_by_email, "subject": "Hello"}
    errors = assert_problem(rw.post(URL, body, format="json"), 400)["errors"]
    assert any(key.startswith("customer_by_email") for key in errors), errors
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize(
    ("tail", "body", "field"),
    [
        ("", {"priority": "x"}, "priority"),
        ("", {"subject": ""}, "subject"),
        ("", {"subject": BIG}, "subject"),
        ("", {"tags": [{"a": 1}]}, "tags"),
        ("", {"tags": ["ok", "no<way>"]}, "tags"),
        ("", {"nope": 1}, "nope"),
        ("", {"status": "resolved"}, "status"),
        ("reply/", {}, "body"),
        ("reply/", {"body": HUGE}, "body"),
        ("reply/", {"body": "x", "seen_message_id": "new"}, "seen_message_id"),
        ("reply/", {"body": "x", "seen_message_id": -1}, "seen_message_id"),
        ("reply/", {"body": "x", "then_status": "gone"}, "then_status"),
        ("reply/", {"body": "x", "frame": "perhaps"}, "frame"),
        ("reply/", {"body": "x", "cc": "boss@example.com"}, "cc"),
        ("messages/", {}, "body"),
        ("messages/", {"body": ""}, "body"),
        ("messages/", {"body": "   \n "}, "body"),
        ("messages/", {"body": ["a"]}, "body"),
        ("messages/", {"body": "x", "channel": "fax"}, "channel"),
        ("messages/", {"body": "x", "sender_email": "nope"}, "sender_email"),
        ("notes/", {"body": None}, "body"),
        ("notes/", {"body": HUGE}, "body"),
        ("status/", {}, "status"),
        ("status/", {"status": "open", "reason": BIG}, "reason"),
        ("status/", {"status": "open", "override_open_steps": "sure"}, "override_open_steps"),
        ("link-order/", {}, "order"),
        ("link-order/", {"order": 5, "extra": True}, "extra"),
        ("link-order/", {"order": BIG}, "order"),
    ],
)
def test_bad_action_bodies_are_400(inquiry, rw, tail, body, field):
    before = state()
    method = rw.patch if tail == "" else rw.post
    errors = assert_problem(method(url(inquiry, tail), body, format="json"), 400).get("errors", {})
    assert any(key == field or key.startswith(field) for key in errors), errors
    assert state() == before


PATHS = ["", "reply/", "messages/", "notes/", "status/", "link-order/"]


@pytest.mark.parametrize("raw", ["{", "[]", "null", '"a string"', "42", "\xff", '{"body": }'])
@pytest.mark.parametrize("tail", ["create", *PATHS])
def test_malformed_or_non_object_json_is_400(inquiry, rw, raw, tail):
    before = state()
    path, method = (URL, "POST") if tail == "create" else (url(inquiry, tail), "PATCH" if tail == "" else "POST")
    response = rw.generic(method, path, raw.encode("utf-8", "surrogateescape"), "application/json")
    assert_problem(response, 400)
    assert state() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
@pytest.mark.parametrize("tail", ["create", "reply/", "messages/"])
def test_wrong_content_type_is_415(inquiry, rw, content_type, tail):
    path = URL if tail == "create" else url(inquiry, tail)
    assert_problem(rw.generic("POST", path, b"body=hello", content_type), 415)


def test_body_over_limit_is_413(inquiry, rw):
    before = state()
    with override_settings(FD_API_MAX_BODY_BYTES=100):
        response = rw.generic("POST", url(inquiry, "messages/"), json.dumps({"body": "z" * 200}), "application/json")
    assert_problem(response, 413)
    assert state() == before


def test_lone_surrogate_is_400_not_500(inquiry, rw):
    raw = b'{"body": "\\ud800 broken"}'
    assert_problem(rw.generic("POST", url(inquiry, "messages/"), raw, "application/json"), 400)


def test_huge_query_string_is_not_500(inquiry, rw):
    for params in ({"q": BIG}, {"reference": BIG}, {"tag": BIG}, {"cursor": BIG}):
        response = rw.get(URL, params)
        assert response.status_code in (200, 400, 404), response.content[:200]
        assert response.status_code == 200 or response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("method", ["delete", "put"])
def test_methods_not_offered_are_405(inquiry, rw, method):
    assert_problem(getattr(rw, method)(url(inquiry), {}, format="json"), 405)
    assert_problem(getattr(rw, method)(url(inquiry, "notes/"), {}, format="json"), 405)


def test_unknown_subpath_is_404_in_the_error_shape(inquiry, rw):
    assert_problem(rw.get(url(inquiry, "nothing-here/")), 404)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("customer", "-1.7976931348623157e+308"),  # schemathesis found this one: a 500 on SQLite
        ("customer", "1.5"),
        ("customer", str(2**63)),
        ("customer", "0"),
        ("assignee", "-2.6e290"),
        ("reference", "9" * 20),
    ],
)
def test_an_id_out_of_the_databases_range_is_400_naming_the_parameter(inquiry, rw, param, value):
    response = rw.get(URL, {param: value})
    assert_problem(response, 400)
    assert param in response.json()["errors"], response.json()
