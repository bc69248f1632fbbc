"""The supervisor's review queue at 1,000,000 inquiries and 100,000 open escalations (see
bench/README.md, "Escalation").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fd_bench .venv/bin/python bench/run_escalation.py --refill

Run ``bench/generate.py``, ``bench/generate_inquiries.py`` and ``manage.py migrate`` first.
Target (the escalation issue): with 1,000,000 inquiries and 100,000 open escalations, the review
queue p95 ≤ 100 ms (the page).

1. **Active inquiries.** ``--escalations`` (100,000) of them are escalated and ``--tier1-pool``
   (20,000, ``benchrep``'s queue first) stay at the rep tier: approval requests to the senior
   tier come from reps, who work only rep-tier inquiries. With fewer active inquiries than the
   two together, the newest resolved/closed ones are reopened (``run_targets.ensure_open``, the
   same reopening as the service-target bench, with a ``status_changed`` event each). Active
   inquiries without a service policy (reopened ones; the generator knows no policies) get
   their policy and deadlines from the real recompute (``rules_changed`` → ``recompute_run``,
   as ``run_targets.py`` fills them).
2. **Fill** (when the escalation table is empty, or ``--refill``: everything escalation-related
   in the bench database is deleted first — all escalations and rule firings, the remedies with
   an ``approval_tier``, the timeline events of the ladder and approval types; nothing else in
   this database writes them). Bulk SQL with ``COPY``, not the services; every row is what the
   services would have written:

   - **open escalations** on ``--escalations`` distinct active inquiries, to the senior /
     specialist / supervisor tier 50/30/20 % (1 in 10 to the specialist or supervisor skips a
     tier, with a reason), 15 % automatic (a rule fired, with its ``RuleFiring``), a specialty
     for the specialist tier from the category; 40 % unassigned in the tier's queue, 15 % sent
     to a named person, 45 % taken over. The inquiry's ``tier``, ``assignee``,
     ``tier_changed_at``, ``specialty_needed``, ``version`` and ``updated_at`` are set to
     match; ``escalated`` and ``taken_over`` events on its timeline;
   - **closed escalations** (``--history``, ~200,000) on resolved/closed inquiries whose tier is
     where the story ends: de-escalated, returned with coaching (the note on the row, the coached
     rep and the coach), escalated further then reassigned lower, with the time at each tier;
   - **pending approvals** (``--approvals``, ~5,000), to the senior / specialist / supervisor
     tier 50/30/20 %: a refund (of a linked order's paid balance) or a credit or gift above the
     proposer's limit, proposed by someone at the inquiry's tier below the approving one; the
     tier is checked with ``inquiries.services.remedies.approval_tier`` (the authority rule and
     the limits in the database); an ``approval_requested`` event each.

   Then ``VACUUM (ANALYZE)`` of the tables the pages read.
3. **Measure** (``--warmup`` then ``--runs`` each, p50/p95/max, time inside ``cursor.execute``,
   queries counted with ``CaptureQueriesContext``): for the senior, specialist and supervisor
   tier, all and unassigned only, ``escalation.selectors.review_queue(actor=<a user of that
   tier>, tier=…)`` first page and page 20 (the cursor from following ``next_cursor`` from page
   1), ``selectors.pending_approvals``; then the review page through ``django.test.Client``
   (``/escalation/review/``, ``?unassigned=1``, and page 20 when the page links a next page),
   logged in as a user of that tier, DEBUG off; and each tier's first page once more with the two
   selectors answered from memory (the template, middleware and session alone: where the rest
   of a page's time goes). EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the slowest
   selector scenario goes into the report.

Writes ``bench/results/escalation-latest.md`` and the SQL of one request per page scenario to
``bench/results/escalation-latest-queries.sql``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import random
import re
import statistics
import sys
import time
from decimal import Decimal
from html import unescape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # sets Django up, DEBUG off
import run_targets
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from generate import esc, jd, move_sequences
from measure import DbTimer, pct

from escalation import selectors, views
from escalation.enums import MANUAL_REASONS, Kind, Outcome, Reason
from escalation.models import EscalationRule
from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.pagination import keyset_page
from fulfillment.tiers import Tier
from inquiries.enums import CATEGORY_REMEDIES, CATEGORY_SPECIALTY, EventType, RemedyKind
from inquiries.services import remedies, targets

RESULTS = run.RESULTS
TARGET_MS = 100.0
ACTIVE_SQL = run_targets.ACTIVE_SQL
REVIEW_TIERS = (Tier.SENIOR_REP, Tier.SPECIALIST, Tier.SUPERVISOR)
#: Share of the open escalations (and of the approval requests) per tier reached.
TIER_SHARE = {Tier.SENIOR_REP: 50, Tier.SPECIALIST: 30, Tier.SUPERVISOR: 20}
LADDER_EVENTS = (
    EventType.ESCALATED,
    EventType.TAKEN_OVER,
    EventType.RETURNED,
    EventType.REASSIGNED,
    EventType.DE_ESCALATED,
    EventType.APPROVAL_REQUESTED,
    EventType.REMEDY_APPROVED,
    EventType.REMEDY_DENIED,
)
MINUTE, HOUR, DAY = 60, 3600, 86400

ESCALATION_COLUMNS = (
    "id, inquiry_id, kind, from_tier, to_tier, specialty, from_user_id, from_assignee_id, to_user_id, actor_kind,"
    " actor_name, reason, reason_text, tried, skip_reason, rule_id, customer_told, created_at, from_tier_seconds,"
    " taken_by_id, taken_at, outcome, closed_at, closed_by_name, outcome_tier, outcome_note, seconds_at_tier,"
    " coaching_note, coached_user_id, coach_id, notified_at, updated_at"
)
EVENT_COLUMNS = "inquiry_id, created_at, actor_kind, actor_user_id, actor_name, details, type, message_id, call_id"
FIRING_COLUMNS = "rule_id, inquiry_id, key, fired_at, escalation_id, moved, notified_at"
REMEDY_COLUMNS = (
    "id, inquiry_id, order_id, kind, state, amount, currency, description, reason, alternative_to_id,"
    " proposed_by_name, created_at, decided_at, decided_by_name, decision_note, replacement_order_id,"
    " refund_payment_id, proposed_by_id, approval_tier, requested_amount, approved_by_id, approval_decided_at,"
    " approval_note"
)
NULL = "\\N"

TRIED = (
    "Checked the order history and the carrier's tracking; the customer wants more than I can offer.",
    "Offered a credit within my limit; the customer declined and asked for a manager.",
    "Went through the troubleshooting guide twice; the fault persists after a reset.",
    "Called the warehouse: no stock for a replacement this week.",
    "Explained the return policy; the item is outside the window but the customer insists.",
    "Refunded the shipping fee; the customer still reports the parcel missing.",
)
REASON_TEXT = {
    Reason.OTHER: "Customer is a reseller with a contract question.",
    Reason.EXCEPTION: "Return window passed by four days.",
}
SKIP_REASON = "The senior reps cannot grant this; the customer has waited a week already."
COACHING = (
    "You had the authority for this one: a credit up to your limit would have closed it. Try that first next time.",
    "Good summary. Before escalating, check the carrier's claim page: it answers most lost-parcel questions.",
    "Please record what the customer already tried; I had to ask them again.",
    "This needed the returns team, not me: use the specialist queue with the returns specialty.",
)
NOTES = ("Refund sent, customer happy.", "Explained the exception; back to you for the follow-up.", "")
APPROVAL_REASONS = (
    "Parcel lost twice; the customer asks for the full amount back.",
    "Long-standing customer, third problem this month.",
    "Damaged on arrival and the replacement was late.",
)
#: Closed histories (share, chain, tier where it ends): each step is
#: (from tier, to tier, outcome, tier it went to when it closed).
HISTORIES = (
    (40, ((1, 2, Outcome.DE_ESCALATED, 1),), 1),
    (20, ((1, 2, Outcome.RETURNED, 1),), 1),
    (10, ((1, 3, Outcome.DE_ESCALATED, 1),), 1),
    (10, ((1, 2, Outcome.ESCALATED_FURTHER, 3), (2, 3, Outcome.REASSIGNED, 2)), 2),
    (10, ((1, 2, Outcome.ESCALATED_FURTHER, 3), (2, 3, Outcome.DE_ESCALATED, 2)), 2),
    (10, ((1, 2, Outcome.ESCALATED_FURTHER, 4), (2, 4, Outcome.RETURNED, 2)), 2),
)
OUTCOME_EVENT = {
    Outcome.RETURNED: EventType.RETURNED,
    Outcome.REASSIGNED: EventType.REASSIGNED,
    Outcome.DE_ESCALATED: EventType.DE_ESCALATED,
}
#: Amount bands of an approval request per approving tier (the seeded limits: rep 100/50,
#: senior 500/200, specialist 1000/500, supervisor none); checked against the database's limits.
BANDS = {
    RemedyKind.REFUND: {2: (101, 500), 3: (501, 1000), 4: (1001, 2500)},
    RemedyKind.CREDIT: {2: (51, 200), 3: (201, 500), 4: (501, 1500)},
    RemedyKind.GIFT: {2: (51, 200), 3: (201, 500), 4: (501, 1500)},
}

one = run_targets.one


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def ts(value) -> str:
    return value.isoformat() if value is not None else NULL


def opt(value) -> str:
    return NULL if value is None else str(value)


def secs(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


def tsv(*values) -> str:
    """One COPY line (values already escaped where they are text)."""
    return "\t".join(str(v) for v in values) + "\n"


def copy(cur, table: str, columns: str, lines: list[str]) -> None:
    buf = io.StringIO("".join(lines))
    cur.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buf)


def weighted(rng: random.Random, shares: dict):
    return rng.choices(list(shares), list(shares.values()))[0]


# --- 1. active inquiries --------------------------------------------------------------------------


class Staff:
    """The bench staff by tier (``benchstaff-t<tier>-<n>``, and ``benchrep``)."""

    def __init__(self):
        users = get_user_model().objects.filter(username__startswith="benchstaff-t").order_by("username")
        self.by_tier: dict[int, list[int]] = {t: [] for t in Tier.values}
        self.name: dict[int, str] = {}
        self.username: dict[int, str] = {}
        self.tier: dict[int, int] = {}
        self.rep = get_user_model().objects.get(username="benchrep")
        for user in [*users, self.rep]:
            self.by_tier[user.tier].append(user.pk)
            self.name[user.pk] = user.get_full_name() or user.username
            self.username[user.pk] = user.username
            self.tier[user.pk] = user.tier
        self.by_tier[Tier.REP].remove(self.rep.pk)  # the others share the work; benchrep has his queue
        if not all(self.by_tier[t] for t in Tier.values):
            sys.exit("no bench staff at every tier: run bench/generate_inquiries.py first")

    def pick(self, rng: random.Random, tier: int) -> int:
        return rng.choice(self.by_tier[tier])

    def first(self, tier: int):
        return get_user_model().objects.get(pk=self.by_tier[tier][0])


def deadlines_for_reopened() -> dict | None:
    """Active inquiries never given a service policy and deadlines (reopened by SQL; the generator
    knows no policies) get them from the real recompute."""
    missing = one(f"SELECT count(*) FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL} AND policy_id IS NULL")[0]
    if not missing:
        return None
    targets._enqueue = lambda job_id: None  # the job runs here; no message for a worker
    start = time.perf_counter()
    job = targets.rules_changed(actor=Actor.system("bench"), reason="bench (run_escalation.py): reopened inquiries")
    job = targets.recompute_run(job.pk)
    return {"missing": missing, "inquiries": job.done, "seconds": time.perf_counter() - start}


def choose(staff: Staff, escalations: int, pool: int) -> tuple[list[int], list[int], int]:
    """The rep-tier pool (benchrep's active inquiries, then other rep-tier ones) and the inquiries
    to escalate (the rest), each in a fixed pseudo-random order of ids: a refill picks the same.
    Also how many of the pool are benchrep's."""
    mine = [
        r[0]
        for r in rows(
            f"SELECT id FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL} AND assignee_id = %s ORDER BY id",
            [staff.rep.pk],
        )
    ]
    others = rows(
        f"SELECT id, tier FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL} AND assignee_id IS DISTINCT FROM %s"
        " ORDER BY (id * 2654435761) %% 4294967296, id",
        [staff.rep.pk],
    )
    rep_tier = [pk for pk, tier in others if tier == Tier.REP]
    chosen_pool = mine + rep_tier[: max(pool - len(mine), 0)]
    taken = set(chosen_pool)
    rest = [pk for pk, _tier in others if pk not in taken]
    if len(rest) < escalations:
        sys.exit(f"only {len(rest):,} active inquiries to escalate, {escalations:,} wanted")
    return chosen_pool, rest[:escalations], len(mine)


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


# --- 2. fill --------------------------------------------------------------------------------------


def clear() -> dict:
    """Everything escalation-related in the bench database (only this bench writes it there)."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM escalation_escalation")
        escalations = cur.fetchone()[0]
        cur.execute("TRUNCATE escalation_rulefiring, escalation_escalation RESTART IDENTITY")
        cur.execute("DELETE FROM inquiries_inquiryevent WHERE type = ANY(%s)", [list(LADDER_EVENTS)])
        events = cur.rowcount
        cur.execute("DELETE FROM inquiries_remedy WHERE approval_tier IS NOT NULL")
        approvals = cur.rowcount
    return {"escalations": escalations, "events": events, "approvals": approvals}


class Fill:
    """Rows for COPY, built in Python from a seeded generator."""

    def __init__(self, staff: Staff, seed: int):
        self.staff = staff
        self.rng = random.Random(seed)
        self.now = clock.now()
        self.escalations: list[str] = []
        self.events: list[str] = []
        self.firings: list[str] = []
        self.inquiries: list[str] = []  # id, tier, assignee, tier_changed_at, specialty, versions, updated_at
        self.next_id = 1
        self.rules = {r.trigger: r for r in EscalationRule.objects.all()}
        self.counts = {"open": 0, "unassigned": 0, "named": 0, "taken": 0, "automatic": 0, "skipped": 0, "closed": 0}
        self.by_tier = dict.fromkeys(REVIEW_TIERS, 0)
        self.unassigned_by_tier = dict.fromkeys(REVIEW_TIERS, 0)
        self.history_inquiries = 0
        self.coached = 0

    def event(self, inquiry: int, at, user: int | None, type_: str, details: dict, system: str = "") -> None:
        kind, name = ("system", system) if user is None else ("user", self.staff.username[user])
        self.events.append(f"{inquiry}\t{ts(at)}\t{kind}\t{opt(user)}\t{esc(name)}\t{jd(details)}\t{type_}\t\\N\t\\N\n")

    def who(self, user: int | None) -> str:
        return self.staff.name[user] if user else ""

    def escalation(self, **f) -> int:
        pk = self.next_id
        self.next_id += 1
        values = [
            pk,
            f["inquiry"],
            f.get("kind", Kind.MANUAL),
            f["from_tier"],
            f["to_tier"],
            f.get("specialty", ""),
            opt(f.get("from_user")),
            opt(f.get("from_assignee")),
            opt(f.get("to_user")),
            f.get("actor_kind", "user"),
            esc(f["actor_name"]),
            f["reason"],
            esc(f.get("reason_text", "")),
            esc(f.get("tried", "")),
            esc(f.get("skip_reason", "")),
            opt(f.get("rule")),
            "t" if f.get("customer_told") else "f",
            ts(f["at"]),
            f["from_tier_seconds"],
            opt(f.get("taken_by")),
            ts(f.get("taken_at")),
            f.get("outcome", ""),
            ts(f.get("closed_at")),
            esc(f.get("closed_by_name", "")),
            opt(f.get("outcome_tier")),
            esc(f.get("outcome_note", "")),
            opt(f.get("seconds_at_tier")),
            esc(f.get("coaching_note", "")),
            opt(f.get("coached_user")),
            opt(f.get("coach")),
            ts(f.get("at")),
            ts(f.get("closed_at") or f.get("taken_at") or f["at"]),
        ]
        self.escalations.append(tsv(*values))
        return pk

    def open_escalation(self, row: tuple) -> None:
        """One active inquiry sent up, still at the tier it reached."""
        pk, category, created, updated, reopen_count = row
        rng, staff, now = self.rng, self.staff, self.now
        to_tier = weighted(rng, TIER_SHARE)
        skip = to_tier >= Tier.SPECIALIST and rng.random() < 0.1
        from_tier = to_tier - 2 if skip else to_tier - 1
        lo = max(created + secs(5 * MINUTE), updated, now - secs(10 * DAY))
        hi = now - secs(MINUTE)
        at = lo + (hi - lo) * rng.random() if lo < hi else hi - secs(rng.uniform(0, HOUR))
        automatic = rng.random() < 0.15 and self.rules
        from_assignee = staff.pick(rng, from_tier) if rng.random() < 0.8 else None
        specialty = ""
        if to_tier == Tier.SPECIALIST:
            specialty = CATEGORY_SPECIALTY.get(category) or rng.choice(("billing", "technical", "shipping", "returns"))
        fields = {"inquiry": pk, "from_tier": from_tier, "to_tier": to_tier, "specialty": specialty, "at": at}
        fields["from_tier_seconds"] = int((at - created).total_seconds())
        fields["from_assignee"] = from_assignee
        details = {
            "from_tier": from_tier,
            "to_tier": to_tier,
            "from_assignee": self.who(from_assignee),
            "specialty": specialty,
        }
        to_user = taken_by = taken_at = None
        share = rng.random()
        if share < 0.15:
            to_user = staff.pick(rng, to_tier)
        elif share < 0.6:
            taken_by = staff.pick(rng, to_tier)
            taken_at = at + (min(at + secs(8 * HOUR), hi) - at) * rng.random()  # within 8 hours, before now
        if automatic:
            trigger = rng.choice([t for t in ("resolution_breached", "first_response_breached") if t in self.rules])
            rule = self.rules[trigger]
            name = f"rule: {rule.name}"
            fields.update(kind=Kind.AUTOMATIC, actor_kind="system", actor_name=name, reason=Reason.AUTOMATIC)
            fields.update(rule=rule.pk, reason_text=f"Rule “{rule.name}”: {rule.get_trigger_display()}.")
            actor_user = None
            self.counts["automatic"] += 1
        else:
            reason = rng.choice(MANUAL_REASONS)
            actor_user = from_assignee or staff.pick(rng, from_tier)
            fields.update(actor_name=staff.username[actor_user], from_user=actor_user, reason=reason)
            fields.update(reason_text=REASON_TEXT.get(reason, ""), tried=rng.choice(TRIED))
            fields["customer_told"] = rng.random() < 0.3
            if skip:
                fields["skip_reason"] = SKIP_REASON
        if skip:
            self.counts["skipped"] += 1
        fields.update(to_user=to_user, taken_by=taken_by, taken_at=taken_at)
        esc_id = self.escalation(**fields)
        details.update(
            escalation=esc_id,
            to_user=self.who(to_user),
            reason=fields["reason"],
            reason_text=fields.get("reason_text", ""),
            tried=fields.get("tried", ""),
            skip_reason=fields.get("skip_reason", ""),
            rule=self.rules[trigger].name if automatic else "",
            customer_told=bool(fields.get("customer_told")),
        )
        self.event(pk, at, actor_user, EventType.ESCALATED, details, system=fields["actor_name"])
        if automatic:
            key = "first_response" if trigger == "first_response_breached" else f"resolution:{reopen_count}"
            self.firings.append(f"{rule.pk}\t{pk}\t{key}\t{ts(at)}\t{esc_id}\tt\t{ts(at)}\n")
        versions, changed, assignee = 1, at, to_user
        if taken_by:
            tdetails = {"escalation": esc_id, "tier": to_tier, "old": "", "new": self.who(taken_by)}
            self.event(pk, taken_at, taken_by, EventType.TAKEN_OVER, tdetails)
            versions, changed, assignee = 2, taken_at, taken_by
        self.inquiries.append(f"{pk}\t{to_tier}\t{opt(assignee)}\t{ts(at)}\t{specialty}\t{versions}\t{ts(changed)}\n")
        self.counts["open"] += 1
        self.by_tier[to_tier] += 1
        key = "unassigned" if assignee is None else ("named" if to_user else "taken")
        self.counts[key] += 1
        if assignee is None:
            self.unassigned_by_tier[to_tier] += 1

    def history(self, row: tuple, chain: tuple) -> dt.datetime:
        """A resolved or closed inquiry's climb and return, within its life; returns the last move."""
        pk, category, created, end = row
        rng, staff = self.rng, self.staff
        span = max((end - created).total_seconds(), 4 * HOUR)
        marks = sorted(rng.uniform(0.05, 0.95) for _ in range(len(chain) + 1))
        times = [created + secs(int(span * m)) for m in marks]
        previous_at, assignee = created, staff.pick(rng, Tier.REP)
        for k, (from_tier, to_tier, outcome, went_to) in enumerate(chain):
            at, closed = times[k], times[k + 1]
            reason = rng.choice(MANUAL_REASONS)
            actor_user = assignee if staff.tier[assignee] == from_tier else staff.pick(rng, from_tier)
            specialty = ""
            if to_tier == Tier.SPECIALIST:
                specialty = CATEGORY_SPECIALTY.get(category) or "billing"
            taken_by = staff.pick(rng, to_tier)
            fields = {
                "inquiry": pk,
                "from_tier": from_tier,
                "to_tier": to_tier,
                "specialty": specialty,
                "at": at,
                "from_tier_seconds": int((at - previous_at).total_seconds()),
                "from_user": actor_user,
                "from_assignee": assignee,
                "actor_name": staff.username[actor_user],
                "reason": reason,
                "reason_text": REASON_TEXT.get(reason, ""),
                "tried": rng.choice(TRIED),
                "skip_reason": SKIP_REASON if to_tier - from_tier > 1 else "",
                "taken_by": taken_by,
                "taken_at": at + (closed - at) / 10,
                "outcome": outcome,
                "closed_at": closed,
                "outcome_tier": went_to,
                "seconds_at_tier": int((closed - at).total_seconds()),
            }
            closer = taken_by if outcome != Outcome.ESCALATED_FURTHER else staff.pick(rng, to_tier)
            back_to = actor_user if staff.tier[actor_user] == went_to else None
            if outcome != Outcome.ESCALATED_FURTHER:
                fields["closed_by_name"] = staff.username[closer]
                fields["outcome_note"] = rng.choice(NOTES) if outcome != Outcome.RETURNED else ""
            if outcome == Outcome.RETURNED:
                fields.update(coaching_note=rng.choice(COACHING), coached_user=actor_user, coach=closer)
                self.coached += 1
            esc_id = self.escalation(**fields)
            details = {
                "escalation": esc_id,
                "from_tier": from_tier,
                "to_tier": to_tier,
                "to_user": "",
                "from_assignee": self.who(assignee),
                "specialty": specialty,
                "reason": reason,
                "reason_text": fields["reason_text"],
                "tried": fields["tried"],
                "skip_reason": fields["skip_reason"],
                "rule": "",
                "customer_told": False,
            }
            self.event(pk, at, actor_user, EventType.ESCALATED, details)
            taken = {"escalation": esc_id, "tier": to_tier, "old": "", "new": self.who(taken_by)}
            self.event(pk, fields["taken_at"], taken_by, EventType.TAKEN_OVER, taken)
            if outcome != Outcome.ESCALATED_FURTHER:
                self.event(
                    pk,
                    closed,
                    closer,
                    OUTCOME_EVENT[outcome],
                    {
                        "escalation": esc_id,
                        "from_tier": to_tier,
                        "to_tier": went_to,
                        "to_user": self.who(back_to),
                        "from_assignee": self.who(taken_by),
                        "specialty": "",
                        "note": fields.get("outcome_note", ""),
                        "coached": self.who(actor_user) if outcome == Outcome.RETURNED else "",
                    },
                )
            previous_at, assignee = at, taken_by
            self.counts["closed"] += 1
        self.history_inquiries += 1
        return times[-1]


def fill_escalations(fill: Fill, escalate: list[int], history: int) -> dict:
    """Open escalations on ``escalate``, closed ones on resolved/closed inquiries; inquiry rows to
    match. One transaction."""
    start = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, category, created_at, updated_at, reopen_count FROM inquiries_inquiry WHERE id = ANY(%s)",
            [escalate],
        )
        found = {r[0]: r for r in cur.fetchall()}
    for pk in escalate:
        fill.open_escalation(found[pk])
    # Closed histories: resolved/closed inquiries whose tier is where the chain ends.
    weights = [w for w, _c, _t in HISTORIES]
    plans = [HISTORIES[k] for k in fill.rng.choices(range(len(HISTORIES)), weights, k=history)]
    wanted: dict[int, list] = {}
    steps = 0
    for plan in plans:
        wanted.setdefault(plan[2], []).append(plan[1])
        steps += len(plan[1])
        if steps >= history:
            break
    ends: list[tuple[int, object]] = []
    for tier, chains in sorted(wanted.items()):
        candidates = rows(
            "SELECT id, category, created_at, coalesce(resolved_at, closed_at, updated_at) FROM inquiries_inquiry"
            " WHERE status IN ('resolved', 'closed') AND tier = %s"
            " ORDER BY (id * 2654435761) %% 4294967296, id LIMIT %s",
            [tier, len(chains)],
        )
        if len(candidates) < len(chains):
            sys.exit(f"only {len(candidates):,} resolved/closed inquiries at tier {tier}, {len(chains):,} wanted")
        for row, chain in zip(candidates, chains, strict=True):
            ends.append((row[0], fill.history(row, chain)))
    generated = time.perf_counter() - start
    with transaction.atomic(), connection.cursor() as cur:
        copy(cur, "escalation_escalation", ESCALATION_COLUMNS, fill.escalations)
        copy(cur, "escalation_rulefiring", FIRING_COLUMNS, fill.firings)
        copy(cur, "inquiries_inquiryevent", EVENT_COLUMNS, fill.events)
        move_sequences(cur, ["escalation_escalation"])
        cur.execute(
            "CREATE TEMP TABLE bench_moved (id bigint PRIMARY KEY, tier smallint, assignee_id bigint,"
            " tier_changed_at timestamptz, specialty text, versions int, changed timestamptz) ON COMMIT DROP"
        )
        copy(cur, "bench_moved", "id, tier, assignee_id, tier_changed_at, specialty, versions, changed", fill.inquiries)
        cur.execute(
            "UPDATE inquiries_inquiry i SET tier = m.tier, assignee_id = m.assignee_id,"
            " tier_changed_at = m.tier_changed_at,"
            " specialty_needed = CASE WHEN m.specialty <> '' THEN m.specialty ELSE i.specialty_needed END,"
            " version = i.version + m.versions, updated_at = greatest(i.updated_at, m.changed)"
            " FROM bench_moved m WHERE i.id = m.id"
        )
        moved = cur.rowcount
        cur.execute("CREATE TEMP TABLE bench_history (id bigint PRIMARY KEY, at timestamptz) ON COMMIT DROP")
        copy(cur, "bench_history", "id, at", [f"{pk}\t{ts(at)}\n" for pk, at in ends])
        cur.execute("UPDATE inquiries_inquiry i SET tier_changed_at = h.at FROM bench_history h WHERE i.id = h.id")
    return {
        "generate_seconds": generated,
        "seconds": time.perf_counter() - start,
        "escalations": len(fill.escalations),
        "events": len(fill.events),
        "firings": len(fill.firings),
        "inquiries_moved": moved,
        "history_inquiries": fill.history_inquiries,
    }


