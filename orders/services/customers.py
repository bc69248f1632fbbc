"""Customer services: create, update, external references."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fulfillment import clock
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import InvalidInput
from fulfillment.permissions import require
from fulfillment.tiers import ContactChannel

from .. import events
from .. import permissions as perms
from ..enums import CustomerTier
from ..models import (
    Customer,
    CustomerExternalRef,
    phone_digits,
)
from ._common import (
    CUSTOMER_FIELDS,
    _check_version,
    _clean_text,
    _lock_customer,
)

# --- customers --------------------------------------------------------------------------


def _customer_values(data: Mapping) -> dict:
    values = {}
    limits = {f.name: f.max_length for f in Customer._meta.get_fields() if hasattr(f, "max_length")}
    for name in CUSTOMER_FIELDS:
        if name == "no_follow_up_calls":  # the one flag among the texts
            if name in data:
                values[name] = bool(data[name])
        elif name in data:
            values[name] = _clean_text(data[name], name, limits.get(name) or 5000, required=name == "name")
    if "preferred_language" in values and values["preferred_language"] not in dict(settings.LANGUAGES):
        raise InvalidInput(field_errors={"preferred_language": [_("Choose one of the offered languages.")]})
    if "preferred_channel" in values and values["preferred_channel"] not in ContactChannel.values:
        raise InvalidInput(field_errors={"preferred_channel": [_("Choose one of the offered channels.")]})
    if "tier" in values and values["tier"] not in CustomerTier.values:
        raise InvalidInput(field_errors={"tier": [_("Choose one of the offered customer tiers.")]})
    if "country" in values:
        values["country"] = values["country"].upper()
    return values


def _new_customer(data: Mapping) -> Customer:
    values = _customer_values(data)
    if not values.get("name"):
        raise InvalidInput(field_errors={"name": [_("This field is required.")]})
    customer = Customer(**values)
    customer.phone_digits = phone_digits(customer.phone)
    return customer


def customer_create(*, actor: Actor, external_refs: Iterable[tuple[str, str]] = (), **data) -> Customer:
    actor = as_actor(actor)
    require(actor, perms.CUSTOMER_CHANGE)
    customer = _new_customer(data)
    with transaction.atomic():
        customer.save()
        events.customer_created(customer, actor)
        for source, ref in external_refs:
            _add_customer_ref(customer, actor, source, ref)
    return customer


def customer_create_many(*, actor: Actor, customers: list[tuple[tuple[str, str], Mapping]]) -> list[Customer]:
    """Many new customers, each with one external reference (bulk sync), one statement per table.
    All or nothing: a refused one raises InvalidInput, a reference already taken IntegrityError."""
    actor = as_actor(actor)
    require(actor, perms.CUSTOMER_CHANGE)
    rows = [_new_customer(data) for _ref, data in customers]
    refs = [
        (_clean_text(source, "source", 40, required=True), _clean_text(ref, "external_ref", 100, required=True))
        for (source, ref), _data in customers
    ]
    with transaction.atomic():
        rows = Customer.objects.bulk_create(rows)
        CustomerExternalRef.objects.bulk_create(
            CustomerExternalRef(customer=customer, source=source, external_ref=ref)
            for customer, (source, ref) in zip(rows, refs, strict=True)
        )
        events.customers_created(rows, actor, refs=refs)
    return rows


def customer_update(*, actor: Actor, customer: Customer, expected_version: int | None = None, **data) -> Customer:
    actor = as_actor(actor)
    require(actor, perms.CUSTOMER_CHANGE)
    values = _customer_values(data)
    with transaction.atomic():
        customer = _lock_customer(customer)
        _check_version(customer, expected_version)
        changes = {k: [str(getattr(customer, k)), str(v)] for k, v in values.items() if getattr(customer, k) != v}
        if not changes:
            return customer
        for name, value in values.items():
            setattr(customer, name, value)
        customer.phone_digits = phone_digits(customer.phone)
        customer.updated_at = clock.now()
        customer.version += 1
        customer.save(update_fields=[*values, "phone_digits", "updated_at", "version"])
        events.customer_updated(customer, actor, changes)
    return customer


def _add_customer_ref(customer: Customer, actor: Actor, source: str, ref: str) -> CustomerExternalRef:
    source = _clean_text(source, "source", 40, required=True)
    ref = _clean_text(ref, "external_ref", 100, required=True)
    try:
        with transaction.atomic():
            row = CustomerExternalRef.objects.create(customer=customer, source=source, external_ref=ref)
    except IntegrityError:
        raise InvalidInput(
            field_errors={
                "external_ref": [_("Another customer already has this reference in %(source)s.") % {"source": source}]
            }
        ) from None
    events.customer_external_ref_added(customer, actor, source=source, ref=ref)
    return row


def customer_add_external_ref(*, actor: Actor, customer: Customer, source: str, external_ref: str):
    actor = as_actor(actor)
    require(actor, perms.CUSTOMER_CHANGE)
    with transaction.atomic():
        customer = _lock_customer(customer)
        row = _add_customer_ref(customer, actor, source, external_ref)
        customer.updated_at = clock.now()  # a change like any other: stale pages and syncs must see it
        customer.version += 1
        customer.save(update_fields=["updated_at", "version"])
    return row
