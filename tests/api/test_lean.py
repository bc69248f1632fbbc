"""The bulk path's lean validator (orders/api/lean.py) against the OrderIn serializer it copies.

For every item: when the lean validator accepts it, OrderIn accepts it too and returns the same
data (same keys in the same order, same types, same decimal exponents); when OrderIn refuses it,
the lean validator is unsure (so the bulk view asks OrderIn, and the errors are OrderIn's). And the
bulk view's parse of a batch equals OrderIn item by item, data and flattened errors alike.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from fulfillment.api.errors import flatten_errors
from orders.api import serializers as s
from orders.api.lean import Unsure, lean_validator
from orders.api.views import _bulk_parsed


def canon(value):
    """A value with its type made visible: Decimal("1.5") and Decimal("1.50") differ here."""
    if isinstance(value, dict):
        return ("dict", [(key, canon(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [canon(item) for item in value])
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if isinstance(value, dt.datetime):
        return ("datetime", value.isoformat(), str(value.tzinfo))
    return (type(value).__name__, value)


def drf(item):
    try:
        return "ok", canon(s.OrderIn().run_validation(item))
    except ValidationError as exc:
        return "error", flatten_errors(exc.detail)


def lean(item):
    try:
        return "ok", canon(lean_validator(s.OrderIn)(item))
    except Unsure:
        return "unsure", None


def bulk(item):
    data, errors = _bulk_parsed([item])[0]
    return ("ok", canon(data)) if errors is None else ("error", errors)


def agree(item) -> str:
    """Asserts the three agree; returns the lean outcome ("ok" or "unsure")."""
    expected = drf(item)
    got = lean(item)
    if got[0] == "ok":
        assert got == expected, item
    else:
        assert expected[0] in ("ok", "error")
    assert bulk(item) == expected, item
    return got[0]


def line(**extra):
    return {"sku": "SKU-1", "quantity": 2, "unit_price": "9.99", **extra}


def item(**extra):
    return {"customer": 7, "source": "shop", "external_ref": "R-1", "lines": [line()], **extra}


def by_ref(**extra):
    ref = {"source": "shop", "external_ref": "C-1", "name": "Ann", **extra}
    return {"customer_ref": ref, "source": "shop", "external_ref": "R-1", "lines": [line()]}


# Items the lean path must take itself (no fallback), each equal to the serializer's result.
PLAIN = [
    item(),
    by_ref(),
    by_ref(email="ann@example.com", phone="+1 555 0100", country="US", preferred_language="en"),
    by_ref(email="", phone="", address_line1="  12 Main St  ", notes="ünïcödé ✓ 注文"),
    by_ref(preferred_channel="phone"),
    item(lines=[line(description="  Blue  "), line(sku="  B-2 ", quantity=1_000_000, unit_price="0")]),
    item(lines=[line(unit_price="0.5"), line(unit_price="10"), line(unit_price=" 7.25 "), line(unit_price="0.00")]),
    item(lines=[line(unit_price=9.99), line(unit_price=3), line(unit_price="9999999999.99")]),
    item(lines=[line(description="")]),
    item(lines=[]),
    item(currency="usd", ship_by="2030-01-02", deliver_by="2030-01-02"),
    item(ship_by=None, deliver_by=None),
    item(ship_by="2030-01-02", deliver_by="2030-02-01"),
    item(placed_at="2026-03-04T05:06:07Z"),
    item(placed_at="2026-03-04T05:06:07.120000+05:30"),
    item(placed_at="2026-03-04T05:06:07"),
    item(ship_name="Ann Smith", ship_line1="1 Road", ship_line2="", ship_city="Pune", ship_country="in"),
    item(source="", external_ref=""),
    item(source="   "),
    {"lines": [line()]},
    {},
    item(external_ref="x" * 100, lines=[line(sku="s" * 64, description="d" * 300)]),
    item(customer=10**17),
    item(currency=" EUR "),
    item(ship_by="20300102"),  # date.fromisoformat reads it, so DRF does
    by_ref(email="  "),
]

# Items the serializer refuses or converts in ways the lean path leaves to it.
OTHER = [
    item(customer="7"),
    item(customer=0),
    item(customer=True),
    item(customer=10**30),
    item(customer=None),
    item(customer=7.0),
    item(source=None),
    item(source=5),
    item(source=["shop"]),
    item(external_ref="x" * 101),
    item(external_ref="a\x00b"),
    item(external_ref="a\ud800b"),
    item(currency="US1"),
    item(currency="EURO"),
    item(ship_by="2030-02-30"),
    item(ship_by=""),
    item(ship_by="2030-05-02", deliver_by="2030-05-01"),
    item(placed_at="yesterday"),
    item(placed_at=None),
    item(lines="not a list"),
    item(lines=None),
    item(lines=[None]),
    item(lines=["x"]),
    item(lines=[line()] * 501),
    *(item(lines=[line(quantity=value)]) for value in ["3", 3.0, 0, 1_000_001, True, None]),
    *(
        item(lines=[line(unit_price=value)])
        for value in [
            "-1.00",
            "-0",
            "1.999",
            "1.990",
            "00000000001.5",
            "10000000000",
            "1e3",
            "NaN",
            "Infinity",
            1e-7,
            True,
            "",
            "٣",
            ".5",
            "5.",
        ]
    ),
    *(item(lines=[line(sku=value)]) for value in ["", "   ", None, "s" * 65]),
    item(lines=[line(description=None)]),
    item(lines=[line(colour="red")]),
    item(lines=[{"quantity": 1, "unit_price": "1.00"}]),
    item(bogus=1),
    by_ref(email="not an email"),
    by_ref(preferred_language="xx"),
    by_ref(preferred_language=""),
    by_ref(preferred_channel=None),
    by_ref(name=""),
    by_ref(name="a" * 201),
    by_ref(country="USA"),
    by_ref(colour="red"),
    {**item(), "customer_ref": None},
    {**item(), "customer_ref": "C-1"},
    {**item(), "customer_ref": {"source": "shop"}},
]


@pytest.mark.parametrize("data", PLAIN)
def test_plain_items_take_the_lean_path_and_match_the_serializer(data):
    assert agree(data) == "ok"


@pytest.mark.parametrize("data", OTHER)
def test_other_items_get_exactly_the_serializers_answer(data):
    agree(data)


def test_the_lean_path_leaves_every_other_item_to_the_serializer():
    assert [data for data in OTHER if lean(data)[0] != "unsure"] == []
    assert sum(drf(data)[0] == "error" for data in OTHER) > len(OTHER) * 3 // 4  # mostly bad input


def test_placed_at_is_read_in_the_current_time_zone_like_the_serializer():
    with timezone.override(zoneinfo.ZoneInfo("Asia/Kolkata")):
        assert agree(item(placed_at="2026-03-04T05:06:07")) == "ok"


def test_a_batch_mixes_both_paths_in_order():
    batch = [PLAIN[0], OTHER[0], PLAIN[1], OTHER[-1], item(customer="7")]
    assert [bulk(data) for data in batch] == [drf(data) for data in batch]
    parsed = _bulk_parsed(batch)
    assert [errors is None for _data, errors in parsed] == [drf(data)[0] == "ok" for data in batch]


# --- generated items ---------------------------------------------------------------------------

ODD = st.sampled_from(
    [None, True, False, 0, 1, -1, 2.5, 1e-7, 10**30, "", " ", "\x00", "a\ud800", [], {}, ["x"], {"a": 1}]
)
NAME = st.text(alphabet=st.sampled_from("aZ09-é注 "), min_size=1, max_size=12)
TEXT = st.text(alphabet=st.sampled_from("aZ09 -.@_éü注\t\n"), max_size=8) | st.sampled_from(["x" * 70, "y" * 400])


def maybe(values):
    """A field's value: usually plausible, sometimes odd."""
    return st.one_of(values, values, values, ODD, TEXT)


