"""Benchmark data for the inquiries desk: N inquiries (default 1,000,000) with about five
messages each, their timelines, linked orders, calls, callbacks, plan steps, remedies and tags,
loaded with COPY into the database ``bench/generate.py`` built (run that first).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench \\
        .venv/bin/python bench/generate_inquiries.py --inquiries 1000000

Same techniques as generate.py (and its helpers): ``manage.py migrate`` for the schema, the
secondary indexes of the loaded tables dropped and re-created from their ``pg_indexes``
definitions, foreign-key triggers skipped per session and every key checked with one anti-join
afterwards, CHECK constraints on, two worker processes streaming chunks with ``COPY``, a seeded
``random.Random`` per chunk (same seed, same rows), then ``VACUUM (ANALYZE)``.

Every row is what the services in ``inquiries/services`` would have written: each inquiry's
life is replayed as a list of service calls (create, claim, reply, receive, note, call,
promise a callback, add or tick a plan step, propose and decide a remedy, change status) and
the counters and deadlines on the inquiry row (``message_count``, ``last_message_id``,
``first_response_at``, ``response_due_at``, ``due_at`` = ``nearest_deadline`` …, ``version``)
come out of that replay. Timeline rows are written in the same order.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import sys
import time
from array import array
from bisect import bisect_right
from pathlib import Path
from urllib.parse import urlparse

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inquiry_text as text
from generate import (
    CARRIERS,
    CURRENCY,
    DEFAULT_URL,
    PRODUCTS,
    check_foreign_keys,
    create_user,
    esc,
    index_statistics,
    jd,
    load_in_chunks,
    migrate,
    move_sequences,
    rebuild_indexes,
    secondary_indexes,
    timed_copy,
)

UTC = dt.UTC
NULL = "\\N"  # COPY's NULL
CHUNK = 10_000  # inquiries per COPY chunk
HOUR, DAY = 3600, 86400

# The service rules this replays (inquiries/services/_common.py, enums.py).
RESPONSE_HOURS = {4: 1, 3: 4, 2: 24, 1: 72}
RESOLUTION_HOURS = {4: 24, 3: 72, 2: 120, 1: 240}
CATEGORY_SPECIALTY = {
    "billing": "billing",
    "technical": "technical",
    "delivery": "shipping",
    "order_status": "shipping",
    "return": "returns",
}
CATEGORIES = [
    ("order_status", 30),
    ("delivery", 22),
    ("billing", 10),
    ("technical", 6),
    ("product", 8),
    ("complaint", 5),
    ("return", 9),
    ("account_change", 4),
    ("other", 6),
]
PRIORITIES = [(1, 15), (2, 60), (3, 20), (4, 5)]
ACTIVE = ("new", "open", "waiting_customer", "waiting_department")
STATUS_CODES = ("new", "open", "waiting_customer", "waiting_department", "resolved", "closed")
TAGS = ["vip", "repeat", "fragile", "damaged", "late", "wrong-item", "chargeback", "social-media", "press", "gift"]
#: Bench staff: (tier, how many); ``benchrep`` (tier 1, from generate.py) comes on top.
STAFF = [(1, 29), (2, 10), (3, 6), (4, 4)]
#: Messages per inquiry (1..12), mean about 5.
MESSAGE_WEIGHTS = [7, 11, 15, 15, 14, 11, 9, 6, 5, 3, 2, 2]
LONG_THREAD = 200  # messages of the few long threads (one per 100,000 inquiries)
FILLER_WORDS = (3, 12)  # filler words per message, uniform


def long_thread_ids(n: int) -> list[int]:
    return sorted({min(n, i) for i in range(50_000, n + 50_000, 100_000)} | {max(1, n - n // 40)})


INQUIRY_COLUMNS = (
    "id, subject, channel, category, priority, status, tier, specialty_needed, created_at, updated_at, version, "
    "response_due_at, resolve_due_at, next_callback_at, next_step_due, due_at, first_response_at, last_inbound_at, "
    "last_outbound_at, resolved_at, closed_at, reopen_count, message_count, plan_steps_total, plan_steps_done, "
    "last_message_id, assignee_id, customer_id, due_kind, targets_recorded"
)
MESSAGE_COLUMNS = (
    "id, inquiry_id, kind, channel, subject, body, author_id, author_name, sender_email, to_email, received_on, "
    "created_at, email_message_id, in_reply_to, sent_at, send_error"
)
EVENT_COLUMNS = "inquiry_id, created_at, actor_kind, actor_user_id, actor_name, details, type, message_id, call_id"
CALL_COLUMNS = "id, inquiry_id, direction, duration_seconds, outcome, notes, phone, created_at, agent_id, agent_name"
CALLBACK_COLUMNS = "inquiry_id, due_at, phone, note, state, owner_id, promised_by_name, created_at, done_at"
STEP_COLUMNS = "id, inquiry_id, position, title, owner_id, due_date, done_at, done_by_name, created_at"
REMEDY_COLUMNS = (
    "id, inquiry_id, kind, state, amount, currency, description, reason, proposed_by_name, created_at, decided_at, "
    "decided_by_name, decision_note, approval_note"
)
TABLES = [
    ("inquiries_inquiry", INQUIRY_COLUMNS),
    ("inquiries_message", MESSAGE_COLUMNS),
    ("inquiries_calllog", CALL_COLUMNS),
    ("inquiries_inquiryevent", EVENT_COLUMNS),
    ("inquiries_inquiryorder", "inquiry_id, order_id, linked_at"),
    ("inquiries_callback", CALLBACK_COLUMNS),
    ("inquiries_planstep", STEP_COLUMNS),
    ("inquiries_remedy", REMEDY_COLUMNS),
    ("inquiries_inquiry_tags", "inquiry_id, tag_id"),
]
LOADED_TABLES = [t for t, _ in TABLES]
BIGGEST_FIRST = [
    "inquiries_message",
    "inquiries_inquiryevent",
    "inquiries_inquiry",
    "inquiries_inquiryorder",
    "inquiries_calllog",
    "inquiries_callback",
    "inquiries_planstep",
    "inquiries_remedy",
    "inquiries_inquiry_tags",
]
FOREIGN_KEYS = [
    ("inquiries_inquiry", "customer_id", "orders_customer"),
    ("inquiries_inquiry", "assignee_id", "fulfillment_user"),
    ("inquiries_inquiryorder", "inquiry_id", "inquiries_inquiry"),
    ("inquiries_inquiryorder", "order_id", "orders_order"),
    ("inquiries_message", "inquiry_id", "inquiries_inquiry"),
    ("inquiries_message", "author_id", "fulfillment_user"),
    ("inquiries_calllog", "inquiry_id", "inquiries_inquiry"),
    ("inquiries_calllog", "agent_id", "fulfillment_user"),
    ("inquiries_callback", "inquiry_id", "inquiries_inquiry"),
    ("inquiries_callback", "owner_id", "fulfillment_user"),
    ("inquiries_planstep", "inquiry_id", "inquiries_inquiry"),
    ("inquiries_planstep", "owner_id", "fulfillment_user"),
    ("inquiries_remedy", "inquiry_id", "inquiries_inquiry"),
    ("inquiries_inquiryevent", "inquiry_id", "inquiries_inquiry"),
    ("inquiries_inquiryevent", "actor_user_id", "fulfillment_user"),
    ("inquiries_inquiryevent", "message_id", "inquiries_message"),
    ("inquiries_inquiryevent", "call_id", "inquiries_calllog"),
    ("inquiries_inquiry_tags", "inquiry_id", "inquiries_inquiry"),
    ("inquiries_inquiry_tags", "tag_id", "inquiries_tag"),
]

_G: dict = {}  # filled in the parent before the workers fork


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, UTC).isoformat()


_DAYS: dict[int, str] = {}


def ts(t: float) -> str:
    """generate.ts without a datetime per call (the same text: ``YYYY-MM-DD HH:MM:SS.ffffff+00:00``)."""
    sec = int(t)
    d, r = divmod(sec, DAY)
    day = _DAYS.get(d)
    if day is None:
        day = _DAYS[d] = dt.date.fromordinal(719163 + d).isoformat()
    h, r = divmod(r, HOUR)
    m, s = divmod(r, 60)
    return f"{day} {h:02d}:{m:02d}:{s:02d}.{int((t - sec) * 1e6):06d}+00:00"


def opt_ts(t: float | None) -> str:
    return ts(t) if t is not None else NULL


def day_of(t: float) -> dt.date:
    return dt.datetime.fromtimestamp(t, UTC).date()


def end_of_day(d: dt.date) -> float:
    return dt.datetime.combine(d, dt.time(23, 59), tzinfo=UTC).timestamp()


# --- the plan: status, tier, assignee and sizes of every inquiry, decided in the parent -------------


def active_share(age_days: float) -> float:
    for limit, share in ((2, 0.97), (7, 0.85), (30, 0.5), (90, 0.25)):
        if age_days < limit:
            return share
    return 0.04


def plan(n: int, seed: int, now: float, start: float, span: float, staff: dict[int, list[int]], rep_id: int):
    """Arrays indexed by inquiry id: status code, tier, assignee (0 = none), messages, calls.

    ``benchrep`` gets every k-th assigned active tier-1 inquiry, k chosen for a queue of about
    120 (a rep's realistic day); the other staff of each tier share the rest."""
    rng = random.Random(seed * 7 + 1)
    status, tier = bytearray(n + 1), bytearray(n + 1)
    assignee, messages, calls = array("q", bytes(8 * (n + 1))), array("H", bytes(2 * (n + 1))), bytearray(n + 1)
    long_ids = set(long_thread_ids(n))
    sizes = range(1, 13)
    for i in range(1, n + 1):
        created = start + span * (i - 0.5) / n
        age = (now - created) / DAY
        if rng.random() < active_share(age):
            s = rng.choices((0, 1, 2, 3), (50, 30, 15, 5) if age < 2 else (5, 45, 35, 15))[0]
            t = rng.choices((1, 2, 3, 4), (70, 18, 8, 4))[0]
            assigned = rng.random() < (0.1, 0.55, 0.8, 0.8)[s]
        else:
            s = 4 if rng.random() < (0.6 if age < 14 else 0.3) else 5
            t = rng.choices((1, 2, 3, 4), (80, 12, 5, 3))[0]
            assigned = True
        status[i], tier[i] = s, t
        assignee[i] = rng.choice(staff[t]) if assigned else 0
        if i in long_ids:
            messages[i] = LONG_THREAD
            status[i] = 1 if s < 4 else s
        elif s == 0:
            messages[i] = rng.choices((1, 2, 3), (70, 22, 8))[0]
        else:
            messages[i] = rng.choices(sizes, MESSAGE_WEIGHTS)[0]
        calls[i] = rng.choices((0, 1, 2), (90, 8, 2))[0]
    # benchrep: a realistic queue of active tier-1 inquiries, the rest of his work is history.
    mine = [i for i in range(1, n + 1) if status[i] < 4 and tier[i] == 1 and assignee[i]]
    step = max(1, len(mine) // 120)
    for i in mine[::step]:
        assignee[i] = rep_id
    for i in range(1, n + 1, 29):
        if status[i] >= 4 and tier[i] == 1:
            assignee[i] = rep_id
    return status, tier, assignee, messages, calls


# --- one chunk: replay each inquiry's service calls --------------------------------------------------


class _Slots(dict):
    """Placeholder values of a sentence, drawn only for the placeholders it has."""

    def __init__(self, life: Life):
        super().__init__()
        self.life = life

    def __missing__(self, key: str) -> str:
        life = self.life
        rng = life.rng
        if key == "order":
            return life.order_numbers[0] if life.order_numbers else life.mentioned
        if key == "product":
            return PRODUCTS[rng.randrange(20)][1]
        if key == "tracking":
            return f"{rng.choice(CARRIERS)[:2].upper()}{rng.randint(10**11, 10**12 - 1)}"
        if key == "days":
            return str(rng.randint(2, 14))
        if key == "weekday":
            return rng.choice(text.WEEKDAYS)
        if key == "phone":
            return life.cphone or "+1 (555) 010-0000"
        if key == "city":
            return rng.choice(("Chennai", "Mumbai", "Dhaka", "Quezon City", "Austin", "London", "Cebu City"))
        return rng.choice(CARRIERS)  # carrier


class Out:
    """COPY buffers of one chunk."""

    def __init__(self):
        self.buf = {t: io.StringIO() for t, _ in TABLES}
        self.w = {t: b.write for t, b in self.buf.items()}


def generate_chunk(first: int, last: int, msg_base: int, call_base: int) -> dict[str, io.StringIO]:
    g = _G
    rng = random.Random(g["seed"] * 1_000_003 + first)
    out = Out()
    next_msg, next_call = msg_base, call_base
    for iid in range(first, last + 1):
        life = Life(iid, rng, out, next_msg, next_call)
        life.run()
        next_msg, next_call = life.next_msg, life.next_call
    assert next_msg == msg_base + sum(g["messages"][first : last + 1]), (first, next_msg, msg_base)
    return out.buf


class Life:
    """One inquiry from creation to its final status, written as the services would."""

    def __init__(self, iid: int, rng: random.Random, out: Out, next_msg: int, next_call: int):
        g = _G
        self.g, self.iid, self.rng, self.w = g, iid, rng, out.w
        self.now = g["now"]
        self.next_msg, self.next_call = next_msg, next_call
        self.target = STATUS_CODES[g["status"][iid]]
        self.tier = g["tier"][iid]
        self.assignee_id = g["assignee"][iid] or None
        self.n_messages = g["messages"][iid]
        self.n_calls = g["calls"][iid]
        self.created = g["start"] + g["span"] * (iid - 1 + rng.random()) / g["n"]

    # timeline and rows -------------------------------------------------------------------------

    def later(self, t: float, step: float) -> float:
        return t + min(step, (self.now - t) / 2)

    def event(self, t: float, type_: str, actor: tuple, details: dict, message_id=None, call_id=None) -> None:
        kind, user_id, name = actor
        self.w["inquiries_inquiryevent"](
            f"{self.iid}\t{ts(t)}\t{kind}\t{user_id or NULL}\t{esc(name)}\t{jd(details)}\t{type_}\t"
            f"{message_id or NULL}\t{call_id or NULL}\n"
        )

    def save(self, t: float) -> None:
        """services._common.save: version and updated_at move on (due_at is computed at the end)."""
        self.version += 1
        self.updated = t

    def user(self, user_id: int | None) -> tuple:
        if user_id is None:
            return ("system", None, "inbound-mail")
        return ("user", user_id, self.g["usernames"][user_id])

    def worker(self) -> int:
        """Who works it now: the assignee, or somebody of its tier."""
        return self.assignee_id or self.rng.choice(self.g["staff"][self.tier])

    def run(self) -> None:
        g, rng = self.g, self.rng
        iid, t = self.iid, self.created
        # Which order (placed before the inquiry) and so which customer.
        k = bisect_right(g["order_placed"], t - rng.randint(HOUR, 25 * DAY))
        orders = []
        if k and rng.random() < 0.95:
            o = rng.randint(max(0, k - 2000), k - 1)
            orders.append(o)
            if rng.random() < 0.04:
                siblings = g["customer_orders"].get(g["order_customer"][o], ())
                other = [x for x in siblings if x != o and g["order_placed"][x] < t]
                if other:
                    orders.append(rng.choice(other))
            cid = g["order_customer"][o]
        else:
            cid = rng.randint(1, g["customers"])
        self.customer_id = cid
        cname, cemail, cphone, clang, cchannel, country = g["customer"][cid]
        self.cname, self.cemail, self.cphone, self.clang = cname, cemail, cphone, clang
        self.currency = CURRENCY[country]
        self.first_name = cname.split()[0] if cname else ""
        self.order_numbers = [g["order_number"][o] for o in orders]
        self.mentioned = f"FD{rng.randint(1, len(g['order_id'])):07d}"  # an order the customer names unlinked
        channel = cchannel if rng.random() < 0.7 else rng.choice(("email", "email", "web", "phone", "letter"))
        if channel == "email" and not cemail:
            channel = "web"
        if self.target == "new" and channel == "phone":
            channel = "web"  # a phone intake logs a call, and a call opens the inquiry
        self.channel = channel
        category = rng.choices([c for c, _ in CATEGORIES], [w for _, w in CATEGORIES])[0]
        priority = rng.choices([p for p, _ in PRIORITIES], [w for _, w in PRIORITIES])[0]
        self.priority = priority
        self.subject = self.fill(rng.choice(text.SUBJECTS[category]))[:200]
        # State the services keep on the row.
        self.status = "new"
        self.version, self.updated = 1, t
        self.response_due = t + RESPONSE_HOURS[priority] * HOUR
        self.resolve_due = t + RESOLUTION_HOURS[priority] * HOUR
        self.first_response = self.last_in = self.last_out = self.resolved = self.closed = None
        self.reopen_count = self.message_count = self.last_message_id = 0
        self.pending_callbacks: list[float] = []
        self.steps: list[list] = []  # [id, due_date or None, done_at or None]
        self.last_email_id = ""

        # inquiry_create (or phone_intake: created, assigned to the rep taking the call, the call logged).
        phone_intake = channel == "phone"
        rep = self.worker()
        creator = self.user(rep) if channel in ("phone", "letter") else self.user(None)
        if phone_intake:
            self.assignee_id = rep
        self.event(t, "created", creator, {"channel": channel, "category": category, "subject": self.subject})
        for o, number in zip(orders, self.order_numbers, strict=True):
            self.w["inquiries_inquiryorder"](f"{iid}\t{g['order_id'][o]}\t{ts(t)}\n")
            self.event(t, "order_linked", creator, {"number": number})
        if rng.random() < 0.08:
            for tag in rng.sample(g["tag_ids"], rng.randint(1, 2)):
                self.w["inquiries_inquiry_tags"](f"{iid}\t{tag}\n")
        messages_left = self.n_messages
        calls_left = (self.n_calls if self.target != "new" else 0) + (1 if phone_intake else 0)
        if phone_intake:
            self.save(t)
            t = self.later(t, rng.randint(60, 900))
            self.call(t, rep, "inbound", first=True)
            calls_left -= 1
        else:
            self.message(t, "inbound", creator, first=True)
            messages_left -= 1
            self.save(t)

        # Claimed by the assignee (phone intakes are assigned when they are taken).
        if self.assignee_id and not phone_intake:
            t = self.later(t, rng.randint(60, 6 * HOUR))
            self.event(t, "assigned", self.user(self.assignee_id), {"old": "", "new": self.username(), "claimed": True})
            self.save(t)

        # Plan steps, callbacks and remedies happen on a few inquiries, somewhere in the middle.
        done = self.target in ("resolved", "closed")
        total = messages_left
        plan_steps = rng.randint(2, 4) if self.target != "new" and total >= 3 and rng.random() < 0.04 else 0
        callback = self.target != "new" and rng.random() < (0.3 if self.assignee_id == g["rep_id"] else 0.05)
        remedy = done and total >= 1 and rng.random() < 0.05
        spacing = 4 * DAY if self.n_messages == LONG_THREAD else (2 * DAY if done else DAY)
        for k in range(total):
            if k == total - 1:  # before the last message: steps ticked off, a remedy settled
                for step in self.steps:
                    if done or rng.random() < 0.4:
                        t = self.later(t, rng.randint(HOUR, DAY))
                        self.plan_step_done(t, step)
                if remedy:
                    t = self.later(t, rng.randint(10 * 60, DAY))
                    t = self.remedy(t, category)
            t = self.later(t, rng.randint(10 * 60, spacing))
            remaining = total - k
            if self.target == "new":
                kind = "inbound" if rng.random() < 0.7 else "note"
            elif self.status in ("resolved", "closed"):
                kind = "inbound"  # the customer writes again: the inquiry reopens
            elif (remaining == 1 and self.target in ("waiting_customer", "resolved", "closed")) or (
                self.first_response is None and rng.random() < 0.8
            ):
                kind = "outbound"
            else:
                kind = rng.choices(("outbound", "inbound", "note"), (45, 35, 20))[0]
            then = None
            if kind == "outbound":
                if remaining == 1 and self.target == "waiting_customer":
                    then = "waiting_customer"
                elif remaining == 1 and done:
                    then = "resolved"
                elif remaining > 2 and done and not self.steps and rng.random() < 0.03:
                    then = "resolved"  # resolved, then the customer writes again (a reopen)
                elif remaining > 1 and rng.random() < 0.35:
                    then = "waiting_customer"
            if kind == "inbound":
                actor = self.user(None) if self.channel in ("email", "web") else self.user(self.worker())
                self.message(t, "inbound", actor)
            else:
                self.message(t, kind, self.user(self.worker()), then_status=then)
            if calls_left and self.status not in ("resolved", "closed") and rng.random() < 0.5:
                t = self.later(t, rng.randint(10 * 60, 6 * HOUR))
                self.call(t, self.worker(), rng.choice(("inbound", "outbound")))
                calls_left -= 1
            if plan_steps and k == total // 2:
                for _ in range(plan_steps):
                    t = self.later(t, rng.randint(60, 600))
                    self.plan_step_add(t)
            if callback and k == total // 2 and self.status not in ("resolved", "closed"):
                t = self.later(t, rng.randint(60, 600))
                t = self.callback_promise(t, pending=not done)
                callback = False
        if not done:
            while calls_left:
                t = self.later(t, rng.randint(10 * 60, 6 * HOUR))
                self.call(t, self.worker(), "outbound")
                calls_left -= 1
            if callback:
                t = self.later(t, rng.randint(60, 600))
                t = self.callback_promise(t, pending=True)
        # The last move, when the messages did not make it.
        if self.target in ACTIVE and self.status != self.target:
            t = self.later(t, rng.randint(10 * 60, 6 * HOUR))
            reason = "Waiting on the warehouse" if self.target == "waiting_department" else ""
            self.move(t, self.target, self.user(self.worker()), reason)
            self.save(t)
        if done and self.status not in ("resolved", "closed"):
            t = self.later(t, rng.randint(10 * 60, 6 * HOUR))
            self.move(t, "resolved", self.user(self.worker()), "")
            self.save(t)
        if self.target == "closed" and self.status != "closed":
            t = self.later(t, rng.randint(DAY, 7 * DAY))
            self.move(t, "closed", self.user(self.worker()), "")
            self.save(t)
        assert self.status == self.target, (iid, self.status, self.target)
        self.write_inquiry(category, priority)

    # service calls -------------------------------------------------------------------------------

    def username(self) -> str:
        return self.g["usernames"][self.assignee_id] if self.assignee_id else ""

    def fill(self, template: str) -> str:
        return template.format_map(_Slots(self))

    def body(self, kind: str, rep_id: int | None) -> str:
        rng = self.rng
        words = text.filler(rng, rng.randint(*FILLER_WORDS))
        if kind == "inbound":
            sentences = " ".join(self.fill(s) for s in rng.sample(text.INBOUND, rng.randint(1, 3)))
            greeting = rng.choice(text.GREETING_IN.get(self.clang, text.GREETING_IN["en"]))
            sign = self.cname if rng.random() < 0.5 else self.first_name
            return f"{greeting}\n\n{sentences} {words}\n\n{sign}".strip()
        if kind == "outbound":
            sentences = " ".join(self.fill(s) for s in rng.sample(text.OUTBOUND, rng.randint(1, 2)))
            greeting = text.GREETING_OUT.get(self.clang, text.GREETING_OUT["en"]).format(first=self.first_name)
            closing = text.CLOSING_OUT.get(self.clang, text.CLOSING_OUT["en"]).format(rep=self.g["fullnames"][rep_id])
            return f"{greeting}\n\n{sentences} {words}\n\n{closing}"
        return f"{self.fill(rng.choice(text.NOTES))} {words}"

    def message(self, t: float, kind: str, actor: tuple, *, first: bool = False, then_status: str | None = None):
        g, rng, iid = self.g, self.rng, self.iid
        mid = self.next_msg
        self.next_msg += 1
        user_id = actor[1]
        body = self.body(kind, user_id)
        subject = sender = to = received = email_id = in_reply = ""
        sent = None
        author_id = None
        author = self.cname[:200]
        if kind == "inbound":
            channel = self.channel if first or self.channel != "phone" else ("email" if self.cemail else "phone")
            if channel in ("email", "web"):
                sender = self.cemail
            if channel == "email":
                email_id = f"<{rng.getrandbits(64):016x}@{self.cemail.rpartition('@')[2] or 'mail.example'}>"
                in_reply = self.last_email_id
                subject = self.subject if first else f"Re: [INQ-{iid:06d}] {self.subject}"[:300]
            if channel == "letter":
                received = day_of(t - rng.randint(1, 5) * DAY).isoformat()
        else:
            author_id = user_id
            author = g["usernames"][user_id]
            channel = self.channel
            if kind == "outbound":
                if self.channel in ("email", "web") and self.cemail:
                    channel = "email"
                    to = self.cemail
                    email_id = f"<inq{iid}.m{mid}.{rng.getrandbits(32):08x}@desk.example>"
                    sent = t + rng.randint(1, 30)
                subject = f"[INQ-{iid:06d}] {self.subject}"[:300]
        if email_id:
            self.last_email_id = email_id
        self.w["inquiries_message"](
            f"{mid}\t{iid}\t{kind}\t{channel}\t{esc(subject)}\t{esc(body)}\t{author_id or NULL}\t{esc(author)}\t"
            f"{esc(sender)}\t{esc(to)}\t{received or NULL}\t{ts(t)}\t{esc(email_id)}\t{esc(in_reply)}\t"
            f"{opt_ts(sent)}\t\n"
        )
        if kind == "inbound":
            self.event(t, "message_in", actor, {"channel": channel}, message_id=mid)
            self.last_in = t
            self.message_count += 1
            self.last_message_id = mid
            if not first:  # message_receive
                self.response_due = t + RESPONSE_HOURS[self.priority] * HOUR
                old = self.status
                if old in ("resolved", "closed", "waiting_customer"):
                    self.status = "open"
                    if old in ("resolved", "closed"):
                        self.reopen_count += 1
                        self.resolved = self.closed = None
                        self.resolve_due = t + RESOLUTION_HOURS[self.priority] * HOUR
                    self.event(
                        t, "status_changed", actor, {"old": old, "new": "open", "reason": "The customer replied."}
                    )
                self.save(t)
        elif kind == "outbound":  # reply_send
            self.event(t, "message_out", actor, {"channel": channel, "template": ""}, message_id=mid)
            self.first_response = self.first_response or t
            self.last_out = t
            self.response_due = None
            self.message_count += 1
            self.last_message_id = mid
            if then_status and then_status != self.status:
                self.move(t, then_status, actor, "")
            elif self.status == "new":
                self.move(t, "open", actor, "")
            self.save(t)
        else:  # note_add
            self.event(t, "note", actor, {}, message_id=mid)
            self.save(t)

    def move(self, t: float, target: str, actor: tuple, reason: str) -> None:
        """work._move: the transition's side facts and its event (the caller saves)."""
        old = self.status
        self.status = target
        if target == "resolved":
            self.resolved = t
        elif target == "closed":
            self.closed = t
            self.resolved = self.resolved or t
        elif old in ("resolved", "closed"):
            self.reopen_count += 1
            self.resolved = self.closed = None
            self.resolve_due = t + RESOLUTION_HOURS[self.priority] * HOUR
        self.event(t, "status_changed", actor, {"old": old, "new": target, "reason": reason})

    def call(self, t: float, agent_id: int, direction: str, *, first: bool = False) -> None:
        """intake.call_log (without a callback: promises are made with callback_promise)."""
        rng = self.rng
        cid = self.next_call
        self.next_call += 1
        if self.target == "new":
            outcome = rng.choice(("no_answer", "voicemail"))
        elif first:
            outcome = rng.choices(("info_given", "resolved", "callback"), (70, 15, 15))[0]
        else:
            outcome = rng.choices(
                ("info_given", "resolved", "callback", "voicemail", "no_answer", "wrong_number"), (40, 5, 10, 20, 20, 5)
            )[0]
        duration = rng.randint(30, 1200) if outcome not in ("no_answer", "wrong_number") else rng.randint(0, 40)
        phone = self.cphone
        notes = self.fill(rng.choice(text.NOTES)) if rng.random() < 0.5 else ""
        name = self.g["usernames"][agent_id]
        self.w["inquiries_calllog"](
            f"{cid}\t{self.iid}\t{direction}\t{duration}\t{outcome}\t{esc(notes)}\t{esc(phone)}\t{ts(t)}\t"
            f"{agent_id}\t{name}\n"
        )
        actor = self.user(agent_id)
        self.event(t, "call", actor, {"direction": direction, "outcome": outcome, "duration": duration}, call_id=cid)
        if direction == "inbound":
            self.last_in = t
        if outcome in ("resolved", "info_given", "callback"):
            self.first_response = self.first_response or t
            self.response_due = None
        if self.status == "new":
            self.move(t, "open", actor, "")
        self.save(t)

    def callback_promise(self, t: float, *, pending: bool) -> float:
        rng, g = self.rng, self.g
        owner = self.worker()
        if pending:
            # Promised earlier for a time that is now anywhere from two days ago to two days ahead.
            due = max(t + HOUR, self.now + rng.uniform(-2 * DAY, 2 * DAY))
            due = min(due, t + 89 * DAY)
        else:
            due = t + rng.randint(HOUR, 2 * DAY)
        note = rng.choice(("", "After 5 pm", "Confirm the refund", "Check with the courier first"))
        actor = self.user(owner)
        self.w["inquiries_callback"](
            f"{self.iid}\t{ts(due)}\t{esc(self.cphone)}\t{note}\t{'pending' if pending else 'done'}\t{owner}\t"
            f"{g['usernames'][owner]}\t{ts(t)}\t{NULL if pending else ts(min(due, self.now))}\n"
        )
        self.event(t, "callback_promised", actor, {"due_at": iso(due), "note": note})
        self.save(t)
        if pending:
            self.pending_callbacks.append(due)
        else:
            done_at = self.later(t, due - t)
            self.event(done_at, "callback_done", actor, {"due_at": iso(due), "state": "done"})
            self.save(done_at)
            t = done_at
        return t

    def plan_step_add(self, t: float) -> None:
        rng, g = self.rng, self.g
        position = len(self.steps) + 1
        step_id = self.iid * 64 + position  # explicit and unique (a plan has at most 50 steps)
        owner = self.worker()
        due = day_of(t) + dt.timedelta(days=rng.randint(0, 7)) if rng.random() < 0.8 else None
        title = rng.choice(
            ("Ask the warehouse", "Refund the shipping fee", "Send a replacement", "Call the customer", "Close")
        )
        self.steps.append([step_id, due, None, title, owner, t])
        due_s = due.isoformat() if due else ""
        details = {"step": step_id, "title": title, "owner": g["usernames"][owner], "due": due_s}
        self.event(t, "plan_step_added", self.user(owner), details)
        self.save(t)

    def plan_step_done(self, t: float, step: list) -> None:
        step[2] = t
        self.event(t, "plan_step_done", self.user(step[4]), {"step": step[0], "title": step[3]})
        self.save(t)

    def remedy(self, t: float, category: str) -> float:
        rng = self.rng
        kind = rng.choice(("information", "credit", "gift", "extra_help"))
        amount = f"{rng.randint(5, 50)}.00" if kind in ("credit", "gift") else NULL
        currency = self.currency if amount != NULL else ""
        state = "accepted" if rng.random() < 0.7 else "declined"
        rep = self.user(self.worker())
        decided = self.later(t, rng.randint(HOUR, 2 * DAY))
        rid = self.iid * 4 + 1
        reason = f"Goodwill for the {category.replace('_', ' ')} problem"
        description = {"information": "Explained the delay", "extra_help": "Set up the device on a call"}.get(kind, "")
        note = "Thank you" if state == "accepted" else "Not interested"
        self.w["inquiries_remedy"](
            f"{rid}\t{self.iid}\t{kind}\t{state}\t{amount}\t{currency}\t{description}\t{reason}\t{rep[2]}\t{ts(t)}\t"
            f"{ts(decided)}\t{rep[2]}\t{note}\t\n"  # no approval: an empty approver's note
        )
        self.event(
            t,
            "remedy_proposed",
            rep,
            {
                "remedy": rid,
                "kind": kind,
                "amount": "" if amount == NULL else amount,
                "currency": currency,
                "description": description,
                "reason": reason,
                "order": "",
                "alternative_to": None,
            },
        )
        self.save(t)
        self.event(
            decided, "remedy_decided", rep, {"remedy": rid, "kind": kind, "state": state, "note": note, "outcome": {}}
        )
        self.save(decided)
        return decided

    # the inquiry row -----------------------------------------------------------------------------

    def write_inquiry(self, category: str, priority: int) -> None:
        for step_id, due, done_at, title, owner, added in self.steps:
            done_by = self.g["usernames"][owner] if done_at else ""
            self.w["inquiries_planstep"](
                f"{step_id}\t{self.iid}\t{step_id - self.iid * 64}\t{title}\t{owner}\t"
                f"{due.isoformat() if due else NULL}\t{opt_ts(done_at)}\t{done_by}\t{ts(added)}\n"
            )
        steps_total = len(self.steps)
        steps_done = sum(1 for s in self.steps if s[2] is not None)
        open_dues = [s[1] for s in self.steps if s[2] is None and s[1] is not None]
        next_step_due = min(open_dues) if open_dues else None
        next_callback = min(self.pending_callbacks) if self.pending_callbacks else None
        due = None
        if self.status in ACTIVE:  # _common.nearest_deadline
            candidates = [self.resolve_due, next_callback]
            if self.status != "waiting_customer":
                candidates.append(self.response_due)
            if next_step_due:
                candidates.append(end_of_day(next_step_due))
            present = [c for c in candidates if c is not None]
            due = min(present) if present else None
        self.w["inquiries_inquiry"](
            f"{self.iid}\t{esc(self.subject)}\t{self.channel}\t{category}\t{priority}\t{self.status}\t{self.tier}\t"
            f"{CATEGORY_SPECIALTY.get(category, '')}\t{ts(self.created)}\t{ts(self.updated)}\t{self.version}\t"
            f"{opt_ts(self.response_due)}\t{opt_ts(self.resolve_due)}\t{opt_ts(next_callback)}\t"
            f"{next_step_due.isoformat() if next_step_due else NULL}\t{opt_ts(due)}\t{opt_ts(self.first_response)}\t"
            f"{opt_ts(self.last_in)}\t{opt_ts(self.last_out)}\t{opt_ts(self.resolved)}\t{opt_ts(self.closed)}\t"
            f"{self.reopen_count}\t{self.message_count}\t{steps_total}\t{steps_done}\t{self.last_message_id}\t"
            f"{self.assignee_id or NULL}\t{self.customer_id}\t\t0\n"
        )


# --- workers -----------------------------------------------------------------------------------------


def load_chunk(bounds: tuple[int, int, int, int]) -> dict[str, float]:
    return timed_copy(generate_chunk, bounds, TABLES)


# --- the parent: what the chunks need, then the load -------------------------------------------------


def create_staff(rep_id: int) -> tuple[dict[int, list[int]], dict[int, str], dict[int, str]]:
    """The bench staff (``benchstaff-t<tier>-<n>``) with the ORM; Django is set up by create_user."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    User = get_user_model()
    rng = random.Random(4242)
    staff: dict[int, list[int]] = {1: [], 2: [], 3: [], 4: []}
    for tier, count in STAFF:
        for k in range(1, count + 1):
            first = rng.choice(("Asha", "Ben", "Carmen", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jomo"))
            last = rng.choice(("Rao", "Cruz", "Ahmed", "Smith", "Iyer", "Santos", "Khan", "Brown", "Das", "Lee"))
            user, created = User.objects.get_or_create(
                username=f"benchstaff-t{tier}-{k:02d}",
                defaults={"tier": tier, "first_name": first, "last_name": last, "email": f"staff{tier}{k}@example.com"},
            )
            if created:
                user.set_unusable_password()
                user.save()
            staff[tier].append(user.pk)
    users = User.objects.filter(pk__in=[rep_id, *(u for ids in staff.values() for u in ids)])
    usernames = {u.pk: u.username for u in users}
    fullnames = {u.pk: u.get_full_name() or u.username for u in users}
    connection.close()
    return staff, usernames, fullnames


def load_orders(cur) -> dict:
    """Orders sorted by placing time (id, customer, number, epoch) and the customers' contact facts."""
    buf = io.StringIO()
    cur.copy_expert(
        "COPY (SELECT id, customer_id, number, extract(epoch FROM placed_at) FROM orders_order ORDER BY placed_at, id)"
        " TO STDOUT",
        buf,
    )
    order_id, order_customer, order_number, order_placed = array("q"), array("q"), [], array("d")
    for line in buf.getvalue().splitlines():
        oid, cid, number, placed = line.split("\t")
        order_id.append(int(oid))
        order_customer.append(int(cid))
        order_number.append(number)
        order_placed.append(float(placed))
    del buf
    by_customer: dict[int, list[int]] = {}
    for k, cid in enumerate(order_customer):
        by_customer.setdefault(cid, []).append(k)
    cur.execute(
        "SELECT id, name, email, phone, preferred_language, preferred_channel, country FROM orders_customer ORDER BY id"
    )
    rows = cur.fetchall()
    customer = [None] * (rows[-1][0] + 1)
    for cid, *fields in rows:
        customer[cid] = tuple(fields)
    return {
        "order_id": order_id,
        "order_customer": order_customer,
        "order_number": order_number,
        "order_placed": order_placed,
        "customer_orders": by_customer,
        "customer": customer,
        "customers": len(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inquiries", type=int, default=1_000_000)
    parser.add_argument("--reset", action="store_true", help="empty the inquiry tables first")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("refusing to load benchmark data into a non-local database")
    n = args.inquiries

    t_start = time.perf_counter()
    migrate(url)
    rep_id = create_user(url)
    staff, usernames, fullnames = create_staff(rep_id)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM orders_order")
    if not cur.fetchone()[0]:
        sys.exit("no orders: run bench/generate.py first")
    cur.execute("SELECT count(*) FROM inquiries_inquiry")
    if cur.fetchone()[0]:
        if not args.reset:
            sys.exit("inquiries_inquiry is not empty: run with --reset to empty the inquiry tables first")
        cur.execute(
            "TRUNCATE inquiries_inquiry, inquiries_message, inquiries_calllog, inquiries_inquiryevent, "
            "inquiries_inquiryorder, inquiries_callback, inquiries_planstep, inquiries_remedy, "
            "inquiries_inquiry_tags, inquiries_attachment, inquiries_presence, inquiries_tag RESTART IDENTITY CASCADE"
        )
        print("emptied the inquiry tables")
    t_schema = time.perf_counter()
    print(f"schema and staff ready in {t_schema - t_start:.1f}s")

    indexes = secondary_indexes(cur, LOADED_TABLES)
    statistics = index_statistics(cur, indexes)  # set again once the indexes are back
    for _table, name, _definition in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    print(f"dropped {len(indexes)} secondary indexes for the load")

    cur.execute("INSERT INTO inquiries_tag (name) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", [TAGS])
    cur.execute("SELECT id FROM inquiries_tag WHERE name = ANY(%s) ORDER BY id", [TAGS])
    tag_ids = [r[0] for r in cur.fetchall()]

    t0 = time.perf_counter()
    facts = load_orders(cur)
    now = time.time()
    span = 2 * 365 * DAY
    status, tier, assignee, messages, calls = plan(n, args.seed, now, now - span, span, staff, rep_id)
    t1 = time.perf_counter()
    print(f"orders and customers read, {n:,} inquiries planned in {t1 - t0:.1f}s")
    _G.update(
        facts,
        n=n,
        now=now,
        start=now - span,
        span=span,
        seed=args.seed,
        rep_id=rep_id,
        staff=staff,
        usernames=usernames,
        fullnames=fullnames,
        tag_ids=tag_ids,
        status=status,
        tier=tier,
        assignee=assignee,
        messages=messages,
        calls=calls,
    )

    # Dense message and call ids: each chunk knows where its ids start.
    chunks = []
    msg_next = call_next = 1
    for a in range(1, n + 1, CHUNK):
        b = min(a + CHUNK - 1, n)
        chunks.append((a, b, msg_next, call_next))
        msg_next += sum(messages[a : b + 1])
        # calls per inquiry are not known before the replay (phone intakes add one): a block per chunk
        call_next += 3 * (b - a + 1)
    rows, _ = load_in_chunks(url, args.workers, load_chunk, chunks, TABLES, "inquiries")
    t2 = time.perf_counter()

    check_foreign_keys(cur, FOREIGN_KEYS)
    t3 = time.perf_counter()
    print(f"foreign keys checked in {t3 - t2:.1f}s")
    move_sequences(cur, LOADED_TABLES)

    rebuild_indexes(url, indexes, BIGGEST_FIRST, args.workers)
    for statement in statistics:
        cur.execute(statement)
    t4 = time.perf_counter()
    print(f"re-created {len(indexes)} indexes in {t4 - t3:.1f}s")

    cur.execute("VACUUM (ANALYZE) " + ", ".join(LOADED_TABLES))
    t_vacuum = time.perf_counter()
    print(f"VACUUM (ANALYZE) in {t_vacuum - t4:.1f}s")
    # What the nightly beat task keeps current: the vocabulary a word being typed is expanded from
    # (the same statement as inquiries.services.search_terms.search_terms_refresh).
    from inquiries.services.search_terms import _RECOUNT

    cur.execute(_RECOUNT)
    words = cur.rowcount
    cur.execute("ANALYZE inquiries_searchterm")
    t5 = time.perf_counter()
    print(f"search vocabulary: {words:,} words counted in {t5 - t_vacuum:.1f}s")
    cur.execute(
        "SELECT count(*) FROM inquiries_inquiry WHERE assignee_id = %s AND status = ANY(%s)", [rep_id, list(ACTIVE)]
    )
    mine = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM inquiries_inquiry WHERE status = ANY(%s)", [list(ACTIVE)])
    active = cur.fetchone()[0]
    cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
    size = cur.fetchone()[0]
    print(f"active inquiries: {active:,} ({active / n:.1%}); benchrep's active queue: {mine}")
    print(
        f"done: {n:,} inquiries, {rows:,} rows in {t5 - t_start:.1f}s total "
        f"(data load {t2 - t0:.1f}s = {rows / (t2 - t0):,.0f} rows/s; "
        f"{rows / (t5 - t_start):,.0f} rows/s end to end incl. migrate, indexes, vacuum); database {size}"
    )
    conn.close()


if __name__ == "__main__":
    main()
