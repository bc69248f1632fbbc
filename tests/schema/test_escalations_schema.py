"""The escalation endpoints in the OpenAPI schema: read-only, every filter and error documented,
no coaching words in the shape — and real responses (open, closed, automatic, coached rows)
conform to it, fuzzed in-process as the whole-schema run does, but with rows to return."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from escalation.enums import Trigger
from escalation.models import EscalationRule
from fulfillment.api.auth import api_client_create
from fulfillment.tiers import Tier
from tests.escalation.test_api import ladder_history
from tests.factories import UserFactory

from .test_inquiries_schema import READ_ERRORS, operation, params
from .test_schemathesis import CHECKS, connection_kept, schema

BASE = "/api/v1/escalations/"
DETAIL = BASE + "{id}/"
LIST_FILTERS = {
    "inquiry",
    "from_tier",
    "to_tier",
    "kind",
    "outcome",
    "open",
    "rule",
    "reason",
    "created_after",
    "created_before",
    "updated_after",
}
escalations = schema.include(path_regex="^/api/v1/escalations/")


@pytest.fixture(scope="module")
def document() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_only_reads_are_documented(document):
    documented = {
        (m, p) for p, item in document["paths"].items() if p.startswith(BASE) for m in item if m != "parameters"
    }
    assert documented == {("get", BASE), ("get", DETAIL)}


@pytest.mark.parametrize("path", [BASE, DETAIL])
def test_errors_are_documented(document, path):
    assert set(operation(document, "get", path)["responses"]) >= READ_ERRORS


def test_list_has_every_filter_and_the_cursor(document):
    assert params(operation(document, "get", BASE)) == LIST_FILTERS | {"cursor", "page_size"}


def test_the_shape_has_no_coaching_words(document):
    shape = document["components"]["schemas"]["EscalationOut"]["properties"]
    assert "coached" in shape
    assert not {"coaching_note", "coach", "coached_user"} & set(shape)


@pytest.fixture
def ladder_key(db):
    """A read key, and escalations of every kind: closed with coaching, open after a skip,
    automatic, escalated further."""
    rule = EscalationRule.objects.create(name="Contact", trigger=Trigger.REPEAT_CONTACTS, contacts=1)
    ladder_history(
        rule=rule,
        rep=UserFactory(tier=Tier.REP),
        senior=UserFactory(tier=Tier.SENIOR_REP),
        supervisor=UserFactory(tier=Tier.SUPERVISOR),
    )
    _client, key = api_client_create(name="fuzz-escalations", scopes=["read"])
    with connection_kept():
        yield key


@pytest.mark.django_db
def test_real_rows_conform(ladder_key):
    headers = {"Authorization": f"Api-Key {ladder_key}"}
    body = escalations[BASE]["GET"].Case(query={}).call_and_validate(headers=headers, checks=CHECKS).json()
    assert len(body["results"]) == 5
    for row in body["results"]:
        case = escalations[DETAIL]["GET"].Case(path_parameters={"id": row["id"]})
        assert case.call_and_validate(headers=headers, checks=CHECKS).json() == row


@pytest.mark.django_db
@escalations.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_escalations_api(case, ladder_key):
    case.call_and_validate(headers={"Authorization": f"Api-Key {ladder_key}"}, checks=CHECKS)