PRICES = st.one_of(
    st.decimals(min_value=0, max_value=10**10, allow_nan=False, allow_infinity=False, places=2).map(str),
    st.decimals(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False, places=1).map(str),
    st.integers(0, 10**6),
)
DECIMALS = st.one_of(
    PRICES,
    st.decimals(min_value=-5, max_value=10**11, allow_nan=False, allow_infinity=False, places=3).map(str),
    st.sampled_from(["0", "9.99", "9.9", "10", " 1.50 ", "0000000000.99", "1e3", "NaN", "-0.00", "9999999999.99"]),
    st.integers(-5, 10**11),
    st.floats(allow_nan=True, allow_infinity=True),
)
DATES = st.one_of(
    st.dates().map(dt.date.isoformat),
    st.sampled_from(["2030-02-30", "20300102", "2030-1-2", "2030-W01-2", "2030-01-02T00:00"]),
)
TIMES = st.one_of(
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(dt.datetime.isoformat),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.isoformat() + "Z"
    ),
    st.sampled_from(["2026-03-04 05:06", "2026-03-04T05:06:07+14:00", "2026-03-04T25:00", "now"]),
)


def fields(**strategies):
    """A dict with any subset of the given fields (and now and then an unknown one)."""
    return st.fixed_dictionaries(
        {}, optional={**strategies, "bogus": st.just(1)} if strategies else {"bogus": st.just(1)}
    )