def fill_approvals(fill: Fill, count: int) -> dict:
    """Pending approval requests on active inquiries below the approving tier, one per inquiry."""
    start = time.perf_counter()
    rng, staff = random.Random(fill.rng.random()), fill.staff
    limits = remedies._limits()
    active = rows(
        f"SELECT id, tier, category, assignee_id, updated_at FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL}"
        " ORDER BY (id * 2246822519) %% 4294967296, id"
    )
    linked = {}
    for inquiry_id, order_id, number, currency, balance in rows(
        "SELECT l.inquiry_id, o.id, o.number, o.currency, o.paid_amount - o.refunded_amount"
        " FROM inquiries_inquiryorder l JOIN orders_order o ON o.id = l.order_id"
        f" JOIN inquiries_inquiry i ON i.id = l.inquiry_id WHERE i.status IN {ACTIVE_SQL}"
    ):
        if inquiry_id not in linked or balance > linked[inquiry_id][3]:
            linked[inquiry_id] = (order_id, number, currency, balance)
    below = {t: [r for r in active if r[1] < t] for t in REVIEW_TIERS}
    used: set[int] = set()
    proposed: dict[int, dt.datetime] = {}
    next_id = one("SELECT coalesce(max(id), 0) + 1 FROM inquiries_remedy")[0]
    remedy_rows, events = [], []
    by_tier = dict.fromkeys(REVIEW_TIERS, 0)
    kinds: dict[str, int] = {}
    wanted = {t: count * share // 100 for t, share in TIER_SHARE.items()}
    for tier, n in wanted.items():
        for pk, inquiry_tier, category, assignee, updated in below[tier]:
            if by_tier[tier] >= n:
                break
            if pk in used:
                continue
            offered = [k for k in CATEGORY_REMEDIES.get(category, ()) if k in BANDS]
            order = linked.get(pk)
            lo, hi = BANDS[RemedyKind.REFUND][tier]
            if RemedyKind.REFUND in offered and order and order[3] >= lo and rng.random() < 0.6:
                kind, amount = RemedyKind.REFUND, Decimal(rng.randint(lo, min(hi, int(order[3]))))
            else:
                gifts = [k for k in offered if k != RemedyKind.REFUND]
                if not gifts:
                    continue
                kind = rng.choice(gifts)
                lo, hi = BANDS[kind][tier]
                amount, order = Decimal(rng.randint(lo, hi)), None
            if remedies.approval_tier(kind, amount, limits=limits) != tier:
                sys.exit(f"{kind} of {amount} does not need the {Tier(tier).label} tier: the limits changed?")
            proposer = assignee if assignee and staff.tier.get(assignee) == inquiry_tier else None
            proposer = proposer or staff.pick(rng, inquiry_tier)
            at = updated + (min(updated + secs(2 * DAY), fill.now) - updated) * rng.random()  # before now
            currency = order[2] if order else settings.FD_DEFAULT_CURRENCY
            reason = rng.choice(APPROVAL_REASONS)
            order_id = order[0] if order else None
            remedy_rows.append(
                tsv(next_id, pk, opt(order_id), kind, "pending_approval", amount, currency, "", esc(reason), NULL,
                    staff.username[proposer], ts(at), NULL, "", "", NULL, NULL, proposer, tier, NULL, NULL, NULL, "")
            )  # fmt: skip
            details = {
                "remedy": next_id,
                "kind": kind,
                "amount": str(amount),
                "currency": currency,
                "description": "",
                "reason": reason,
                "order": order[1] if order else "",
                "tier": tier,
            }
            user = staff.username[proposer]
            events.append(
                f"{pk}\t{ts(at)}\tuser\t{proposer}\t{user}\t{jd(details)}\t{EventType.APPROVAL_REQUESTED}\t\\N\t\\N\n"
            )
            used.add(pk)
            proposed[pk] = at
            next_id += 1
            by_tier[tier] += 1
            kinds[kind] = kinds.get(kind, 0) + 1
        if by_tier[tier] < n:
            sys.exit(f"only {by_tier[tier]:,} approval requests for the {Tier(tier).label} tier, {n:,} wanted")
    with transaction.atomic(), connection.cursor() as cur:
        copy(cur, "inquiries_remedy", REMEDY_COLUMNS, remedy_rows)
        copy(cur, "inquiries_inquiryevent", EVENT_COLUMNS, events)
        move_sequences(cur, ["inquiries_remedy"])
        # remedy_propose saves the inquiry: version and updated_at move on
        cur.execute(
            "UPDATE inquiries_inquiry i SET version = i.version + 1, updated_at = greatest(i.updated_at, v.at)"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) v(id, at) WHERE i.id = v.id",
            [list(proposed), list(proposed.values())],
        )
    return {"approvals": len(remedy_rows), "by_tier": by_tier, "kinds": kinds, "seconds": time.perf_counter() - start}


