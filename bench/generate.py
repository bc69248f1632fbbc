"""Benchmark data: N orders (with customers, lines, timelines, shipments, payments, hand-offs)
loaded into a real, migrated PostgreSQL database with COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench \
        .venv/bin/python bench/generate.py --orders 1000000 --reset

How it stays fast (a million orders in a few minutes on two cores):

* the schema comes from ``manage.py migrate`` (the real tables, constraints and indexes);
* the secondary indexes of the loaded tables are dropped before the load and re-created
  afterwards from their exact ``pg_indexes`` definitions (one sort per index instead of
  millions of random inserts); primary keys and unique *constraints* stay in place;
* foreign-key triggers are skipped per session (``session_replication_role = replica``,
  nothing is changed in the catalog) and every foreign key is checked with an anti-join
  after the load instead: the run fails if one row points nowhere;
* CHECK constraints stay on and are enforced row by row by COPY;
* rows are generated in Python from a seeded ``random.Random`` per chunk of orders (same
  seed, same data, whatever the number of workers) by two worker processes, each streaming
  its chunk into the tables with ``COPY … FROM STDIN`` on its own connection.

Then ``VACUUM (ANALYZE)`` so the planner has statistics and the visibility map is set, as it
would be on a database that has been running for a while.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing as mp
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fd_bench"
UTC = dt.UTC
CHUNK = 20_000  # orders per COPY chunk

# --- vocabulary ------------------------------------------------------------------------

FIRST = {
    "US": "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Emily Kevin",
    "GB": "Oliver Amelia George Isla Harry Ava Jack Mia Noah Sophie Charlie Grace Thomas Lily Oscar Freya Alfie Emily",
    "IN": "Aarav Priya Vivaan Ananya Aditya Diya Arjun Kavya Rohan Isha Karthik Lakshmi Suresh Meena Rahul Pooja "
    "Vikram Deepa Sanjay Anjali Arun Divya Ravi Sneha Manoj Nisha Ganesh Revathi Senthil Pavithra",
    "PH": "Jose Maria Juan Ana Mark Kristine John Angelica Paolo Camille Miguel Patricia Carlo Jasmine Rafael "
    "Nicole Andres Bea Gabriel Joy",
    "BD": "Rahim Fatema Karim Ayesha Hasan Nusrat Tanvir Sadia Arif Farzana Imran Tahmina Sabbir Rumana Shakib "
    "Nasrin Mahmud Sharmin",
}
LAST = {
    "US": "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker Hall Young",
    "GB": "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White "
    "Roberts Green Hall Wood Jackson Clarke O'Brien",
    "IN": "Sharma Verma Gupta Iyer Nair Reddy Patel Singh Kumar Krishnan Subramanian Rao Menon Pillai Das "
    "Banerjee Chatterjee Mukherjee Joshi Mehta Shah Murugan Rajan Venkatesh",
    "PH": "Santos Reyes Cruz Bautista Ocampo Garcia Mendoza Torres Tomas Andrada Castillo Flores Villanueva "
    "Ramos Castro Rivera Aquino Navarro Salazar Mercado",
    "BD": "Rahman Hossain Islam Ahmed Khan Chowdhury Uddin Alam Akter Begum Sarkar Miah Talukder Siddique",
}
FIRST = {k: v.split() for k, v in FIRST.items()}
LAST = {k: v.split() for k, v in LAST.items()}
PLACES = {
    "US": [
        ("New York", "NY", "100"),
        ("Chicago", "IL", "606"),
        ("Austin", "TX", "787"),
        ("Seattle", "WA", "981"),
        ("Denver", "CO", "802"),
        ("Atlanta", "GA", "303"),
        ("San Jose", "CA", "951"),
    ],
    "GB": [
        ("London", "Greater London", "SW1"),
        ("Manchester", "Greater Manchester", "M1"),
        ("Leeds", "West Yorks", "LS1"),
    ],
    "IN": [
        ("Chennai", "Tamil Nadu", "600"),
        ("Mumbai", "Maharashtra", "400"),
        ("Bengaluru", "Karnataka", "560"),
        ("Kolkata", "West Bengal", "700"),
        ("New Delhi", "Delhi", "110"),
        ("Coimbatore", "Tamil Nadu", "641"),
    ],
    "PH": [("Quezon City", "Metro Manila", "11"), ("Cebu City", "Cebu", "60"), ("Davao City", "Davao del Sur", "80")],
    "BD": [("Dhaka", "Dhaka", "12"), ("Chattogram", "Chattogram", "41"), ("Khulna", "Khulna", "92")],
}
STREETS = [
    "Main St",
    "Oak Ave",
    "Park Rd",
    "MG Road",
    "Anna Salai",
    "Rizal Ave",
    "Station Rd",
    "High St",
    "Lake View",
    "Gandhi Nagar",
    "Mirpur Rd",
    "Elm St",
]
COUNTRY_WEIGHTS = [("US", 35), ("IN", 30), ("PH", 15), ("BD", 10), ("GB", 10)]
LANGS = {"US": ["en"], "GB": ["en"], "IN": ["en", "hi", "ta", "bn"], "PH": ["fil", "en"], "BD": ["bn", "en"]}
CURRENCY = {"US": "USD", "GB": "GBP", "IN": "INR", "PH": "PHP", "BD": "BDT"}
CHANNELS = ["phone", "email", "email", "email", "web", "web", "letter"]
MAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "example.com", "mail.example.org"]

PRODUCTS = [
    (f"SKU-{i:05d}", d)
    for i, d in enumerate(
        [
            "USB-C charger 65W",
            "Wireless mouse",
            "Mechanical keyboard",
            "27in monitor",
            "Laptop stand",
            "Noise-cancelling headphones",
            "HDMI cable 2m",
            "Webcam 1080p",
            "Desk lamp",
            "Office chair",
            "Phone case",
            "Screen protector",
            "Power bank 20000mAh",
            "Bluetooth speaker",
            "Smart plug",
            "SSD 1TB",
            "Router AX3000",
            "Printer paper A4",
            "Ink cartridge",
            "Backpack",
        ]
        * 25,
        start=1,
    )
]
PRICES = [int(random.Random(i).lognormvariate(7.5, 1.0)) + 199 for i in range(len(PRODUCTS))]  # in cents
CARRIERS = ["UPS", "FedEx", "DHL", "USPS", "Blue Dart", "India Post", "LBC", "Royal Mail"]
SOURCES = [("shopfront", "SF", 60), ("marketplace", "MP", 25), ("desk", "", 10), ("erp", "ERP", 5)]
STATUSES = ["placed", "confirmed", "processing", "packed", "shipped", "delivered", "on_hold", "cancelled", "returned"]
NOT_SHIPPED = ("placed", "confirmed", "processing", "packed", "on_hold")
PATH = ["placed", "confirmed", "processing", "packed", "shipped", "delivered"]
SHIPMENT_OPEN = ("in_transit", "out_for_delivery", "exception", "label_created")
DEPARTMENTS = ["warehouse", "shipping", "billing", "technical", "returns"]
NOTES = [
    "Customer called about delivery time.",
    "Customer asked to leave the parcel with a neighbour.",
    "Address confirmed by phone.",
    "Gift wrap requested.",
    "Customer asked for an invoice copy.",
]

# Status by age of the order (days since placed): (max age, weights over STATUSES).
STATUS_BY_AGE = [
    (1, [30, 25, 18, 10, 10, 0, 3, 4, 0]),
    (3, [5, 10, 20, 20, 38, 0, 3, 4, 0]),
    (10, [0.5, 0.5, 2, 2, 45, 42, 2, 4, 2]),
    (10_000, [0.05, 0.05, 0.1, 0.1, 0.7, 88.5, 0.5, 6, 4]),
]


def cents(c: int) -> str:
    return f"{c // 100}.{c % 100:02d}"


def ts(t: float) -> str:
    return dt.datetime.fromtimestamp(t, UTC).isoformat(sep=" ")


def day(t: float) -> str:
    return dt.datetime.fromtimestamp(t, UTC).date().isoformat()


def jd(obj) -> str:
    return json.dumps(obj, separators=(",", ":")).replace("\\", "\\\\")


def esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# --- customers -----------------------------------------------------------------------------


def make_phone(rng: random.Random, country: str) -> str:
    r = rng.randint
    if country == "US":
        return f"+1 ({r(201, 989)}) {r(200, 999)}-{r(0, 9999):04d}"
    if country == "GB":
        return f"+44 7{r(100, 999)} {r(100000, 999999)}"
    if country == "IN":
        return f"+91 {r(70000, 99999)} {r(0, 99999):05d}"
    if country == "PH":
        return f"+63 9{r(10, 99)} {r(100, 999)} {r(0, 9999):04d}"
    return f"+880 1{r(300, 999)}-{r(0, 999999):06d}"


def postal_code(rng: random.Random, country: str, prefix: str) -> str:
    if country == "GB":
        return f"{prefix} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    width = {"US": 5, "IN": 6}.get(country, 4) - len(prefix)
    return f"{prefix}{rng.randint(0, 10**width - 1):0{width}d}"


def generate_customers(n: int, seed: int, now: float):
    """Rows for orders_customer, plus (name, line1, line2, city, region, postal, country) per id for orders."""
    rng = random.Random(seed)
    countries = [c for c, w in COUNTRY_WEIGHTS for _ in range(w)]
    buf = io.StringIO()
    info = [None] * (n + 1)
    phones = [""] * (n + 1)
    span = 3 * 365 * 86400
    for cid in range(1, n + 1):
        country = rng.choice(countries)
        first, last = rng.choice(FIRST[country]), rng.choice(LAST[country])
        name = f"{first} {last}"
        email = f"{first}.{last}{rng.randint(1, 9999)}@{rng.choice(MAIL_DOMAINS)}".lower().replace("'", "")
        if rng.random() < 0.05:
            email = ""
        phone = "" if rng.random() < 0.04 else make_phone(rng, country)
        digits = "".join(ch for ch in phone if ch.isdigit())
        city, region, prefix = rng.choice(PLACES[country])
        postal = postal_code(rng, country, prefix)
        line1 = f"{rng.randint(1, 400)} {rng.choice(STREETS)}"
        line2 = f"Apt {rng.randint(1, 60)}" if rng.random() < 0.25 else ""
        created = now - span * (1 - cid / n) - rng.random() * 86400
        updated = created + rng.random() * (now - created)
        vip = rng.random() < 0.01
        row = (
            cid,
            name,
            email,
            phone,
            digits,
            rng.choice(LANGS[country]),
            rng.choice(CHANNELS),
            line1,
            line2,
            city,
            region,
            postal,
            country,
            "VIP: call before shipping." if vip else "",
            ts(created),
            ts(updated),
            1,
            "vip" if vip else "standard",
            "t" if cid % 20 == 0 else "f",  # 5 % asked not to be called after a resolution
        )
        buf.write("\t".join(esc(v) if isinstance(v, str) else str(v) for v in row))
        buf.write("\n")
        info[cid] = (name, line1, line2, city, region, postal, country)
        phones[cid] = phone
    return buf, info, phones


CUSTOMER_COLUMNS = (
    "id, name, email, phone, phone_digits, preferred_language, preferred_channel, address_line1, address_line2, "
    "city, region, postal_code, country, notes, created_at, updated_at, version, tier, no_follow_up_calls"
)
ORDER_COLUMNS = (
    "id, number, source, external_ref, customer_id, status, held_from_status, currency, subtotal, total, "
    "paid_amount, refunded_amount, payment_status, ship_name, ship_line1, ship_line2, ship_city, ship_region, "
    "ship_postal_code, ship_country, placed_at, ship_by, deliver_by, expedite, expedite_reason, "
    "expedite_requested_by, expedite_requested_at, created_at, updated_at, version, change_seq, risk_reason"
)
LINE_COLUMNS = "order_id, position, sku, description, quantity, unit_price"
EVENT_COLUMNS = "order_id, created_at, actor_kind, actor_user_id, actor_name, details, type"
SHIPMENT_COLUMNS = "order_id, carrier, service_level, tracking_number, status, shipped_at, delivered_at, updated_at"
PAYMENT_COLUMNS = "order_id, kind, amount, reference, note, created_at, actor_name"
HANDOFF_COLUMNS = (
    "order_id, department, summary, owner_id, due_date, state, created_at, updated_at, completed_at, created_by_name"
)
TABLES = [
    ("orders_order", ORDER_COLUMNS),
    ("orders_orderline", LINE_COLUMNS),
    ("orders_orderevent", EVENT_COLUMNS),
    ("orders_shipment", SHIPMENT_COLUMNS),
    ("orders_payment", PAYMENT_COLUMNS),
    ("orders_handoff", HANDOFF_COLUMNS),
]
LOADED_TABLES = ["orders_customer", *(t for t, _ in TABLES)]


# --- orders -----------------------------------------------------------------------------------

_G: dict = {}  # set in the parent before the workers fork


def payment_plan(rng: random.Random, status: str, total: int) -> tuple[int, int]:
    """(paid, refunded) in cents, consistent with the order's status."""
    x = rng.random()
    if status == "cancelled":
        return (0, 0) if x < 0.6 else (total, total)
    if status == "returned":
        return (total, total) if x < 0.8 else (total, total // 2)
    if status in ("shipped", "delivered"):
        if x < 0.97:
            return total, 0
        if x < 0.99:
            return total, max(1, total // 10)
        return total // 2, 0
    if status == "placed":
        if x < 0.4:
            return 0, 0
        return (total, 0) if x < 0.95 else (total // 2, 0)
    if x < 0.9:
        return total, 0
    return (0, 0) if x < 0.95 else (total // 2, 0)


def payment_status(total: int, paid: int, refunded: int) -> str:
    if refunded > 0:
        return "refunded" if refunded >= paid else "partially_refunded"
    if paid <= 0:
        return "unpaid"
    if paid < total:
        return "partially_paid"
    return "paid"


def generate_chunk(first_id: int, last_id: int) -> dict[str, io.StringIO]:
    g = _G
    n, now, start, span = g["orders"], g["now"], g["start"], g["span"]
    ncust, cinfo, user_id = g["customers"], g["customer_info"], g["user_id"]
    rng = random.Random(g["seed"] * 1_000_003 + first_id)
    out = {t: io.StringIO() for t, _ in TABLES}
    w_order, w_line, w_event = out["orders_order"].write, out["orders_orderline"].write, out["orders_orderevent"].write
    w_ship, w_pay, w_hand = out["orders_shipment"].write, out["orders_payment"].write, out["orders_handoff"].write
    sources = [s for s in SOURCES for _ in range(s[2])]
    nprod = len(PRODUCTS)
    today_ts = now

    def later(t: float, step: float) -> float:
        """``step`` seconds after ``t``, or half-way to now if that would be in the future."""
        return t + min(step, (now - t) / 2)

    for oid in range(first_id, last_id + 1):
        # Customer: 85 % uniform, 15 % skewed towards a few heavy buyers (low ids; the top one has ~0.03 %).
        if rng.random() < 0.85:
            cid = rng.randint(1, ncust)
        else:
            cid = 1 + int(ncust * rng.random() ** 2)
        cname, l1, l2, city, region, postal, country = cinfo[cid]
        currency = CURRENCY[country]
        placed = start + span * (oid - 1 + rng.random()) / n
        age_days = (now - placed) / 86400
        for limit, weights in STATUS_BY_AGE:
            if age_days < limit:
                status = rng.choices(STATUSES, weights)[0]
                break
        held_from = rng.choice(NOT_SHIPPED[:4]) if status == "on_hold" else ""
        # Lines.
        nlines = rng.choices((1, 2, 3, 4), (40, 30, 20, 10))[0]
        total = 0
        for pos in range(1, nlines + 1):
            p = rng.randrange(nprod)
            qty = 1 if rng.random() < 0.75 else rng.randint(2, 5)
            price = PRICES[p]
            total += qty * price
            sku, desc = PRODUCTS[p]
            w_line(f"{oid}\t{pos}\t{sku}\t{desc}\t{qty}\t{cents(price)}\n")
        paid, refunded = payment_plan(rng, status, total)
        pstatus = payment_status(total, paid, refunded)
        # Promises: ship within 1–3 days, deliver 2–7 days after that (5 % without promises).
        if rng.random() < 0.05:
            ship_by = deliver_by = None
            ship_by_s = deliver_by_s = "\\N"
        else:
            ship_by = placed + rng.randint(1, 3) * 86400
            deliver_by = ship_by + rng.randint(2, 7) * 86400
            ship_by_s, deliver_by_s = day(ship_by), day(deliver_by)
        expedite = rng.random() < 0.02
        src, prefix, _w = rng.choice(sources)
        ext = f"{prefix}-{oid * 7 + 1_000_000:09d}" if prefix else ""
        # Timeline: what happened, in order; the order shows 2–5 of these.
        t = placed
        history = [
            (
                t,
                "created",
                "system" if src != "desk" else "user",
                {"total": cents(total), "currency": currency, "lines": nlines},
            )
        ]
        if paid:
            t = later(t, rng.randint(30, 3600))
            history.append((t, "payment_recorded", "system", {"amount": cents(paid), "reference": f"ch_{oid:x}"}))
            w_pay(f"{oid}\tpayment\t{cents(paid)}\tch_{oid:x}\t\t{ts(t)}\t{src or 'benchrep'}\n")
        reached = PATH.index(status) if status in PATH else PATH.index(held_from) if held_from else 0
        if status == "returned":
            reached = 5
        elif status == "cancelled":
            reached = rng.randint(0, 2)
        ship_t = None
        for k in range(1, reached + 1):
            t = later(t, rng.randint(1800, 86400 if k < 4 else 3 * 86400))
            history.append((t, "status_changed", "user", {"old": PATH[k - 1], "new": PATH[k], "reason": ""}))
            if PATH[k] == "shipped":
                ship_t = t
        if status in ("on_hold", "cancelled"):
            t = later(t, rng.randint(600, 86400))
            reason = "Payment check" if status == "on_hold" else "Customer changed their mind"
            history.append((t, "status_changed", "user", {"old": PATH[reached], "new": status, "reason": reason}))
        if status == "returned":
            t = later(t, rng.randint(86400, 20 * 86400))
            history.append((t, "status_changed", "user", {"old": "delivered", "new": "returned", "reason": "Damaged"}))
        if refunded:
            t = later(t, rng.randint(600, 86400))
            history.append((t, "refund_recorded", "user", {"amount": cents(refunded), "reason": "Refund"}))
            w_pay(f"{oid}\trefund\t{cents(refunded)}\trf_{oid:x}\tRefund\t{ts(t)}\tbenchrep\n")
        if ship_t is not None:
            carrier = rng.choice(CARRIERS)
            level = (
                rng.choice(("express", "overnight")) if expedite else ("standard" if rng.random() < 0.85 else "express")
            )
            tracking = f"{carrier[:2].upper()}{oid:09d}{rng.randint(100, 999)}"
            if status in ("delivered", "returned"):
                delivered = later(ship_t, rng.randint(86400, 6 * 86400))
                sstatus = "delivered" if status == "delivered" else "returned"
                delivered_s = ts(delivered)
            else:
                sstatus = rng.choices(SHIPMENT_OPEN, (80, 10, 5, 5))[0]
                delivered = ship_t
                delivered_s = "\\N"
            w_ship(f"{oid}\t{carrier}\t{level}\t{tracking}\t{sstatus}\t{ts(ship_t)}\t{delivered_s}\t{ts(delivered)}\n")
            history.insert(
                next(i for i, h in enumerate(history) if h[0] >= ship_t) + 1,
                (
                    ship_t + 1,
                    "shipment_created",
                    "user",
                    {"carrier": carrier, "tracking_number": tracking, "service_level": level},
                ),
            )
        want = rng.randint(2, 5)
        events = [history[0], *sorted(rng.sample(history[1:], min(want - 1, len(history) - 1)), key=lambda e: e[0])]
        while len(events) < want:
            nt = later(events[-1][0], rng.randint(60, 86400))
            events.append((nt, "note_added", "user", {"text": rng.choice(NOTES)}))
        for et, etype, kind, details in events:
            if kind == "user":
                w_event(f"{oid}\t{ts(et)}\tuser\t{user_id}\tbenchrep\t{jd(details)}\t{etype}\n")
            else:
                system = src if src != "desk" else "payments"
                w_event(f"{oid}\t{ts(et)}\tsystem\t\\N\t{system}\t{jd(details)}\t{etype}\n")
        updated = max(events[-1][0], t)
        # Hand-offs: about 0.5 % of orders.
        if rng.random() < 0.005:
            state = rng.choice(("open", "in_progress", "done")) if age_days < 30 else "done"
            created = later(placed, rng.randint(600, 2 * 86400))
            done_s = ts(later(created, 86400)) if state == "done" else "\\N"
            owner = str(user_id) if rng.random() < 0.5 else "\\N"
            w_hand(
                f"{oid}\t{rng.choice(DEPARTMENTS)}\tPlease check order FD{oid:07d}\t{owner}\t"
                f"{day(created + 3 * 86400)}\t{state}\t{ts(created)}\t{ts(created)}\t{done_s}\tbenchrep\n"
            )
        if expedite:
            exp = f"Customer needs it urgently\t{cname}\t{ts(placed + 300)}"
        else:
            exp = "\t\t\\N"
        w_order(
            f"{oid}\tFD{oid:07d}\t{src}\t{ext}\t{cid}\t{status}\t{held_from}\t{currency}\t"
            f"{cents(total)}\t{cents(total)}\t{cents(paid)}\t{cents(refunded)}\t{pstatus}\t"
            f"{esc(cname)}\t{l1}\t{l2}\t{city}\t{region}\t{postal}\t{country}\t{ts(placed)}\t{ship_by_s}\t"
            f"{deliver_by_s}\t{'t' if expedite else 'f'}\t{exp}\t{ts(placed)}\t{ts(min(updated, today_ts))}\t1\t0\t\n"
        )
    return out


_conn = None


def _worker_init(dsn: str):
    global _conn
    _conn = psycopg2.connect(dsn)
    with _conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET session_replication_role = replica")  # skip FK triggers; checked after the load
    _conn.commit()


def timed_copy(make, bounds: tuple, tables: list[tuple[str, str]]) -> dict[str, float]:
    """In a worker: ``make(*bounds)`` builds one chunk's COPY buffers, streamed into ``tables``.
    Returns rows per table, plus ``_gen`` and ``_copy`` seconds."""
    t0 = time.perf_counter()
    data = make(*bounds)
    t1 = time.perf_counter()
    counts: dict[str, float] = {}
    with _conn.cursor() as cur:
        for table, columns in tables:
            buf = data[table]
            counts[table] = buf.getvalue().count("\n")
            buf.seek(0)
            cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buf)
    _conn.commit()
    counts["_gen"] = t1 - t0
    counts["_copy"] = time.perf_counter() - t1
    return counts


def load_chunk(bounds: tuple[int, int]) -> dict[str, float]:
    return timed_copy(generate_chunk, bounds, TABLES)


def load_in_chunks(url: str, workers: int, load, chunks: list, tables: list[tuple[str, str]], unit: str):
    """``load`` (a module-level function calling ``timed_copy``) over ``chunks`` by ``workers``
    forked processes, each with its own connection; prints progress. Returns (rows, seconds)."""
    start = time.perf_counter()
    totals = {t: 0 for t, _ in tables}
    gen_s = copy_s = 0.0
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=_worker_init, initargs=(url,)) as pool:
        for done, counts in enumerate(pool.imap_unordered(load, chunks), start=1):
            gen_s += counts.pop("_gen")
            copy_s += counts.pop("_copy")
            for k, v in counts.items():
                totals[k] += int(v)
            if done % 10 == 0 or done == len(chunks):
                el = time.perf_counter() - start
                rows = sum(totals.values())
                print(
                    f"  {done}/{len(chunks)} chunks, {totals[tables[0][0]]:,} {unit}, {rows:,} rows, "
                    f"{el:.0f}s, {rows / el:,.0f} rows/s",
                    flush=True,
                )
    elapsed = time.perf_counter() - start
    rows = sum(totals.values())
    for table, count in totals.items():
        print(f"{table}: {count:,} rows")
    print(
        f"loaded {rows:,} rows in {elapsed:.1f}s ({rows / elapsed:,.0f} rows/s; "
        f"worker time generating {gen_s:.0f}s, in COPY {copy_s:.0f}s)"
    )
    return rows, elapsed


# --- database plumbing ---------------------------------------------------------------------------


def dsn_for(url: str, dbname: str | None = None) -> str:
    parts = urlparse(url)
    if dbname is not None:
        parts = parts._replace(path="/" + dbname)
    return urlunparse(parts)


def ensure_database(url: str, reset: bool) -> None:
    name = urlparse(url).path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        sys.exit(f"bad database name in DATABASE_URL: {name!r}")
    admin = psycopg2.connect(dsn_for(url, "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cur.fetchone() is not None
        if exists and reset:
            print(f"dropping database {name}")
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            print(f"creating database {name}")
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


def create_user(url: str) -> int:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    User = get_user_model()
    user, created = User.objects.get_or_create(
        username="benchrep",
        defaults={"tier": 1, "first_name": "Bench", "last_name": "Rep", "email": "benchrep@example.com"},
    )
    if created:
        user.set_unusable_password()
        user.save()
    connection.close()
    return user.pk


def secondary_indexes(cur, tables: list[str] = LOADED_TABLES) -> list[tuple[str, str, str]]:
    """(table, name, definition) of every index on ``tables`` that does not back a constraint."""
    cur.execute(
        """
        SELECT i.tablename, i.indexname, i.indexdef
          FROM pg_indexes i
          JOIN pg_class c ON c.relname = i.indexname
         WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
         ORDER BY i.tablename, i.indexname
        """,
        [tables],
    )
    return cur.fetchall()


FOREIGN_KEYS = [
    ("orders_order", "customer_id", "orders_customer"),
    ("orders_orderline", "order_id", "orders_order"),
    ("orders_orderevent", "order_id", "orders_order"),
    ("orders_orderevent", "actor_user_id", "fulfillment_user"),
    ("orders_shipment", "order_id", "orders_order"),
    ("orders_payment", "order_id", "orders_order"),
    ("orders_handoff", "order_id", "orders_order"),
    ("orders_handoff", "owner_id", "fulfillment_user"),
]


def index_statistics(cur, indexes: list[tuple[str, str, str]]) -> list[str]:
    """``ALTER INDEX … SET STATISTICS`` for the columns of ``indexes`` that have their own statistics
    target (a dropped and re-created index loses it; its ``pg_indexes`` definition does not say)."""
    cur.execute(
        """
        SELECT c.relname, a.attnum, a.attstattarget
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relname = ANY(%s) AND a.attnum > 0 AND a.attstattarget >= 0
        """,
        [[name for _t, name, _d in indexes]],
    )
    return [f'ALTER INDEX "{name}" ALTER COLUMN {num} SET STATISTICS {target}' for name, num, target in cur.fetchall()]


def check_foreign_keys(cur, keys: list[tuple[str, str, str]]) -> None:
    """One anti-join per (table, column, target): exit if a row points nowhere."""
    for table, column, target in keys:
        cur.execute(
            f"SELECT count(*) FROM {table} x WHERE x.{column} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = x.{column})"
        )
        orphans = cur.fetchone()[0]
        if orphans:
            sys.exit(f"{orphans} rows of {table}.{column} point to no {target} row")


def move_sequences(cur, tables: list[str]) -> None:
    """Identity sequences follow the explicit ids."""
    for table in tables:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 1), "
            f"(SELECT count(*) > 0 FROM {table}))"
        )


def rebuild_indexes(url: str, indexes: list[tuple[str, str, str]], biggest_first: list[str], workers: int) -> None:
    """Re-create ``indexes`` from their definitions, one connection per worker, biggest tables first."""
    pending = sorted(indexes, key=lambda x: biggest_first.index(x[0]), reverse=True)  # pop() takes from the end
    lock = threading.Lock()
    errors = []

    def build():
        c = psycopg2.connect(url)
        c.autocommit = True
        with c.cursor() as k:
            k.execute("SET maintenance_work_mem = '1GB'")
            k.execute("SET max_parallel_maintenance_workers = 0")
            while True:
                with lock:
                    if not pending:
                        break
                    _table, name, definition = pending.pop()
                s = time.perf_counter()
                try:
                    k.execute(definition)
                except Exception as exc:
                    errors.append((name, exc))
                print(f"  index {name}: {time.perf_counter() - s:.1f}s", flush=True)
        c.close()

    threads = [threading.Thread(target=build) for _ in range(max(1, workers))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        sys.exit(f"index re-creation failed: {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 5")
    parser.add_argument("--reset", action="store_true", help="drop and re-create the database first")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing to load benchmark data into a non-local database ({host})")
    n = args.orders
    ncust = args.customers or max(1, n // 5)

    t_start = time.perf_counter()
    ensure_database(url, args.reset)
    migrate(url)
    user_id = create_user(url)
    t_schema = time.perf_counter()
    print(f"schema ready (migrate) in {t_schema - t_start:.1f}s")

    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM orders_order")
    if cur.fetchone()[0]:
        sys.exit("orders_order is not empty: run with --reset to re-create the database")
    indexes = secondary_indexes(cur)
    for _table, name, _definition in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    print(f"dropped {len(indexes)} secondary indexes for the load")

    now = time.time()
    _G.update(
        orders=n,
        customers=ncust,
        now=now,
        span=2 * 365 * 86400,
        start=now - 2 * 365 * 86400,
        seed=args.seed,
        user_id=user_id,
    )

    # Customers (in the parent: the workers need their names and addresses).
    t0 = time.perf_counter()
    buf, info, _phones = generate_customers(ncust, args.seed, now)
    _G["customer_info"] = info
    buf.seek(0)
    cur.execute("SET synchronous_commit = off")
    cur.copy_expert(f"COPY orders_customer ({CUSTOMER_COLUMNS}) FROM STDIN", buf)
    del buf
    t1 = time.perf_counter()
    print(f"orders_customer: {ncust:,} rows in {t1 - t0:.1f}s ({ncust / (t1 - t0):,.0f} rows/s)")

    # Orders and everything hanging off them, in chunks, by two workers.
    chunks = [(a, min(a + CHUNK - 1, n)) for a in range(1, n + 1, CHUNK)]
    rows, _ = load_in_chunks(url, args.workers, load_chunk, chunks, TABLES, "orders")
    t2 = time.perf_counter()

    # Foreign keys: checked once, set-wise, instead of one trigger call per row.
    check_foreign_keys(cur, FOREIGN_KEYS)
    t3 = time.perf_counter()
    print(f"foreign keys checked in {t3 - t2:.1f}s")

    # Sequences follow the explicit ids.
    move_sequences(cur, LOADED_TABLES)

    # Indexes back, two at a time (one connection per core), biggest tables first.
    biggest_first = [
        "orders_orderevent",
        "orders_orderline",
        "orders_order",
        "orders_payment",
        "orders_shipment",
        "orders_customer",
        "orders_handoff",
    ]
    rebuild_indexes(url, indexes, biggest_first, args.workers)
    t4 = time.perf_counter()
    print(f"re-created {len(indexes)} indexes in {t4 - t3:.1f}s")

    cur.execute("VACUUM (ANALYZE)")
    t5 = time.perf_counter()
    print(f"VACUUM (ANALYZE) in {t5 - t4:.1f}s")
    cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
    size = cur.fetchone()[0]
    all_rows = rows + ncust
    print(
        f"done: {n:,} orders, {all_rows:,} rows in {t5 - t_start:.1f}s total "
        f"(data load {t2 - t0:.1f}s = {all_rows / (t2 - t0):,.0f} rows/s; "
        f"{all_rows / (t5 - t_start):,.0f} rows/s end to end incl. migrate, indexes, vacuum); database {size}"
    )
    conn.close()


if __name__ == "__main__":
    main()