LINES = fields(
    sku=maybe(TEXT),
    description=maybe(TEXT),
    quantity=maybe(st.integers(-2, 1_000_002)),
    unit_price=maybe(DECIMALS),
)
CUSTOMER_REF = fields(
    source=maybe(TEXT),
    external_ref=maybe(TEXT),
    name=maybe(TEXT),
    email=maybe(st.sampled_from(["a@example.com", "a@b", "", "x y@z.com", "ann@exämple.com"])),
    phone=maybe(TEXT),
    preferred_language=maybe(st.sampled_from(["en", "hi", "xx", "EN", ""])),
    preferred_channel=maybe(st.sampled_from(["phone", "email", "sms", "PHONE"])),
    country=maybe(st.sampled_from(["US", "in", "USA", ""])),
    notes=maybe(TEXT),
)
ITEMS = fields(
    customer=maybe(st.integers(-1, 10**19)),
    customer_ref=maybe(CUSTOMER_REF),
    source=maybe(TEXT),
    external_ref=maybe(TEXT),
    currency=maybe(st.sampled_from(["USD", "usd", "EUR ", "US1", "EURO"])),
    placed_at=maybe(TIMES),
    ship_by=maybe(DATES),
    deliver_by=maybe(DATES),
    ship_name=maybe(TEXT),
    ship_country=maybe(TEXT),
    lines=maybe(st.lists(maybe(LINES), max_size=4)),
)


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ITEMS)
def test_generated_items_agree_with_the_serializer(data):
    event(f"lean {agree(data)}, serializer {drf(data)[0]}")  # pytest --hypothesis-show-statistics


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {
            "source": st.just("shop"),
            "external_ref": NAME | TEXT,
            "customer_ref": st.fixed_dictionaries(
                {"source": st.just("shop"), "external_ref": st.just("C"), "name": st.text(min_size=1, max_size=9)},
                optional={"email": st.sampled_from(["a@example.com", ""]), "country": st.sampled_from(["US", ""])},
            ),
            "lines": st.lists(
                st.fixed_dictionaries(
                    {"sku": NAME | TEXT, "quantity": st.integers(-1, 1_000_001), "unit_price": PRICES | DECIMALS},
                    optional={"description": TEXT},
                ),
                max_size=3,
            ),
        },
        optional={"ship_by": DATES, "deliver_by": DATES},
    )
)
def test_generated_well_formed_items_agree_with_the_serializer(data):
    event(f"lean {agree(data)}, serializer {drf(data)[0]}")