def vacuum() -> float:
    """VACUUM (ANALYZE) of the tables the measured pages read, as generate.py leaves its tables:
    statistics, and the dead rows of the fill's (and a refill's) updates gone, as on a database
    that has been running for a while. The timeline's events are only written here, not read."""
    start = time.perf_counter()
    with connection.cursor() as cur:
        for table in ("escalation_escalation", "escalation_rulefiring", "inquiries_remedy", "inquiries_inquiry"):
            cur.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - start


# --- 3. measure -----------------------------------------------------------------------------------


def view_setting(name: str, default: int) -> int:
    """A size the review views use (``escalation.views``), or ``default`` in code without it."""
    return getattr(views, name, default)


def page_of(user, tier: int, unassigned: bool, pages: int, size: int) -> tuple[bool, str | None]:
    """The cursor of page ``pages`` (1: None), by following ``next_cursor``; False when the
    queue has fewer pages."""
    cursor = None
    for _ in range(pages - 1):
        page = selectors.review_queue(actor=user, tier=tier, unassigned=unassigned, cursor=cursor, size=size)
        if not page.next_cursor:
            return False, None
        cursor = page.next_cursor
    return True, cursor


def approvals_cursor(user, tier: int, pages: int) -> tuple[bool, str | None]:
    """``page_of`` for the approvals list."""
    cursor = None
    for _ in range(pages - 1):
        cursor = approvals_page(user, tier, cursor).next_cursor
        if not cursor:
            return False, None
    return True, cursor


