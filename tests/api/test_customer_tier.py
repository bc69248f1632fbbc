"""The customer tier (standard / preferred / VIP) through the API: service-target rules match on it."""

from __future__ import annotations

from orders.models import Customer

from .conftest import assert_problem


def test_a_customer_is_created_and_read_with_its_tier(rw):
    created = rw.post("/api/v1/customers/", {"name": "Asha", "tier": "vip"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["tier"] == "vip"
    assert Customer.objects.get(pk=created.json()["id"]).tier == "vip"
    assert rw.get(f"/api/v1/customers/{created.json()['id']}/").json()["tier"] == "vip"


def test_the_tier_defaults_to_standard(rw):
    created = rw.post("/api/v1/customers/", {"name": "Ravi"}, format="json")
    assert created.json()["tier"] == "standard"


def test_an_unknown_tier_is_a_400_with_the_field_and_writes_nothing(rw):
    problem = assert_problem(rw.post("/api/v1/customers/", {"name": "Meena", "tier": "gold"}, format="json"), 400)
    assert "tier" in problem["errors"]
    assert not Customer.objects.filter(name="Meena").exists()
