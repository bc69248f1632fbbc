"""A page that is out of date cannot overwrite newer changes."""

from __future__ import annotations

from fulfillment.tiers import Tier
from orders import services
from orders.models import CustomerEvent

from ..factories import UserFactory


def _customer_post(customer, **changes):
    data = {
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "preferred_language": customer.preferred_language,
        "preferred_channel": customer.preferred_channel,
        "address_line1": customer.address_line1,
        "address_line2": "",
        "city": customer.city,
        "region": "",
        "postal_code": "",
        "country": customer.country,
        "notes": "",
        "version": customer.version,
    }
    data.update(changes)
    return data


def test_a_stale_customer_edit_is_refused_and_changes_nothing(rep_client, rep, customer):
    stale = _customer_post(customer, name="From the stale page")
    services.customer_update(actor=rep, customer=customer, phone="+1 555 999 0000")
    customer.refresh_from_db()
    events_before = CustomerEvent.objects.filter(customer=customer).count()

    response = rep_client.post(f"/customers/{customer.pk}/edit/", stale)

    assert response.status_code == 409
    assert "changed this in the meantime" in response.content.decode()
    customer.refresh_from_db()
    assert customer.name != "From the stale page"
    assert customer.phone == "+1 555 999 0000"
    assert CustomerEvent.objects.filter(customer=customer).count() == events_before


def test_a_current_customer_edit_is_saved(rep_client, customer):
    response = rep_client.post(f"/customers/{customer.pk}/edit/", _customer_post(customer, name="New Name"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "New Name"
    assert customer.version == 2


def test_the_handoff_owner_list_offers_only_staff(rep_client, order):
    UserFactory(username="no-role", first_name="Zed", last_name="Norole", tier=None)
    UserFactory(username="specialist9", first_name="Sam", last_name="Specialist", tier=Tier.SPECIALIST)
    page = rep_client.get(f"/orders/{order.number}/").content.decode()
    assert "Sam Specialist" in page
    assert "Zed Norole" not in page