def approvals_page(user, tier: int, cursor: str | None):
    """The approvals list page's query, as ``escalation.views.approvals`` pages it."""
    queryset = selectors.approval_requests(actor=user, tier=tier)
    return keyset_page(queryset, cursor=cursor, size=settings.FD_PAGE_SIZE, key="created_at", ascending=True)


def time_call(call, args) -> dict:
    """``call()`` after ``args.warmup`` warm-up calls, ``args.runs`` timed, queries counted once."""
    with CaptureQueriesContext(connection) as ctx:
        result = call()
    for _ in range(args.warmup):
        call()
    times, db_times = [], []
    for _ in range(args.runs):
        timer = DbTimer()
        with connection.execute_wrapper(timer):
            start = time.perf_counter()
            call()
            elapsed = time.perf_counter() - start
        times.append(elapsed * 1000)
        db_times.append(timer.seconds * 1000)
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": pct(times, 95),
        "max": max(times),
        "db_p50": statistics.median(db_times),
        "db_p95": pct(db_times, 95),
        "queries": len(ctx.captured_queries),
        "sql": ctx.captured_queries,
        "result": result,
    }


def brief(r: dict) -> str:
    return f"p50={r['p50']:6.1f} p95={r['p95']:6.1f} max={r['max']:6.1f} queries={r['queries']}"


