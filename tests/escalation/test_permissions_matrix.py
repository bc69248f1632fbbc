"""Who may do what on the ladder — role × action × tier — checked in the services, so the
browser, the admin and the API behave alike. The tables below are the spec:

- staff work inquiries at or below their own tier (an inactive user or one without a tier is
  nobody; a superuser counts as a supervisor);
- escalate: anyone working the inquiry; take over, return with coaching, reassign and
  de-escalate: the tiers that review (senior rep and above);
- approve or deny a request: its approval tier or above — never one's own request;
- API clients never move inquiries on the ladder nor answer requests, whatever their scopes;
- the system (the rules' sweep) passes every permission, but takes nothing over: it is nobody
  to assign an inquiry to;
- a coaching note is read by the person coached, the coach, and those above the coached
  person's tier — never by other reps.

OK: allowed, and done. DENIED: PermissionDenied. NONE: allowed, but there is nothing to do at
that tier (nothing above the top, nothing below the first): InvalidInput. A refusal changes
nothing and enqueues nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from escalation import selectors, services
from fulfillment.actors import Actor
from fulfillment.errors import InvalidInput, PermissionDenied
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import Category, RemedyKind, RemedyState
from inquiries.models import AuthorityLimit
from tests.factories import CustomerFactory, UserFactory
from tests.inquiries.factories import InquiryFactory, paid_order
from tests.inquiries.helpers import fresh

from .test_ladder import at_tier, escalate, refusal

pytestmark = pytest.mark.django_db

OK, DENIED, NONE = "ok", "denied", "none"
ERRORS = {DENIED: PermissionDenied, NONE: InvalidInput}

# fmt: off
#: The ladder's actions on an active inquiry at each tier (brought there by an escalation from
#: the tier below, unassigned).
#                                  inquiry at:  Rep     Senior  Special. Superv.
LADDER = {
    "escalate": {
        "rep":                                 (OK,     DENIED, DENIED, DENIED),
        "senior":                              (OK,     OK,     DENIED, DENIED),
        "specialist":                          (OK,     OK,     OK,     DENIED),
        "supervisor":                          (OK,     OK,     OK,     NONE),
        "superuser":                           (OK,     OK,     OK,     NONE),
        "no tier":                             (DENIED, DENIED, DENIED, DENIED),
        "inactive":                            (DENIED, DENIED, DENIED, DENIED),
        "api client":                          (DENIED, DENIED, DENIED, DENIED),
        "system":                              (OK,     OK,     OK,     NONE),
    },
    "take_over": {
        "rep":                                 (DENIED, DENIED, DENIED, DENIED),
        "senior":                              (OK,     OK,     DENIED, DENIED),
        "specialist":                          (OK,     OK,     OK,     DENIED),
        "supervisor":                          (OK,     OK,     OK,     OK),
        "superuser":                           (OK,     OK,     OK,     OK),
        "no tier":                             (DENIED, DENIED, DENIED, DENIED),
        "inactive":                            (DENIED, DENIED, DENIED, DENIED),
        "api client":                          (DENIED, DENIED, DENIED, DENIED),
        "system":                              (DENIED, DENIED, DENIED, DENIED),
    },
    "return_with_coaching": {
        "rep":                                 (DENIED, DENIED, DENIED, DENIED),
        "senior":                              (NONE,   OK,     DENIED, DENIED),
        "specialist":                          (NONE,   OK,     OK,     DENIED),
        "supervisor":                          (NONE,   OK,     OK,     OK),
        "superuser":                           (NONE,   OK,     OK,     OK),
        "no tier":                             (DENIED, DENIED, DENIED, DENIED),
        "inactive":                            (DENIED, DENIED, DENIED, DENIED),
        "api client":                          (DENIED, DENIED, DENIED, DENIED),
        "system":                              (NONE,   OK,     OK,     OK),
    },
}
LADDER["reassign"] = LADDER["de_escalate"] = LADDER["return_with_coaching"]

#: Answering an approval request (a rep's refund on an inquiry at the rep tier) by its approval tier.
#                                  request for: Senior  Special. Superv.
APPROVALS = {
    "rep":                                     (DENIED, DENIED, DENIED),
    "senior":                                  (OK,     DENIED, DENIED),
    "specialist":                              (OK,     OK,     DENIED),
    "supervisor":                              (OK,     OK,     OK),
    "superuser":                               (OK,     OK,     OK),
    "no tier":                                 (DENIED, DENIED, DENIED),
    "inactive":                                (DENIED, DENIED, DENIED),
    "api client":                              (DENIED, DENIED, DENIED),
    "system":                                  (OK,     OK,     OK),
}

#: Reading a coaching note written by a supervisor (True: may read).
#                                  coached:     a rep   a senior
COACHING = {
    "the coached person":                      (True,   True),
    "the coach":                               (True,   True),
    "another rep":                             (False,  False),
    "another senior":                          (True,   False),
    "specialist":                              (True,   True),
    "another supervisor":                      (True,   True),
    "superuser":                               (True,   True),
    "the coached person, inactive":            (False,  False),
    "no tier":                                 (False,  False),
}
# fmt: on

REQUEST_AMOUNTS = {Tier.SENIOR_REP: "150.00", Tier.SPECIALIST: "600.00", Tier.SUPERVISOR: "1500.00"}


@pytest.fixture
def refused(django_capture_on_commit_callbacks):
    return refusal(django_capture_on_commit_callbacks)


@pytest.fixture
def actors(rep, senior, specialist, supervisor, admin_user, no_role_user) -> dict:
    return {
        "rep": rep,
        "senior": senior,
        "specialist": specialist,
        "supervisor": supervisor,
        "superuser": admin_user,
        "no tier": no_role_user,
        "inactive": UserFactory(username="former_boss", tier=Tier.SUPERVISOR, is_active=False),
        "api client": Actor.api_client(client_id=7, name="shop", scopes=frozenset({"read", "write"})),
        "system": Actor.system("rules"),
    }


def user_of(actor):
    return actor.user if isinstance(actor, Actor) else actor


# --- the ladder ----------------------------------------------------------------------------------

ACTIONS = {
    "escalate": lambda actor, inquiry: escalate(actor, inquiry),
    "take_over": lambda actor, inquiry: services.take_over(actor=actor, inquiry=inquiry),
    "return_with_coaching": lambda actor, inquiry: services.return_with_coaching(
        actor=actor, inquiry=inquiry, coaching_note="Offer the credit first."
    ),
    "reassign": lambda actor, inquiry: services.reassign(
        actor=actor, inquiry=inquiry, to_tier=max(inquiry.tier - 1, Tier.REP)
    ),
    "de_escalate": lambda actor, inquiry: services.de_escalate(actor=actor, inquiry=inquiry),
}

#: What an allowed action did: (the inquiry's tier, its assignee) after it, from the tier before.
EFFECTS = {
    "escalate": lambda tier, actor: (tier + 1, None),
    "take_over": lambda tier, actor: (tier, user_of(actor)),
    "return_with_coaching": lambda tier, actor: (tier - 1, None),
    "reassign": lambda tier, actor: (tier - 1, None),
    "de_escalate": lambda tier, actor: (tier - 1, None),
}

LADDER_CASES = [
    (action, role, tier, expected)
    for action, table in LADDER.items()
    for role, row in table.items()
    for tier, expected in zip(Tier.values, row, strict=True)
]


@pytest.mark.parametrize(
    ("action", "role", "tier", "expected"),
    LADDER_CASES,
    ids=[f"{action}-{role}-tier{tier}-{expected}" for action, role, tier, expected in LADDER_CASES],
)
def test_who_moves_an_inquiry_on_the_ladder(actors, refused, action, role, tier, expected):
    inquiry = at_tier(tier, category=Category.BILLING)
    actor = actors[role]
    call = lambda: ACTIONS[action](actor, inquiry)  # noqa: E731
    if expected == OK:
        call()
        row = fresh(inquiry)
        assert (row.tier, row.assignee) == EFFECTS[action](tier, actor)
    else:
        refused(inquiry, ERRORS[expected], call)


# --- approval requests ---------------------------------------------------------------------------

ANSWERS = {
    "remedy_approve": (
        lambda actor, remedy: inquiry_services.remedy_approve(actor=actor, remedy=remedy),
        RemedyState.ACCEPTED,
    ),
    "remedy_deny": (
        lambda actor, remedy: inquiry_services.remedy_deny(actor=actor, remedy=remedy, note="Offer a credit"),
        RemedyState.DENIED,
    ),
}

APPROVAL_CASES = [
    (answer, role, tier, expected)
    for answer in ANSWERS
    for role, row in APPROVALS.items()
    for tier, expected in zip(REQUEST_AMOUNTS, row, strict=True)
]


def complaint_with_order():
    """A complaint at the rep tier about an order paid 5,000.00."""
    customer = CustomerFactory()
    order = paid_order(customer, "5000.00")
    return InquiryFactory(customer=customer, category=Category.COMPLAINT, orders=[order]), order


def ask(actor, amount: str):
    """``actor`` asks for a refund of ``amount``: (the inquiry, the remedy)."""
    inquiry, order = complaint_with_order()
    remedy = inquiry_services.remedy_propose(
        actor=actor, inquiry=inquiry, kind=RemedyKind.REFUND, reason="Lost twice", amount=amount, order=order
    )
    return inquiry, remedy


@pytest.mark.parametrize(
    ("answer", "role", "tier", "expected"),
    APPROVAL_CASES,
    ids=[f"{answer}-{role}-tier{tier}-{expected}" for answer, role, tier, expected in APPROVAL_CASES],
)
def test_who_answers_an_approval_request(actors, refused, answer, role, tier, expected):
    inquiry, remedy = ask(UserFactory(username="asker", tier=Tier.REP), REQUEST_AMOUNTS[tier])
    assert remedy.approval_tier == tier
    call, state = ANSWERS[answer]
    if expected == OK:
        assert call(actors[role], remedy).state == state
    else:
        refused(inquiry, ERRORS[expected], lambda: call(actors[role], remedy))


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize("role", ["supervisor", "superuser"])
def test_nobody_answers_their_own_request_whatever_their_tier(actors, refused, answer, role):
    AuthorityLimit.objects.filter(tier=Tier.SUPERVISOR).update(max_refund=Decimal("600.00"))
    inquiry, remedy = ask(actors[role], "700.00")
    assert remedy.approval_tier == Tier.SPECIALIST
    call, _state = ANSWERS[answer]
    error = refused(inquiry, PermissionDenied, lambda: call(actors[role], remedy))
    assert error.message == "Nobody approves their own request: another colleague must decide."


# --- coaching notes ------------------------------------------------------------------------------

COACHING_CASES = [
    (viewer, coached, allowed)
    for viewer, row in COACHING.items()
    for coached, allowed in zip(("rep", "senior"), row, strict=True)
]


@pytest.mark.parametrize(
    ("viewer", "coached", "allowed"),
    COACHING_CASES,
    ids=[f"{viewer}-coaching-a-{coached}-{allowed}" for viewer, coached, allowed in COACHING_CASES],
)
def test_who_reads_a_coaching_note(actors, viewer, coached, allowed):
    person = actors[coached]
    inquiry = InquiryFactory(tier=person.tier)
    escalate(person, inquiry)
    escalation = services.return_with_coaching(
        actor=actors["supervisor"], inquiry=inquiry, coaching_note="Check the order history first."
    )
    if viewer == "the coached person, inactive":
        type(person).objects.filter(pk=person.pk).update(is_active=False)
        person.refresh_from_db()
    viewers = {
        "the coached person": person,
        "the coached person, inactive": person,
        "the coach": actors["supervisor"],
        "another rep": UserFactory(username="rep_other", tier=Tier.REP),
        "another senior": UserFactory(username="senior_other", tier=Tier.SENIOR_REP),
        "specialist": actors["specialist"],
        "another supervisor": UserFactory(username="boss_other", tier=Tier.SUPERVISOR),
        "superuser": actors["superuser"],
        "no tier": actors["no tier"],
    }
    assert escalation.coached_user == person
    assert selectors.may_read_coaching(viewers[viewer], escalation) is allowed
