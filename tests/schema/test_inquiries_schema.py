"""The inquiry endpoints in the OpenAPI schema: every operation, its parameters and its errors."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

BASE = "/api/v1/inquiries/"
DETAIL = BASE + "{ref}/"
OPERATIONS = {
    ("get", BASE),
    ("post", BASE),
    ("get", DETAIL),
    ("patch", DETAIL),
    ("post", DETAIL + "reply/"),
    ("get", DETAIL + "messages/"),
    ("post", DETAIL + "messages/"),
    ("post", DETAIL + "notes/"),
    ("post", DETAIL + "status/"),
    ("post", DETAIL + "link-order/"),
}
READ_ERRORS = {"400", "401", "403", "404", "429"}
WRITE_ERRORS = READ_ERRORS | {"409", "412", "413", "422"}
LIST_FILTERS = {
    "status",
    "channel",
    "category",
    "priority",
    "tier",
    "customer",
    "assignee",
    "unassigned",
    "order",
    "tag",
    "created_after",
    "created_before",
    "updated_after",
    "reference",
    "q",
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operation(schema, method, path) -> dict:
    return schema["paths"][path][method]


def params(op) -> set[str]:
    return {p["name"] for p in op.get("parameters", [])}


def test_every_inquiry_operation_is_documented(schema):
    documented = {
        (m, p) for p, item in schema["paths"].items() if p.startswith(BASE) for m in item if m != "parameters"
    }
    assert documented == OPERATIONS


@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS))
def test_errors_are_documented(schema, method, path):
    codes = set(operation(schema, method, path)["responses"])
    assert codes >= (READ_ERRORS if method == "get" else WRITE_ERRORS), codes


@pytest.mark.parametrize(("method", "path"), sorted(op for op in OPERATIONS if op[1] != BASE))
def test_detail_operations_take_a_reference(schema, method, path):
    (ref,) = [p for p in operation(schema, method, path)["parameters"] if p["name"] == "ref"]
    assert ref["in"] == "path" and ref["schema"]["type"] == "string" and "INQ" in ref["description"]


@pytest.mark.parametrize(("method", "path"), sorted(op for op in OPERATIONS if op[0] == "post"))
def test_posts_take_idempotency_key(schema, method, path):
    assert "Idempotency-Key" in params(operation(schema, method, path))


@pytest.mark.parametrize(("method", "path"), sorted(op for op in OPERATIONS if op[0] != "get" and op[1] != BASE))
def test_detail_writes_take_if_match(schema, method, path):
    assert "If-Match" in params(operation(schema, method, path))


def test_list_has_every_filter_and_the_cursor(schema):
    assert params(operation(schema, "get", BASE)) >= LIST_FILTERS | {"cursor", "page_size"}


def test_messages_are_paginated_without_the_list_filters(schema):
    op = operation(schema, "get", DETAIL + "messages/")
    assert params(op) == {"ref", "cursor", "page_size"}
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"next", "previous", "results"} <= set(page["properties"])


def test_stale_reply_409_lists_new_message_ids(schema):
    response = operation(schema, "post", DETAIL + "reply/")["responses"]["409"]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    assert "new_message_ids" in schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]


def test_patch_cannot_change_the_status(schema):
    body = operation(schema, "patch", DETAIL)["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "status" not in schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]


def test_schema_validates_without_warnings(db):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)