def queue_size(tier: int, unassigned: bool) -> int:
    sql = f"SELECT count(*) FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL} AND tier = %s"
    return one(sql + (" AND assignee_id IS NULL" if unassigned else ""), [tier])[0]


def measure_selectors(users: dict, args) -> list[dict]:
    """What the review views call, with their sizes: ``review_queue`` (first page and page N, all
    and unassigned), ``pending_approvals`` (the review page's few) and, where the code has it, the
    approvals list's ``approval_requests`` page (first and page N)."""
    results = []
    size = view_setting("REVIEW_PAGE_SIZE", settings.FD_PAGE_SIZE)
    limit = view_setting("REVIEW_APPROVALS", 49) + 1
    deep = (("first page", 1), (f"page {args.deep_pages}", args.deep_pages))

    def timed(call, **fields) -> None:
        r = time_call(call, args)
        result = r.pop("result")
        r.update(rows=len(getattr(result, "items", result)), **fields)
        results.append(r)
        log(f"{r['what']} t{r['tier']} {r['queue']:10} {r['page']:10} {brief(r)}")

    for tier in REVIEW_TIERS:
        user = users[tier]
        for unassigned in (False, True):
            queue = "unassigned" if unassigned else "all"
            for label, pages in deep:
                found, cursor = page_of(user, tier, unassigned, pages, size)
                if not found:
                    log(f"review_queue t{tier} {queue}: fewer than {pages} pages")
                    continue
                timed(
                    lambda c=cursor, t=tier, u=unassigned, user=user: selectors.review_queue(
                        actor=user, tier=t, unassigned=u, cursor=c, size=size
                    ),
                    what="review_queue",
                    page=label,
                    tier=tier,
                    queue=queue,
                    matching=queue_size(tier, unassigned),
                )
        pending = one(
            "SELECT count(*) FROM inquiries_remedy WHERE state = 'pending_approval' AND approval_tier <= %s", [tier]
        )[0]
        timed(
            lambda user=user, t=tier: selectors.pending_approvals(actor=user, tier=t, limit=limit),
            what="pending_approvals",
            page=f"first {limit}",
            tier=tier,
            queue="approvals",
            matching=pending,
        )
        if not hasattr(selectors, "approval_requests"):
            continue
        for label, pages in deep:
            found, cursor = approvals_cursor(user, tier, pages)
            if not found:
                log(f"approval_requests t{tier}: fewer than {pages} pages")
                continue
            timed(
                lambda c=cursor, user=user, t=tier: approvals_page(user, t, c),
                what="approval_requests",
                page=label,
                tier=tier,
                queue="approvals",
                matching=pending,
            )
    return results


