"""The escalation metrics (escalation/metrics.py, docs/escalation-metrics.md), each checked
against figures worked out by hand from a small data set written out beside it.

The range is one day, [S, E) = [2 March 2026 00:00 UTC, 3 March 00:00 UTC). Every data set puts
something exactly at S (in) and exactly at E (out). The data are made through the services under
``clock.frozen``, so every row and timeline event carries the time the table says.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from escalation import metrics, services
from escalation.enums import Trigger
from escalation.models import EscalationRule
from fulfillment import clock
from fulfillment.errors import InvalidInput
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import Category, Channel, RemedyKind, RemedyState
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")


def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A moment in March 2026, UTC."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


S, E = at(2), at(3)


def inquiry(when: dt.datetime, **fields):
    with clock.frozen(when):
        return InquiryFactory(**fields)


def escalate(when: dt.datetime, actor, inquiry, **fields):
    with clock.frozen(when):
        return services.escalate(actor=actor, inquiry=inquiry, reason="authority", tried="Checked the order", **fields)


def note(when: dt.datetime, actor, inquiry):
    with clock.frozen(when):
        inquiry_services.note_add(actor=actor, inquiry=inquiry, body="Looked into it")


def give_back(when: dt.datetime, actor, inquiry):
    with clock.frozen(when):
        services.return_with_coaching(actor=actor, inquiry=inquiry, coaching_note="Offer the credit yourself")


def de_escalate(when: dt.datetime, actor, inquiry):
    with clock.frozen(when):
        services.de_escalate(actor=actor, inquiry=inquiry, note="Done")


@pytest.fixture
def rep2(db):
    return UserFactory(username="rep2", tier=Tier.REP)


# --- ranges and filters ----------------------------------------------------------------------------

ALL = (
    metrics.escalation_rate_by_rep,
    metrics.escalation_rate_by_category,
    metrics.time_at_tier,
    metrics.approvals,
    metrics.returns_with_coaching,
    metrics.automatic_escalations,
)


def run_all(start, end):
    return [selector(start, end) for selector in ALL]


def test_no_data_at_all_gives_zeros_and_empty_lists_in_one_query_each(django_assert_num_queries):
    for selector, queries in zip(ALL, (1, 1, 1, 1, 3, 1), strict=True):
        with django_assert_num_queries(queries):
            result = selector(S, E)
        if selector is metrics.returns_with_coaching:
            assert result == metrics.Returns(closed=0, returned=0, share=None, by_coach=[], by_coached=[])
        else:
            assert result == []
    # An empty range is a range too.
    assert run_all(S, S) == [[], [], [], [], metrics.Returns(0, 0, None, [], []), []]


@pytest.mark.parametrize("selector", ALL)
def test_a_naive_or_reversed_range_and_unknown_filters_are_refused(selector):
    with pytest.raises(InvalidInput) as error:
        selector(dt.datetime(2026, 3, 2), E)  # naive: the point of the test
    assert set(error.value.field_errors) == {"start"}
    with pytest.raises(InvalidInput) as error:
        selector(E, S)
    assert set(error.value.field_errors) == {"end"}
    with pytest.raises(InvalidInput) as error:
        selector(S, E, category="gardening", channel="pigeon")
    assert set(error.value.field_errors) == {"category", "channel"}
    if selector is not metrics.automatic_escalations:
        with pytest.raises(InvalidInput) as error:
            selector(S, E, tier=7)
        assert set(error.value.field_errors) == {"tier"}
        assert selector(S, E, tier="2") == selector(S, E, tier=2)  # a form's text is fine


# --- escalation rate per rep -----------------------------------------------------------------------


@pytest.fixture
def rep_data(rep, rep2, senior):
    """All opened on 1 March 12:00 (category delivery unless said), each assigned as named.

    | inquiry | who     | what (UTC)                                                          |
    | A       | rep1    | rep1 note at S exactly (in)                                         |
    | B       | rep1    | rep1 escalates 10:00; senior1 notes 11:00                           |
    | C       | rep1    | rep1 note 1 Mar 23:59 (before S); rep1 escalates at E exactly (out) |
    | D       | rep2    | rep2 escalates 09:00; senior1 returns 12:00; rep2 escalates 15:00   |
    | E       | rep2    | billing: rep2 note 08:00                                            |
    | F       | rep1    | rep1 note 13:00                                                     |
    """
    opened = at(1, 12)
    a, b, c, d, f = (inquiry(opened, assignee=who) for who in (rep, rep, rep, rep2, rep))
    e = inquiry(opened, assignee=rep2, category=Category.BILLING)
    note(S, rep, a)
    escalate(at(2, 10), rep, b)
    note(at(2, 11), senior, b)
    note(at(1, 23, 59), rep, c)
    escalate(E, rep, c)
    escalate(at(2, 9), rep2, d)
    give_back(at(2, 12), senior, d)
    escalate(at(2, 15), rep2, d)
    note(at(2, 8), rep2, e)
    note(at(2, 13), rep, f)


def rep_rows(rows):
    return [(r.person.username, r.worked, r.escalations, r.escalated, r.rate) for r in rows]


def test_escalation_rate_by_rep(rep_data):
    """Worked = distinct inquiries with an event by them in [S, E):
    rep1: A (note at S), B (escalation), F (note) = 3 — C's note is before S and its escalation
    at E; escalated B → 1/3. rep2: D (escalated twice: 2 escalations, 1 inquiry), E (note) →
    1/2. senior1: B (note), D (the return) → 0/2. Highest rate first."""
    assert rep_rows(metrics.escalation_rate_by_rep(S, E)) == [
        ("rep2", 2, 2, 1, 0.5),
        ("rep1", 3, 1, 1, pytest.approx(1 / 3)),
        ("senior1", 2, 0, 0, 0.0),
    ]
    # the reps only (their tier now)
    assert [r[0] for r in rep_rows(metrics.escalation_rate_by_rep(S, E, tier=Tier.REP))] == ["rep2", "rep1"]
    # billing inquiries only: E
    assert rep_rows(metrics.escalation_rate_by_rep(S, E, category=Category.BILLING)) == [("rep2", 1, 0, 0, 0.0)]
    # a range that takes in C's note and escalation (1 Mar 23:59 and E): rep1 worked A, B, C, F
    # and escalated B and C; tied with rep2 at 0.5, the one who worked more comes first
    assert rep_rows(metrics.escalation_rate_by_rep(at(1, 23), at(3, 1), tier=Tier.REP)) == [
        ("rep1", 4, 2, 2, 0.5),
        ("rep2", 2, 2, 1, 0.5),
    ]


def test_a_single_escalation_gives_one_row(rep):
    one = inquiry(at(2, 1), assignee=rep)
    escalate(at(2, 2), rep, one)
    [row] = metrics.escalation_rate_by_rep(S, E)
    assert (row.person.username, row.worked, row.escalations, row.escalated, row.rate) == ("rep1", 1, 1, 1, 1.0)
    [row] = metrics.escalation_rate_by_category(S, E)
    assert (row.category, row.opened, row.escalated, row.rate) == (Category.DELIVERY, 1, 1, 1.0)
    [row] = metrics.time_at_tier(S, E)
    assert (row.tier, row.periods, row.average_seconds) == (Tier.REP, 1, 3600.0)


# --- escalation rate per category ------------------------------------------------------------------


@pytest.fixture
def category_data(rep, senior):
    """| opened (UTC)        | category  | channel | escalations                               |
    | 1 Mar 20:00 (out)   | complaint | email   | 2 Mar 09:00                               |
    | S exactly           | delivery  | email   | 02:00                                     |
    | 10:00               | delivery  | email   | at E exactly (after the range: not yet)   |
    | 11:00               | delivery  | phone   | none                                      |
    | 12:00               | billing   | email   | 4 Mar (after E)                           |
    | 13:00               | billing   | email   | 14:00 to senior, 15:00 on to specialist   |
    | E exactly (out)     | complaint | email   | none                                      |
    """
    complaint = inquiry(at(1, 20), assignee=rep, category=Category.COMPLAINT)
    escalate(at(2, 9), rep, complaint)
    first = inquiry(S, assignee=rep)
    escalate(at(2, 2), rep, first)
    late = inquiry(at(2, 10), assignee=rep)
    escalate(E, rep, late)
    inquiry(at(2, 11), assignee=rep, channel=Channel.PHONE)
    later = inquiry(at(2, 12), assignee=rep, category=Category.BILLING)
    escalate(at(4, 9), rep, later)
    billing = inquiry(at(2, 13), assignee=rep, category=Category.BILLING)
    escalate(at(2, 14), rep, billing)
    escalate(at(2, 15), senior, billing)
    inquiry(E, assignee=rep, category=Category.COMPLAINT)


def category_rows(rows):
    return [(r.category, r.opened, r.escalated, r.rate) for r in rows]


def test_escalation_rate_by_category(category_data):
    assert category_rows(metrics.escalation_rate_by_category(S, E)) == [
        (Category.BILLING, 2, 1, 0.5),
        (Category.DELIVERY, 3, 1, pytest.approx(1 / 3)),
    ]
    # escalated before the end: a longer range counts the escalations at E and on 4 March
    assert category_rows(metrics.escalation_rate_by_category(S, at(4, 10))) == [
        (Category.BILLING, 2, 2, 1.0),
        (Category.COMPLAINT, 1, 0, 0.0),  # the one opened at E
        (Category.DELIVERY, 3, 2, pytest.approx(2 / 3)),
    ]
    # reached the specialist tier or higher: only the billing one that went on
    assert category_rows(metrics.escalation_rate_by_category(S, E, tier=Tier.SPECIALIST)) == [
        (Category.BILLING, 2, 1, 0.5),
        (Category.DELIVERY, 3, 0, 0.0),
    ]
    assert category_rows(metrics.escalation_rate_by_category(S, E, channel=Channel.EMAIL)) == [
        (Category.BILLING, 2, 1, 0.5),
        (Category.DELIVERY, 2, 1, 0.5),
    ]
    assert category_rows(metrics.escalation_rate_by_category(S, E, category=Category.COMPLAINT)) == []


# --- time at each tier -----------------------------------------------------------------------------


@pytest.fixture
def tier_data(rep, rep2, senior, specialist):
    """| inquiry | opened       | moves (UTC)                                                   |
    | P       | 1 Mar 22:00  | rep1 → senior 01:00; senior1 → specialist 03:00;             |
    |         |              | specialist1 de-escalates to senior 07:00; senior1 → specialist|
    |         |              | 08:00 (still there)                                           |
    | Q       | 2 Mar 10:00  | rep2 → senior 12:00; senior1 returns it at E exactly          |
    | R       | 1 Mar 00:00  | rep1 → senior 1 Mar 23:00; senior1 returns it at S exactly    |

    Periods that ended in [S, E), in seconds:
    rep: P 3 h (22:00-01:00) 10800, Q 2 h 7200 (R's 23 h ended before S);
    senior: P 2 h (01:00-03:00) 7200 — once, though both P's first escalation (time at its
    to-tier) and its second (time at its from-tier) record it —, P 1 h (07:00-08:00) 3600,
    R 1 h (23:00-00:00) 3600 (Q's 12 h end at E: out);
    specialist: P 4 h (03:00-07:00) 14400 (P's second stay is still open: out);
    supervisor: none.
    """
    p = inquiry(at(1, 22), assignee=rep)
    escalate(at(2, 1), rep, p)
    escalate(at(2, 3), senior, p)
    de_escalate(at(2, 7), specialist, p)
    escalate(at(2, 8), senior, p)
    q = inquiry(at(2, 10), assignee=rep2)
    escalate(at(2, 12), rep2, q)
    give_back(E, senior, q)
    r = inquiry(at(1, 0), assignee=rep)
    escalate(at(1, 23), rep, r)
    give_back(S, senior, r)


def tier_rows(rows):
    return [(r.tier, r.periods, r.average_seconds, r.median_seconds) for r in rows]


def test_time_at_tier(tier_data):
    median = metrics.has_median()
    assert tier_rows(metrics.time_at_tier(S, E)) == [
        (Tier.REP, 2, 9000.0, 9000.0 if median else None),
        (Tier.SENIOR_REP, 3, 4800.0, 3600.0 if median else None),
        (Tier.SPECIALIST, 1, 14400.0, 14400.0 if median else None),
    ]
    assert tier_rows(metrics.time_at_tier(S, E, tier=Tier.SPECIALIST)) == [
        (Tier.SPECIALIST, 1, 14400.0, 14400.0 if median else None)
    ]
    # One day on: Q's 12 h at senior ended at E, in this range
    assert tier_rows(metrics.time_at_tier(E, at(4))) == [(Tier.SENIOR_REP, 1, 43200.0, 43200.0 if median else None)]
    assert metrics.time_at_tier(S, E, category=Category.BILLING) == []


# --- approvals -------------------------------------------------------------------------------------


@pytest.fixture
def approval_data(rep, senior, supervisor):
    """Goodwill credits rep1 proposes on one complaint (rep1 may grant 50; senior 200,
    specialist 500, supervisor any), so each above 50 is a request to the lowest tier that may
    grant it:

    | proposed (UTC)  | amount | approval tier | then                                       |
    | 1 Mar 23:59     | 70     | senior        | (before S: out)                            |
    | S exactly       | 80     | senior        | senior1 approves 02:00                     |
    | 02:00           | 150    | senior        | supervisor1 approves 120 instead, 03:00    |
    | 04:00           | 300    | specialist    | supervisor1 denies 05:00                   |
    | 06:00           | 90     | senior        | rep1 withdraws 07:00                       |
    | 08:00           | 60     | senior        | waiting                                    |
    | 09:00           | 70     | senior        | senior1 approves at E exactly              |
    | 10:00           | 40     | none          | within rep1's own authority: no request    |
    | 11:00           | 600    | supervisor    | waiting                                    |
    | E exactly       | 70     | senior        | (out)                                      |
    """
    complaint = inquiry(at(1, 12), assignee=rep, category=Category.COMPLAINT)

    def propose(when, amount):
        with clock.frozen(when):
            return inquiry_services.remedy_propose(
                actor=rep, inquiry=complaint, kind=RemedyKind.CREDIT, reason="Late twice", amount=amount
            )

    def approve(when, actor, remedy, **fields):
        with clock.frozen(when):
            inquiry_services.remedy_approve(actor=actor, remedy=remedy, **fields)

    propose(at(1, 23, 59), "70")
    approve(at(2, 2), senior, propose(S, "80"))
    approve(at(2, 3), supervisor, propose(at(2, 2), "150"), amount="120")
    denied = propose(at(2, 4), "300")
    with clock.frozen(at(2, 5)):
        inquiry_services.remedy_deny(actor=supervisor, remedy=denied, note="Too much for a late parcel")
    withdrawn = propose(at(2, 6), "90")
    with clock.frozen(at(2, 7)):
        inquiry_services.remedy_decide(actor=rep, remedy=withdrawn, state=RemedyState.WITHDRAWN)
    propose(at(2, 8), "60")
    approve(E, senior, propose(at(2, 9), "70"))
    assert propose(at(2, 10), "40").approval_tier is None
    assert propose(at(2, 11), "600").approval_tier == Tier.SUPERVISOR
    propose(E, "70")


def approval_rows(rows):
    return [(r.tier, r.requests, r.granted, r.granted_changed, r.denied, r.withdrawn, r.waiting) for r in rows]


def test_approvals(approval_data):
    """(tier, requests, granted, of which at another amount, denied, withdrawn, waiting)"""
    assert approval_rows(metrics.approvals(S, E)) == [
        (Tier.SENIOR_REP, 5, 2, 1, 0, 1, 2),  # the 09:00 request was approved only at E
        (Tier.SPECIALIST, 1, 0, 0, 1, 0, 0),
        (Tier.SUPERVISOR, 1, 0, 0, 0, 0, 1),
    ]
    assert approval_rows(metrics.approvals(S, E, tier=Tier.SPECIALIST)) == [(Tier.SPECIALIST, 1, 0, 0, 1, 0, 0)]
    # Ending a minute later: the approval at E is in, and so is the request made at E.
    assert approval_rows(metrics.approvals(S, at(3, 0, 1), tier=Tier.SENIOR_REP)) == [
        (Tier.SENIOR_REP, 6, 3, 1, 0, 1, 2)
    ]
    assert metrics.approvals(S, E, category=Category.DELIVERY) == []
    assert [str(r.label) for r in metrics.approvals(S, E)] == ["Senior rep", "Specialist", "Supervisor"]


# --- returns with coaching -------------------------------------------------------------------------


@pytest.fixture
def returns_data(rep, rep2, senior, supervisor):
    """Delivery inquiries, each escalated rep → senior; what closed the escalation (UTC):

    | escalated by | at          | closed                                                    |
    | rep1         | 1 Mar 20:00 | senior1 returns it at S exactly (in)                      |
    | rep2         | 03:00       | supervisor1 returns it 05:00                              |
    | rep2         | 06:00       | senior1 de-escalates it 07:00                             |
    | rep1         | 08:00       | senior1 escalates it on to specialist 09:00 (that one open)|
    | rep1         | 10:00       | senior1 returns it at E exactly (out)                     |
    | rep2         | 11:00       | senior1 returns it 12:00                                  |
    """

    def escalated(when, who):
        case = inquiry(at(1, 12), assignee=who)
        escalate(when, who, case)
        return case

    give_back(S, senior, escalated(at(1, 20), rep))
    give_back(at(2, 5), supervisor, escalated(at(2, 3), rep2))
    de_escalate(at(2, 7), senior, escalated(at(2, 6), rep2))
    escalate(at(2, 9), senior, escalated(at(2, 8), rep))
    give_back(E, senior, escalated(at(2, 10), rep))
    give_back(at(2, 12), senior, escalated(at(2, 11), rep2))


def person_rows(rows):
    return [(r.person.username, r.returns) for r in rows]


def test_returns_with_coaching(returns_data):
    """Closed in [S, E): the returns at S, 05:00 and 12:00, the de-escalation and the
    escalation further = 5; returned 3 → share 3/5."""
    result = metrics.returns_with_coaching(S, E)
    assert (result.closed, result.returned, result.share) == (5, 3, 0.6)
    assert person_rows(result.by_coach) == [("senior1", 2), ("supervisor1", 1)]
    assert person_rows(result.by_coached) == [("rep2", 2), ("rep1", 1)]
    # at the specialist tier: nothing closed there
    assert metrics.returns_with_coaching(S, E, tier=Tier.SPECIALIST) == metrics.Returns(0, 0, None, [], [])
    # only the senior's own returns are at the senior tier: the same figures
    assert metrics.returns_with_coaching(S, E, tier=Tier.SENIOR_REP) == result


# --- automatic escalations -------------------------------------------------------------------------


@pytest.fixture
def rule_data(rep, supervisor):
    """Two rules on "one customer contact without resolution" (every inquiry opened with the
    customer's message breaches them), swept at the times below:

    - "Notify at rep" (up to the rep tier: at it, it only notifies), made first, so fires first;
    - "Contacts" (up to supervisor: moves the inquiry up one tier).

    | time (UTC)   | what exists                          | firings                           |
    | 1 Mar 22:00  | X0 opened                            |                                   |
    | 1 Mar 23:00  | sweep                                | X0: notify, contacts (both out)   |
    | 1 Mar 23:10  | X1b opened; 23:20 rep1 escalates it  |                                   |
    | 1 Mar 23:30  | X1 opened                            |                                   |
    | S exactly    | sweep                                | X1: notify; X1: contacts (moved); |
    |              |                                      | X1b: contacts (moved, at senior)  |
    | 10:00        | sweep                                | none: once per breach             |
    | 11:00        | X2 opened (billing); 12:00 sweep     | X2: notify; X2: contacts (moved)  |
    | 13:00        | supervisor1 returns X2 with coaching | (nobody escalated it: no coached) |
    | 23:00        | X3 opened; sweep at E exactly        | (out)                             |
    """
    notify = EscalationRule.objects.create(
        name="Notify at rep", trigger=Trigger.REPEAT_CONTACTS, contacts=1, up_to_tier=Tier.REP
    )
    EscalationRule.objects.create(name="Contacts", trigger=Trigger.REPEAT_CONTACTS, contacts=1)

    def sweep(when):
        with clock.frozen(when):
            return services.apply_rules(now=when)

    inquiry(at(1, 22))
    assert len(sweep(at(1, 23))) == 2
    x1b = inquiry(at(1, 23, 10), assignee=rep)
    escalate(at(1, 23, 20), rep, x1b)
    inquiry(at(1, 23, 30))
    assert len(sweep(S)) == 3
    assert sweep(at(2, 10)) == []
    x2 = inquiry(at(2, 11), category=Category.BILLING)
    assert len(sweep(at(2, 12))) == 2
    give_back(at(2, 13), supervisor, x2)
    inquiry(at(2, 23))
    assert len(sweep(E)) == 2
    return notify


def rule_rows(rows):
    return [(r.name, r.firings, r.moved, r.not_moved) for r in rows]


def test_automatic_escalations(rule_data):
    assert rule_rows(metrics.automatic_escalations(S, E)) == [("Contacts", 3, 3, 0), ("Notify at rep", 2, 0, 2)]
    assert rule_rows(metrics.automatic_escalations(S, E, category=Category.BILLING)) == [
        ("Contacts", 1, 1, 0),
        ("Notify at rep", 1, 0, 1),
    ]
    notify = metrics.automatic_escalations(S, E, channel=Channel.EMAIL)[1]
    assert (notify.rule_id, notify.trigger) == (rule_data.pk, Trigger.REPEAT_CONTACTS)
    # the automatic escalation returned with coaching had nobody to coach
    returned = metrics.returns_with_coaching(S, E)
    assert person_rows(returned.by_coached) == [("", 1)]
    assert returned.by_coached[0].person.id is None
    assert person_rows(returned.by_coach) == [("supervisor1", 1)]


# --- the same instants in any time zone; constant queries -----------------------------------------


@pytest.fixture
def everything(rule_data, rep_data, tier_data, approval_data, returns_data, category_data):
    """Every data set at once (the rules first: their sweeps see only their own inquiries)."""


def test_a_range_in_kolkata_time_selects_the_same_instants(everything):
    in_utc = run_all(S, E)
    in_kolkata = run_all(S.astimezone(KOLKATA), E.astimezone(KOLKATA))
    assert S.astimezone(KOLKATA).hour == 5  # 05:30 local: the same instant
    assert in_kolkata == in_utc
    with timezone.override(KOLKATA):  # the active time zone changes nothing either
        assert run_all(S, E) == in_utc


def test_local_midnights_are_other_instants(rep_data):
    """[2 Mar 00:00 IST, 3 Mar 00:00 IST) is [1 Mar 18:30, 2 Mar 18:30) UTC: it takes in C's
    note (1 Mar 23:59 UTC) and everything else rep1 did on 2 March (the last, F's note, at
    13:00), not C's escalation at E. rep2's escalation of D at 15:00 is in, rep2's note at
    08:00 too."""
    local = dt.datetime(2026, 3, 2, tzinfo=KOLKATA), dt.datetime(2026, 3, 3, tzinfo=KOLKATA)
    assert rep_rows(metrics.escalation_rate_by_rep(*local, tier=Tier.REP)) == [
        ("rep2", 2, 2, 1, 0.5),
        ("rep1", 4, 1, 1, 0.25),
    ]


def test_each_metric_runs_in_a_constant_number_of_queries(everything, django_assert_num_queries):
    """The same counts as on an empty database (the first test): the database aggregates."""
    for selector, queries in zip(ALL, (1, 1, 1, 1, 3, 1), strict=True):
        with django_assert_num_queries(queries):
            result = selector(S, E, channel=Channel.EMAIL)
        assert result
