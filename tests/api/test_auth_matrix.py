"""Who may call what: every endpoint × every kind of caller."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.models import ApiClient
from fulfillment.tiers import Tier
from tests.factories import CustomerFactory, UserFactory

from .conftest import assert_problem, key_client, line, make_order

# name, method, url template, body (None: no body), is_write, success status
ENDPOINTS = [
    ("orders-list", "get", "/api/v1/orders/", None, False, 200),
    ("orders-detail", "get", "/api/v1/orders/{order}/", None, False, 200),
    ("orders-create", "post", "/api/v1/orders/", "order", True, 201),
    ("orders-patch", "patch", "/api/v1/orders/{order}/", {"ship_name": "New Name"}, True, 200),
    ("orders-by-ref", "put", "/api/v1/orders/by-ref/shop/NEW-1/", "order", True, 201),
    ("orders-bulk", "post", "/api/v1/orders/bulk/", "bulk", True, 200),
    ("orders-feed", "get", "/api/v1/orders/feed/", None, False, 200),
    ("orders-confirm", "post", "/api/v1/orders/{order}/confirm/", {}, True, 200),
    (
        "orders-ship",
        "post",
        "/api/v1/orders/{packed}/ship/",
        {"carrier": "DHL", "tracking_number": "T-1"},
        True,
        200,
    ),
    ("customers-list", "get", "/api/v1/customers/", None, False, 200),
    ("customers-detail", "get", "/api/v1/customers/{customer}/", None, False, 200),
    ("customers-create", "post", "/api/v1/customers/", {"name": "Ann Example"}, True, 201),
    ("customers-patch", "patch", "/api/v1/customers/{customer}/", {"name": "Renamed"}, True, 200),
]
IDS = [e[0] for e in ENDPOINTS]


@pytest.fixture
def world(db):
    customer = CustomerFactory()
    order = make_order(customer)
    packed = make_order(customer, status="packed")
    return {"customer": customer, "order": order, "packed": packed}


def call(client: APIClient, endpoint, world):
    _name, method, template, body, _write, _ok = endpoint
    url = template.format(order=world["order"].pk, packed=world["packed"].pk, customer=world["customer"].pk)
    if body == "order":
        body = {"customer": world["customer"].pk, "lines": [line()]}
    elif body == "bulk":
        body = {
            "orders": [{"customer": world["customer"].pk, "source": "shop", "external_ref": "B-1", "lines": [line()]}]
        }
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_no_key_is_401(endpoint, world):
    assert_problem(call(APIClient(), endpoint, world), 401)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("header", ["Api-Key garbage", "Api-Key fd_", "Api-Key fd_abc"], ids=["word", "bare", "short"])
def test_malformed_key_is_401(endpoint, header, world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    body = assert_problem(call(client, endpoint, world), 401)
    assert "Malformed" in body["detail"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_unknown_key_is_401(endpoint, world, make_key):
    _client, key = make_key("read", "write")
    prefix = key.split("_")[1]
    forged = key_client(f"fd_{prefix}_not-the-secret")
    assert_problem(call(forged, endpoint, world), 401)
    assert_problem(call(key_client("fd_000000000000_nobody"), endpoint, world), 401)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_revoked_key_is_401(endpoint, world, make_key):
    client, key = make_key("read", "write")
    ApiClient.objects.filter(pk=client.pk).update(revoked_at=timezone.now())
    body = assert_problem(call(key_client(key), endpoint, world), 401)
    assert "revoked" in body["detail"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_read_only_key(endpoint, world, ro):
    response = call(ro, endpoint, world)
    if endpoint[4]:
        assert_problem(response, 403)
    else:
        assert response.status_code == endpoint[5], response.content[:300]


WRITE_ONLY_PARAMS = [pytest.param(e, id=e[0]) for e in ENDPOINTS]


@pytest.mark.parametrize("endpoint", WRITE_ONLY_PARAMS)
def test_write_only_key(endpoint, world, wo):
    response = call(wo, endpoint, world)
    if endpoint[4]:
        assert response.status_code == endpoint[5], response.content[:300]
    else:
        assert_problem(response, 403)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_read_write_key(endpoint, world, rw):
    response = call(rw, endpoint, world)
    assert response.status_code == endpoint[5], response.content[:300]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_staff_session(endpoint, world, supervisor):
    client = APIClient()
    client.force_login(supervisor)
    response = call(client, endpoint, world)
    assert response.status_code == endpoint[5], response.content[:300]


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if not e[4]], ids=[e[0] for e in ENDPOINTS if not e[4]])
def test_rep_session_reads(endpoint, world, rep):
    client = APIClient()
    client.force_login(rep)
    assert call(client, endpoint, world).status_code == 200


def test_rep_session_creates_order(world, rep):
    client = APIClient()
    client.force_login(rep)
    response = client.post("/api/v1/orders/", {"customer": world["customer"].pk, "lines": [line()]}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_user_without_tier_is_403(endpoint, world, no_role_user):
    client = APIClient()
    client.force_login(no_role_user)
    assert_problem(call(client, endpoint, world), 403)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_inactive_user_is_refused(endpoint, world):
    user = UserFactory(username="left", tier=Tier.SUPERVISOR)
    client = APIClient()
    client.force_login(user)
    user.is_active = False
    user.save()
    assert call(client, endpoint, world).status_code in (401, 403)


def test_last_used_at_is_set_after_use(make_key):
    client, key = make_key("read")
    assert client.last_used_at is None
    assert key_client(key).get("/api/v1/orders/").status_code == 200
    client.refresh_from_db()
    assert client.last_used_at is not None


def test_last_used_at_written_at_most_once_a_minute(make_key, django_assert_num_queries):
    client, key = make_key("read")
    api = key_client(key)
    api.get("/api/v1/customers/")
    client.refresh_from_db()
    first = client.last_used_at
    api.get("/api/v1/customers/")
    client.refresh_from_db()
    assert client.last_used_at == first


def test_unauthenticated_has_www_authenticate(world):
    response = APIClient().get("/api/v1/orders/")
    assert response["WWW-Authenticate"].startswith("Api-Key")


def test_unknown_api_path_is_problem_404(rw):
    assert_problem(rw.get("/api/v1/nothing-here/"), 404)
    assert_problem(rw.get("/api/v1/orders/999999/"), 404)


def test_refused_customer_patch_changes_nothing(world, wo):
    customer = world["customer"]
    response = wo.patch(f"/api/v1/customers/{customer.pk}/", {"name": "Sneaky"}, format="json")
    customer.refresh_from_db()
    assert response.status_code == 200 or customer.name != "Sneaky"