def url_of(name: str) -> str | None:
    try:
        return reverse(f"escalation:{name}")
    except NoReverseMatch:
        return None


def next_link(html: str) -> str | None:
    for match in re.finditer(r"<a\b[^>]*>", html):
        tag = match.group(0)
        if 'rel="next"' in tag and "cursor=" in tag:
            href = re.search(r'href="([^"]+)"', tag)
            return unescape(href.group(1)) if href else None
    return None


def measure_pages(users: dict, args) -> tuple[list[dict], list[str]]:
    """The review page (all, unassigned) and the approvals list through the whole stack, first
    page and page N (following the pages' own "next" links), as bench/run.py times its pages."""
    pages = [("review", "all", ""), ("review", "unassigned", "?unassigned=1"), ("approvals", "approvals", "")]
    results, sql = [], []
    for tier in REVIEW_TIERS:
        client = Client()
        client.force_login(users[tier])
        for name, queue, query in pages:
            base = url_of(name)
            if base is None:
                continue
            url = base + query
            scenarios = [("first page", url)]
            deep, followed = url, 0
            for _ in range(args.deep_pages - 1):
                link = next_link(client.get(deep).content.decode())
                if not link:
                    break
                deep = link if link.startswith("/") else base + link
                followed += 1
            if followed == args.deep_pages - 1:
                scenarios.append((f"page {args.deep_pages}", deep))
            for label, page_url in scenarios:
                key = f"{name}_t{tier}_{queue}_{label.replace(' ', '')}"
                row, text = run.time_scenario(client, key, label, lambda i, u=page_url: u, args)
                row.update(tier=tier, queue=queue, page=label, url=page_url)
                results.append(row)
                sql.append(text)
    return results, sql


class CachedSelectors:
    """The review page with its selectors' answers kept from the first request: what is left is
    the template, the middleware and the session (where a page's time goes when SQL is not it)."""

    NAMES = ("pending_approvals", "review_queue")

    def __enter__(self):
        self.saved = {name: getattr(selectors, name) for name in self.NAMES}
        for name, original in self.saved.items():
            answers = {}

            def cached(original=original, answers=answers, **kwargs):
                if "answer" not in answers:
                    answers["answer"] = original(**kwargs)
                return answers["answer"]

            setattr(selectors, name, cached)
        return self

    def __exit__(self, *exc):
        for name, original in self.saved.items():
            setattr(selectors, name, original)


