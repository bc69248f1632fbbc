"""schemathesis over the whole OpenAPI schema, in-process: no input may cause a server error,
and every response must match the schema (status codes, content types, headers, bodies).

The checks are the issue's bar. Not included: schemathesis' accept/reject heuristics
(positive_data_acceptance, negative_data_rejection), which flag business rules the schema
cannot express (ship_by after deliver_by, an unknown customer id) as "valid data rejected".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis import checks

from fulfillment.api.auth import api_client_create
from fulfillment.wsgi import application

from ..factories import CustomerFactory, OrderFactory


def _load():
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = application
    return loaded


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
schema = _load()  # generated in-process from the code, the same document /api/schema/ serves


@contextlib.contextmanager
def connection_kept() -> Iterator[None]:
    """Calls through the WSGI handler would close the test database connection after each one."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(db):
    CustomerFactory()
    OrderFactory()
    _client, key = api_client_create(name="fuzz", scopes=["read", "write"])
    with connection_kept():
        yield key


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api(case, api_key):
    case.call_and_validate(headers={"Authorization": f"Api-Key {api_key}"}, checks=CHECKS)