def measure_render(users: dict, args) -> list[dict]:
    """The first review page of each tier again, its two selectors answered from memory."""
    base = url_of("review")
    results = []
    if base is None:
        return results
    for tier in REVIEW_TIERS:
        client = Client()
        client.force_login(users[tier])
        with CachedSelectors():
            key = f"render_t{tier}"
            row, _sql = run.time_scenario(client, key, "render", lambda i: base, args)
        row.update(tier=tier, queue="all", page="first page, selectors answered from memory", url=base)
        results.append(row)
    return results


def explain_slowest(results: list[dict]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the selector scenario with the worst p95."""
    worst = max(results, key=lambda r: r["p95"])
    query = max(worst["sql"], key=lambda q: float(q["time"]))
    head = (
        f"-- {worst['what']}, tier {worst['tier']}, {worst['queue']}, {worst['page']}"
        f" (p95 {worst['p95']:.1f} ms; this statement {float(query['time']) * 1000:.1f} ms when captured)\n"
    )
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
        plan = "\n".join(r[0] for r in cur.fetchall())
    return head + query["sql"] + ";\n\n" + plan


# --- report ---------------------------------------------------------------------------------------


def counts() -> dict:
    return {
        "inquiries": one("SELECT count(*) FROM inquiries_inquiry")[0],
        "active": one(f"SELECT count(*) FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL}")[0],
        "active_by_tier": dict(
            rows(f"SELECT tier, count(*) FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL} GROUP BY tier")
        ),
        "open_escalations": one("SELECT count(*) FROM escalation_escalation WHERE closed_at IS NULL")[0],
        "closed_escalations": one("SELECT count(*) FROM escalation_escalation WHERE closed_at IS NOT NULL")[0],
        "open_on_active": one(
            "SELECT count(*) FROM escalation_escalation e JOIN inquiries_inquiry i ON i.id = e.inquiry_id"
            f" WHERE e.closed_at IS NULL AND i.status IN {ACTIVE_SQL} AND i.tier = e.to_tier"
        )[0],
        "pending": dict(
            rows("SELECT approval_tier, count(*) FROM inquiries_remedy WHERE state = 'pending_approval' GROUP BY 1")
        ),
        "events": one("SELECT count(*) FROM inquiries_inquiryevent")[0],
        "size": one("SELECT pg_size_pretty(pg_database_size(current_database()))")[0],
    }


def render(info: dict, pages: list[dict], args) -> str:
    c = info["counts"]
    tiers = ", ".join(f"{Tier(t).label.lower()} {n:,}" for t, n in sorted(c["active_by_tier"].items()))
    pending = ", ".join(f"{Tier(t).label.lower()} {n:,}" for t, n in sorted(c["pending"].items()))
    users = ", ".join(f"{Tier(t).label.lower()} `{u.username}`" for t, u in info["users"].items())
    title = (
        f"## Escalation benchmark — review queue at {c['inquiries']:,} inquiries and"
        f" {c['open_escalations']:,} open escalations"
    )
    lines = run.report_header(title, info, args, who=f"; users: {users} (each looks at their own tier's queue)")
    lines[3:3] = [
        f"- Command: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/{info['database']} "
        f".venv/bin/python bench/run_escalation.py{info['argv']}`",
    ]
    lines[-2:-1] = [
        f"- Escalation data: inquiries {c['inquiries']:,} ({c['active']:,} active: {tiers}); escalations open"
        f" {c['open_escalations']:,} ({c['open_on_active']:,} on an active inquiry at the tier they reached), closed"
        f" {c['closed_escalations']:,}; approval requests pending {sum(c['pending'].values()):,} ({pending});"
        f" timeline events {c['events']:,}; database {c['size']} after the fill",
        f"- Each scenario: {args.warmup} warm-up calls or requests, then {args.runs} timed (pages: at most"
        f" {args.max_seconds:.0f} s); times in ms",
    ]
    o = info["open"]
    lines += ["### Data", ""]
    lines.append(f"- Active inquiries at the start: {o['open_before']:,}.")
    if o["reopened"]:
        lo, hi = o["reopened_ids"]
        lines.append(
            f"- Fewer than {args.escalations + args.tier1_pool:,} ({args.escalations:,} to escalate + a rep-tier pool"
            f" of {args.tier1_pool:,}): **reopened {o['reopened']:,}** of the newest resolved/closed inquiries (ids"
            f" {lo:,}–{hi:,}) with `run_targets.ensure_open` (status `open`, a `status_changed` event each,"
            f" {o['reopen_seconds']:.1f} s)."
        )
    elif o["reopened_before"]:
        lines.append(
            f"- {o['reopened_before']:,} of them were reopened earlier by `run_targets.ensure_open` (this bench or"
            " the service-target bench): the generator leaves about 80,000 active."
        )
    d = info.get("deadlines")
    if d:
        lines.append(
            f"- {d['missing']:,} active inquiries had no service policy yet: `rules_changed` → `recompute_run` over"
            f" {d['inquiries']:,} active inquiries in {d['seconds']:.1f} s."
        )
    f = info.get("fill")
    if f:
        cl = f.get("cleared")
        if cl:
            lines.append(
                f"- `--refill`: deleted {cl['escalations']:,} escalations (and their rule firings), {cl['events']:,}"
                f" ladder and approval events and {cl['approvals']:,} approval requests first."
            )
        k = f["counts"]
        lines += [
            f"- Open escalations: **{k['open']:,}** on distinct active inquiries — "
            + ", ".join(
                f"{Tier(t).label.lower()} {n:,} ({f['unassigned_by_tier'][t]:,} unassigned)"
                for t, n in f["by_tier"].items()
            )
            + f"; {k['unassigned']:,} unassigned, {k['named']:,} sent to a named person, {k['taken']:,} taken over;"
            f" {k['automatic']:,} automatic (with their rule firings), {k['skipped']:,} skipped a tier.",
            f"- Closed escalations: **{k['closed']:,}** on {f['history_inquiries']:,} resolved/closed inquiries"
            f" ({f['coached']:,} returned with a coaching note).",
            f"- Approval requests: **{f['approvals']['approvals']:,}** pending — "
            + ", ".join(f"{Tier(t).label.lower()} {n:,}" for t, n in f["approvals"]["by_tier"].items())
            + " ("
            + ", ".join(f"{kind} {n:,}" for kind, n in sorted(f["approvals"]["kinds"].items()))
            + ").",
            f"- Rep-tier pool left active: {info['pool']:,} inquiries (benchrep's {info['mine']:,} first).",
            f"- Fill: {f['escalations']:,} escalations, {f['events']:,} timeline events, {f['inquiries_moved']:,}"
            f" inquiry rows updated in {f['seconds']:.1f} s (rows built in Python in {f['generate_seconds']:.1f} s);"
            f" approvals {f['approvals']['seconds']:.1f} s; VACUUM (ANALYZE) {f['vacuum_seconds']:.1f} s.",
        ]
    else:
        lines.append("- No fill: the escalations of an earlier run were measured (`--refill` to write them again).")
    lines.append("")

    s = info["selectors"]
    lines += [
        "### Selectors",
        "",
        "As the review views call them: `escalation.selectors.review_queue(actor=…, tier=…, unassigned=…,"
        f" cursor=…, size={view_setting('REVIEW_PAGE_SIZE', settings.FD_PAGE_SIZE)})` (rows carry"
        " `open_escalation`), `pending_approvals(actor=…, tier=…, limit=…)` (the review page's longest-waiting"
        " requests) and the approvals list's page (`approval_requests` through `keyset_page`, size"
        f" {settings.FD_PAGE_SIZE}); {args.warmup} warm-up calls, then {args.runs} timed. Page {args.deep_pages}:"
        " the cursor from following `next_cursor` from page 1. Queries: per call, `CaptureQueriesContext`.",
        "",
        "| selector | tier | queue | page | in queue | rows | queries | p50 ms | p95 ms | max ms | SQL ms p50 |"
        " SQL ms p95 |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in s:
        lines.append(
            f"| `{r['what']}` | {Tier(r['tier']).label} | {r['queue']} | {r['page']} | {r['matching']:,} |"
            f" {r['rows']} | {r['queries']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['db_p50']:.1f} | "
            f"{r['db_p95']:.1f} |"
        )
    lines.append("")
    lines += ["### The review pages", ""]
    if pages:
        lines += [
            f"`{info['url']}` (all, `?unassigned=1`) and the approvals list `{url_of('approvals')}` through"
            " `django.test.Client` (middleware, session, view, selectors, template), logged"
            f" in as the tier's user, DEBUG off, as `bench/run.py` times its pages ({args.warmup} warm-up requests,"
            f" then up to {args.runs}); the SQL of one request each is in `{Path(args.out).stem}-queries.sql`.",
            "",
            f"| tier | list | page | request | n | p50 ms | p95 ms | max ms | SQL ms p50 | queries |"
            f" p95 ≤ {TARGET_MS:.0f} |",
            "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in pages:
            ok = r["p95"] <= TARGET_MS
            url = r["url"] if len(r["url"]) < 60 else r["url"][:57] + "…"
            lines.append(
                f"| {Tier(r['tier']).label} | {r['queue']} | {r['page']} | `{url}` | "
                f"{r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['db_p50']:.1f} | {r['queries']} | "
                f"{'yes' if ok else '**MISS**'} |"
            )
        for r in info["render"]:
            lines.append(
                f"| {Tier(r['tier']).label} | {r['queue']} | {r['page']} | `{r['url']}` | {r['n']} | {r['p50']:.1f} |"
                f" {r['p95']:.1f} |"
                f" {r['max']:.1f} | {r['db_p50']:.1f} | — | (split) |"
            )
        worst = max(pages, key=lambda r: r["p95"])
        met = all(r["p95"] <= TARGET_MS for r in pages)
        lines += [
            "",
            "“Selectors answered from memory”: the first request runs them, the timed ones reuse the answers (their"
            " SQL is the session and the user): the time of the template, middleware and session alone.",
            "",
            f"**Target (review queue page p95 ≤ {TARGET_MS:.0f} ms): {'met' if met else 'MISSED'}** — worst p95"
            f" {worst['p95']:.1f} ms ({Tier(worst['tier']).label}, {worst['queue']}, {worst['page']}).",
        ]
    elif info["url"] is None:
        lines.append(
            "**Not measured: the review page (`escalation:review`) did not exist in this code.** The selectors above"
            " are what the page will call."
        )
    else:
        lines.append("Not measured in this run (`--skip pages`).")
    lines += [
        "",
        "EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the selector scenario with the worst p95:",
        "",
        "```",
        info["explain"],
        "```",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--escalations", type=int, default=100_000, help="open escalations (active inquiries)")
    parser.add_argument("--tier1-pool", type=int, default=20_000, help="active inquiries left at the rep tier")
    parser.add_argument("--history", type=int, default=200_000, help="closed escalations (resolved inquiries)")
    parser.add_argument("--approvals", type=int, default=5_000, help="pending approval requests")
    parser.add_argument("--refill", action="store_true", help="delete escalations, approvals, their events first")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time limit per page scenario")
    parser.add_argument("--deep-pages", type=int, default=20)
    parser.add_argument("--skip", default="", help="comma-separated: selectors,pages")
    parser.add_argument("--out", default=str(RESULTS / "escalation-latest.md"))
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    info = run.machine_info()
    info["argv"] = "".join(" " + a for a in sys.argv[1:])
    if not one("SELECT count(*) FROM inquiries_inquiry")[0]:
        sys.exit("no inquiries: run bench/generate.py and bench/generate_inquiries.py first")
    staff = Staff()
    existing = one("SELECT count(*) FROM escalation_escalation")[0]
    fill_needed = args.refill or not existing
    if fill_needed:
        info["open"] = run_targets.ensure_open(args.escalations + args.tier1_pool)
    else:
        active = one(f"SELECT count(*) FROM inquiries_inquiry WHERE status IN {ACTIVE_SQL}")[0]
        info["open"] = {"open_before": active, "reopened": 0, "reopened_before": 0}
    log(f"active inquiries: {info['open']}")
    if fill_needed:
        info["deadlines"] = deadlines_for_reopened()
        log(f"deadlines: {info['deadlines']}")
        cleared = clear() if existing or args.refill else None
        pool, escalate, mine = choose(staff, args.escalations, args.tier1_pool)
        info["pool"], info["mine"] = len(pool), mine
        fill = Fill(staff, args.seed)
        result = fill_escalations(fill, escalate, args.history)
        log(f"escalations: {result}")
        result["approvals"] = fill_approvals(fill, args.approvals)
        log(f"approvals: {result['approvals']}")
        result.update(
            cleared=cleared,
            counts=fill.counts,
            by_tier=fill.by_tier,
            unassigned_by_tier=fill.unassigned_by_tier,
            coached=fill.coached,
            vacuum_seconds=vacuum(),
        )
        info["fill"] = result
        del fill, pool, escalate  # the fill's rows (hundreds of MB) are not kept through the timed runs
        gc.collect()
    info["users"] = {t: staff.first(t) for t in REVIEW_TIERS}
    info["counts"] = counts()
    log(f"counts: {info['counts']}")
    info["selectors"] = [] if "selectors" in skip else measure_selectors(info["users"], args)
    info["url"] = url_of("review")
    pages, sql = ([], []) if "pages" in skip else measure_pages(info["users"], args)
    info["render"] = [] if "pages" in skip else measure_render(info["users"], args)
    info["explain"] = explain_slowest(info["selectors"]) if info["selectors"] else "(selectors skipped)"
    run.finish(info, pages, sql, args, render, Path(args.out).stem + "-queries.sql")


if __name__ == "__main__":
    main()
