"""The ladder's rules, one test per rule: escalate (next tier, a named person, the specialty,
skipping a tier, the reason, telling the customer, the time at each tier), take over, return
with coaching, reassign lower and de-escalate. A refused move changes nothing — the inquiry and
its rows, its escalations, every order and payment — sends no mail and enqueues nothing.

``ladder_state`` and ``refusal`` are shared by the other rule tests of this folder."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from django.apps import apps
from django.core import mail

from escalation import services
from escalation.enums import Kind, Outcome, Reason
from escalation.models import Escalation, RuleFiring
from fulfillment import clock
from fulfillment.actors import Actor, ActorKind
from fulfillment.errors import Conflict, InvalidInput, PermissionDenied
from fulfillment.models import StaffSpecialty
from fulfillment.tiers import Specialty, Tier
from inquiries import services as inquiry_services
from inquiries.enums import CATEGORY_SPECIALTY, Category, EventType, InquiryStatus, MessageKind
from inquiries.models import InquiryEvent, Message, ResponseTemplate
from tests.factories import CustomerFactory, UserFactory
from tests.inquiries.factories import InquiryFactory
from tests.inquiries.helpers import fresh, last_event, orders_snapshot, snapshot

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("tests")
#: A Monday, 09:00 at the desk (its time zone is UTC): the calendar's opening hour.
T0 = dt.datetime(2031, 3, 3, 9, 0, tzinfo=dt.UTC)
_NOTICES = importlib.import_module("escalation.migrations.0002_notice_templates_example_rules")


# --- shared by the rule tests ------------------------------------------------------------------


def ladder_state(inquiry) -> dict:
    """The inquiry with every row hanging off it, its escalations and rule firings, every
    order and payment, and the mail sent so far."""
    return {
        "inquiry": snapshot(inquiry),
        "escalations": list(Escalation.objects.filter(inquiry_id=inquiry.pk).order_by("pk").values()),
        "firings": list(RuleFiring.objects.filter(inquiry_id=inquiry.pk).order_by("pk").values()),
        "orders": orders_snapshot(),
        "mail": len(mail.outbox),
    }


def refusal(capture):
    """``refused(inquiry, Error, call)``: ``call()`` raises ``Error``, leaves ``ladder_state``
    as it was and enqueues nothing after commit. ``capture``: django_capture_on_commit_callbacks."""

    def refused(inquiry, error, call):
        before = ladder_state(inquiry)
        with capture() as enqueued, pytest.raises(error) as raised:
            call()
        assert ladder_state(inquiry) == before
        assert enqueued == []
        return raised.value

    return refused


def escalate(actor, inquiry, **kwargs) -> Escalation:
    data = {"reason": Reason.AUTHORITY, "tried": "Offered a 10 % credit"} | kwargs
    return services.escalate(actor=actor, inquiry=inquiry, **data)


def at_tier(tier: int, **kwargs):
    """An inquiry escalated (by the system) from the tier below to ``tier``: an open escalation."""
    inquiry = InquiryFactory(tier=tier - 1 if tier > Tier.REP else None, **kwargs)
    if tier > Tier.REP:
        escalate(SYSTEM, inquiry)
    return fresh(inquiry)


def name(user) -> str:
    return user.get_full_name()


@pytest.fixture
def refused(django_capture_on_commit_callbacks):
    return refusal(django_capture_on_commit_callbacks)


@pytest.fixture
def rep2(db):
    return UserFactory(username="rep2", tier=Tier.REP)


@pytest.fixture
def senior2(db):
    return UserFactory(username="senior2", tier=Tier.SENIOR_REP)


@pytest.fixture
def billing_specialist(specialist):
    StaffSpecialty.objects.create(user=specialist, specialty=Specialty.BILLING)
    return specialist


@pytest.fixture
def notice_templates(db):
    """The "Escalation notice" templates of migration 0002 (a transactional test before this
    one may have flushed them)."""
    _NOTICES.create(apps, None)
    return _NOTICES.TEXTS


# --- escalate: where it goes -------------------------------------------------------------------


def test_an_escalation_goes_to_the_next_tiers_queue_by_default(rep, django_capture_on_commit_callbacks):
    inquiry = InquiryFactory(assignee=rep)
    with django_capture_on_commit_callbacks() as enqueued:
        e = escalate(rep, inquiry, reason_text="Wants 300.00 back")

    row = fresh(inquiry)
    assert (row.tier, row.assignee_id, row.version) == (Tier.SENIOR_REP, None, inquiry.version + 1)
    assert (e.kind, e.from_tier, e.to_tier, e.from_user, e.from_assignee, e.to_user) == (
        Kind.MANUAL,
        Tier.REP,
        Tier.SENIOR_REP,
        rep,
        rep,
        None,
    )
    assert (e.actor_kind, e.actor_name, e.reason, e.reason_text, e.tried) == (
        ActorKind.USER,
        "rep1",
        Reason.AUTHORITY,
        "Wants 300.00 back",
        "Offered a 10 % credit",
    )
    assert (e.is_open, e.outcome, e.skipped, e.rule, e.customer_told) == (True, "", False, None, False)
    event = last_event(inquiry)
    assert (event.type, event.actor_user) == (EventType.ESCALATED, rep)
    assert event.details == {
        "escalation": e.pk,
        "from_tier": 1,
        "to_tier": 2,
        "to_user": "",
        "from_assignee": name(rep),
        "specialty": "",
        "reason": "authority",
        "reason_text": "Wants 300.00 back",
        "tried": "Offered a 10 % credit",
        "skip_reason": "",
        "rule": "",
        "customer_told": False,
    }
    assert len(enqueued) == 1  # the staff notice, asked for after commit


def test_an_escalation_to_a_named_person_gives_them_the_inquiry(rep, senior):
    inquiry = InquiryFactory(assignee=rep)
    e = escalate(rep, inquiry, to_user=senior)
    assert (fresh(inquiry).tier, fresh(inquiry).assignee, e.to_user) == (Tier.SENIOR_REP, senior, senior)
    assert last_event(inquiry).details["to_user"] == name(senior)


@pytest.mark.parametrize("who", ["specialist", "supervisor", "rep2", "inactive senior"])
def test_a_named_person_must_be_active_at_exactly_that_tier(rep, who, refused, notice_templates, request):
    if who == "inactive senior":
        person = UserFactory(username="gone", tier=Tier.SENIOR_REP, is_active=False)
    else:
        person = request.getfixturevalue(who)
    inquiry = InquiryFactory(assignee=rep)
    error = refused(inquiry, InvalidInput, lambda: escalate(rep, inquiry, to_user=person, tell_customer=True))
    assert error.field_errors["to_user"] == ["Choose someone at the Senior rep tier."]


@pytest.mark.parametrize(("category", "specialty"), sorted(CATEGORY_SPECIALTY.items()))
def test_a_specialist_escalation_takes_the_specialty_from_the_category(senior, category, specialty):
    inquiry = InquiryFactory(tier=Tier.SENIOR_REP, category=category)
    e = escalate(senior, inquiry)
    assert (e.to_tier, e.specialty, fresh(inquiry).specialty_needed) == (Tier.SPECIALIST, specialty, specialty)
    assert last_event(inquiry).details["specialty"] == specialty


def test_a_chosen_specialty_wins_over_the_category(senior):
    inquiry = InquiryFactory(tier=Tier.SENIOR_REP, category=Category.BILLING)
    e = escalate(senior, inquiry, specialty=Specialty.RETURNS)
    assert (e.specialty, fresh(inquiry).specialty_needed) == (Specialty.RETURNS, Specialty.RETURNS)


@pytest.mark.parametrize(
    ("specialty", "message"),
    [
        ("", "Choose the specialty: this category does not name one."),
        ("astrology", "Choose one of the specialties."),
    ],
)
def test_a_category_without_a_specialty_needs_one_chosen(senior, refused, specialty, message):
    inquiry = InquiryFactory(tier=Tier.SENIOR_REP, category=Category.COMPLAINT)
    error = refused(inquiry, InvalidInput, lambda: escalate(senior, inquiry, specialty=specialty))
    assert error.field_errors == {"specialty": [message]}
    assert escalate(senior, inquiry, specialty=Specialty.TECHNICAL).specialty == Specialty.TECHNICAL


def test_a_named_specialist_must_cover_the_specialty(senior, billing_specialist, refused):
    billing = InquiryFactory(tier=Tier.SENIOR_REP, category=Category.BILLING)
    shipping = InquiryFactory(tier=Tier.SENIOR_REP, category=Category.DELIVERY)
    error = refused(shipping, InvalidInput, lambda: escalate(senior, shipping, to_user=billing_specialist))
    assert error.field_errors["to_user"] == [f"{name(billing_specialist)} does not cover Shipping and logistics."]
    assert escalate(senior, billing, to_user=billing_specialist).to_user == billing_specialist
    assert fresh(billing).assignee == billing_specialist


# --- escalate: skipping, the ladder's ends, the inquiry's state ----------------------------------


@pytest.mark.parametrize(("to_tier", "skipped"), [(Tier.SPECIALIST, "Senior rep"), (Tier.SUPERVISOR, "Senior rep")])
def test_skipping_a_tier_needs_a_reason(rep, refused, to_tier, skipped):
    inquiry = InquiryFactory(assignee=rep)
    error = refused(inquiry, InvalidInput, lambda: escalate(rep, inquiry, to_tier=to_tier, skip_reason="  "))
    assert error.field_errors == {"skip_reason": [f"Going past the {skipped} tier needs a reason."]}


def test_a_skipped_tier_is_recorded_on_the_row_and_the_timeline(rep):
    inquiry = InquiryFactory(assignee=rep)
    e = escalate(rep, inquiry, to_tier=Tier.SUPERVISOR, skip_reason="The customer is a journalist")
    assert (fresh(inquiry).tier, e.from_tier, e.to_tier) == (Tier.SUPERVISOR, Tier.REP, Tier.SUPERVISOR)
    assert (e.skip_reason, e.skipped) == ("The customer is a journalist", True)
    assert last_event(inquiry).details["skip_reason"] == "The customer is a journalist"


def test_a_skip_reason_for_the_next_tier_is_not_a_skip(rep):
    e = escalate(rep, InquiryFactory(assignee=rep), to_tier=Tier.SENIOR_REP, skip_reason="Just in case")
    assert (e.skip_reason, e.skipped) == ("", False)


@pytest.mark.parametrize("to_tier", [Tier.REP, 0, 5, "x", "1"])
def test_the_target_must_be_a_tier_above_the_inquirys_own(rep, refused, to_tier):
    inquiry = InquiryFactory(assignee=rep)
    error = refused(inquiry, InvalidInput, lambda: escalate(rep, inquiry, to_tier=to_tier))
    assert error.field_errors == {"to_tier": ["Choose a tier above the inquiry's own."]}


def test_the_top_of_the_ladder_is_refused(supervisor, refused):
    inquiry = InquiryFactory(tier=Tier.SUPERVISOR)
    error = refused(inquiry, InvalidInput, lambda: escalate(supervisor, inquiry))
    assert error.message == "This inquiry is already at the top of the ladder."


@pytest.mark.parametrize("status", [InquiryStatus.RESOLVED, InquiryStatus.CLOSED])
def test_an_inquiry_that_is_not_active_does_not_move(rep, refused, status):
    inquiry = InquiryFactory(assignee=rep, status=status)
    error = refused(inquiry, InvalidInput, lambda: escalate(rep, inquiry))
    assert error.message == "Only an active inquiry moves on the ladder. Reopen it first."


# --- escalate: what the person must say --------------------------------------------------------


@pytest.mark.parametrize("reason", ["", None, "whim", Reason.AUTOMATIC])
def test_the_reason_is_required_and_from_the_list(rep, refused, reason):
    inquiry = InquiryFactory(assignee=rep)
    error = refused(inquiry, InvalidInput, lambda: escalate(rep, inquiry, reason=reason))
    assert list(error.field_errors) == ["reason"]


def test_every_reason_of_the_list_is_accepted(rep):
    for reason in (r for r in Reason if r not in (Reason.AUTOMATIC, Reason.OTHER)):
        assert escalate(rep, InquiryFactory(assignee=rep), reason=reason).reason == reason


def test_the_reason_other_needs_it_in_words(rep, refused):
    inquiry = InquiryFactory(assignee=rep)
    error = refused(inquiry, InvalidInput, lambda: escalate(rep, inquiry, reason=Reason.OTHER, reason_text=" "))
    assert list(error.field_errors) == ["reason_text"]
    e = escalate(rep, inquiry, reason=Reason.OTHER, reason_text="Legal letter received")
    assert (e.reason, e.reason_text) == (Reason.OTHER, "Legal letter received")


@pytest.mark.parametrize("tried", ["", "  \n  ", None])
def test_what_was_tried_is_required(rep, refused, tried):
    inquiry = InquiryFactory(assignee=rep)
    error = refused(inquiry, InvalidInput, lambda: escalate(rep, inquiry, tried=tried))
    assert list(error.field_errors) == ["tried"]


# --- escalate: telling the customer ------------------------------------------------------------


def test_the_customer_is_told_in_their_language_by_the_escalating_rep_before_the_move(rep, notice_templates):
    customer = CustomerFactory(preferred_language="ta")
    inquiry = InquiryFactory(customer=customer, assignee=rep)

    e = escalate(rep, inquiry, tell_customer=True)

    notice = Message.objects.get(inquiry=inquiry, kind=MessageKind.OUTBOUND)
    assert notice_templates["ta"].replace("{reference}", inquiry.reference) in notice.body
    assert (notice.author, notice.to_email) == (rep, customer.email)
    sent, moved = (
        InquiryEvent.objects.filter(inquiry=inquiry, type__in=[EventType.MESSAGE_OUT, EventType.ESCALATED])
        .order_by("pk")
        .values_list("type", "actor_user")
    )
    assert (sent, moved) == ((EventType.MESSAGE_OUT, rep.pk), (EventType.ESCALATED, rep.pk))
    assert e.customer_told and last_event(inquiry).details["customer_told"] is True
    assert fresh(inquiry).first_response_at == notice.created_at


def test_a_customer_in_a_language_without_the_notice_is_told_in_english(rep, notice_templates):
    ResponseTemplate.objects.filter(name="Escalation notice", language="bn").delete()
    inquiry = InquiryFactory(customer=CustomerFactory(preferred_language="bn"), assignee=rep)
    escalate(rep, inquiry, tell_customer=True)
    notice = Message.objects.get(inquiry=inquiry, kind=MessageKind.OUTBOUND)
    assert notice_templates["en"].replace("{reference}", inquiry.reference) in notice.body


def test_without_the_notice_template_the_customer_is_still_told(rep, notice_templates):
    ResponseTemplate.objects.filter(name="Escalation notice").delete()
    inquiry = InquiryFactory(assignee=rep)
    escalate(rep, inquiry, tell_customer=True)
    notice = Message.objects.get(inquiry=inquiry, kind=MessageKind.OUTBOUND)
    assert f"A senior colleague is now looking after your inquiry {inquiry.reference}" in notice.body


def test_the_customer_is_not_told_unless_asked(rep, notice_templates):
    inquiry = InquiryFactory(assignee=rep)
    assert not escalate(rep, inquiry).customer_told
    assert not Message.objects.filter(inquiry=inquiry, kind=MessageKind.OUTBOUND).exists()


# --- the time at each tier ---------------------------------------------------------------------


def test_the_time_at_each_tier_is_recorded(rep, senior, specialist):
    minutes = lambda n: T0 + dt.timedelta(minutes=n)  # noqa: E731
    with clock.frozen(T0):
        inquiry = InquiryFactory(assignee=rep, category=Category.BILLING)
    with clock.frozen(minutes(10)):
        first = escalate(rep, inquiry)
    with clock.frozen(minutes(40)):
        services.take_over(actor=senior, inquiry=inquiry)
    with clock.frozen(minutes(70)):
        second = escalate(senior, inquiry)
    with clock.frozen(minutes(100)):
        services.de_escalate(actor=specialist, inquiry=inquiry, note="Refund explained")
    with clock.frozen(minutes(130)):
        third = escalate(senior, inquiry)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.from_tier_seconds, first.seconds_at_tier, first.outcome, first.outcome_tier) == (
        600,
        3600,
        Outcome.ESCALATED_FURTHER,
        Tier.SPECIALIST,
    )
    assert (first.taken_by, first.taken_at, first.closed_at, first.closed_by_name) == (
        senior,
        minutes(40),
        minutes(70),
        "senior1",
    )
    assert (second.from_tier_seconds, second.seconds_at_tier, second.outcome, second.outcome_tier) == (
        3600,
        1800,
        Outcome.DE_ESCALATED,
        Tier.SENIOR_REP,
    )
    assert (third.from_tier, third.from_tier_seconds, third.seconds_at_tier) == (Tier.SENIOR_REP, 1800, None)
    assert fresh(inquiry).tier_changed_at == minutes(130)


# --- take over ---------------------------------------------------------------------------------


def test_take_over_makes_the_reviewer_the_assignee(senior):
    inquiry = at_tier(Tier.SENIOR_REP)
    with clock.frozen(T0):
        services.take_over(actor=senior, inquiry=inquiry)
    row, e = fresh(inquiry), Escalation.objects.get(inquiry=inquiry)
    assert (row.assignee, row.tier, row.version) == (senior, Tier.SENIOR_REP, inquiry.version + 1)
    assert (e.taken_by, e.taken_at, e.is_open) == (senior, T0, True)
    event = last_event(inquiry)
    assert (event.type, event.details) == (
        EventType.TAKEN_OVER,
        {"escalation": e.pk, "tier": 2, "old": "", "new": name(senior)},
    )


def test_taking_over_an_inquiry_one_already_has_changes_nothing(senior, refused):
    inquiry = at_tier(Tier.SENIOR_REP)
    services.take_over(actor=senior, inquiry=inquiry)
    before = ladder_state(inquiry)
    services.take_over(actor=senior, inquiry=inquiry)
    assert ladder_state(inquiry) == before


def test_taking_over_what_a_colleague_holds_is_a_conflict_naming_them(senior, senior2, refused):
    inquiry = at_tier(Tier.SENIOR_REP)
    services.take_over(actor=senior, inquiry=inquiry)
    error = refused(inquiry, Conflict, lambda: services.take_over(actor=senior2, inquiry=inquiry))
    assert error.message == f"{name(senior)} has already taken this inquiry over."


def test_a_reviewer_takes_over_from_a_lower_tier_assignee(senior, rep):
    """An inquiry at the senior tier still held by a rep (moved up by a data fix) is free to take."""
    inquiry = InquiryFactory(assignee=rep)
    type(inquiry).objects.filter(pk=inquiry.pk).update(tier=Tier.SENIOR_REP)
    services.take_over(actor=senior, inquiry=inquiry)
    assert fresh(inquiry).assignee == senior
    assert last_event(inquiry).details["old"] == name(rep)


def test_only_a_person_takes_over(refused):
    inquiry = at_tier(Tier.SENIOR_REP)
    error = refused(inquiry, PermissionDenied, lambda: services.take_over(actor=SYSTEM, inquiry=inquiry))
    assert error.message == "Only a person can take an inquiry over."


# --- return with coaching ----------------------------------------------------------------------


def test_a_return_goes_back_to_the_escalating_person_with_a_coaching_note(rep, senior):
    inquiry = InquiryFactory(assignee=rep)
    e = escalate(rep, inquiry)
    services.take_over(actor=senior, inquiry=inquiry)
    services.return_with_coaching(actor=senior, inquiry=inquiry, coaching_note="Offer the credit first.")

    row = fresh(inquiry)
    e.refresh_from_db()
    assert (row.tier, row.assignee) == (Tier.REP, rep)
    assert (e.outcome, e.outcome_tier, e.closed_by_name) == (Outcome.RETURNED, Tier.REP, "senior1")
    assert (e.coaching_note, e.coached_user, e.coach) == ("Offer the credit first.", rep, senior)
    event = last_event(inquiry)
    assert (event.type, event.details["coached"], event.details["to_user"]) == (
        EventType.RETURNED,
        name(rep),
        name(rep),
    )
    every_event = json.dumps(list(InquiryEvent.objects.filter(inquiry=inquiry).values_list("details", flat=True)))
    assert "Offer the credit first" not in every_event  # the words are never in an event


def test_a_return_goes_to_the_person_who_escalated_not_whoever_held_it(rep, rep2, senior):
    inquiry = InquiryFactory(assignee=rep2)
    e = escalate(rep, inquiry)  # rep1 escalates rep2's inquiry: the decision was rep1's
    services.return_with_coaching(actor=senior, inquiry=inquiry, coaching_note="Ask rep2 first.")
    e.refresh_from_db()
    assert (fresh(inquiry).assignee, e.coached_user) == (rep, rep)


@pytest.mark.parametrize("change", [{"tier": Tier.SENIOR_REP}, {"is_active": False}])
def test_a_return_goes_to_the_tier_queue_when_the_escalating_person_left_it(rep, supervisor, change):
    inquiry = InquiryFactory(assignee=rep)
    e = escalate(rep, inquiry)
    type(rep).objects.filter(pk=rep.pk).update(**change)
    services.return_with_coaching(actor=supervisor, inquiry=inquiry, coaching_note="Next time, ask first.")
    e.refresh_from_db()
    assert (fresh(inquiry).tier, fresh(inquiry).assignee, e.coached_user) == (Tier.REP, None, rep)


def test_a_rules_escalation_returns_to_whoever_had_the_inquiry(rep, senior):
    inquiry = InquiryFactory(assignee=rep)
    e = escalate(SYSTEM, inquiry)
    services.return_with_coaching(actor=senior, inquiry=inquiry, coaching_note="Answer within the hour.")
    e.refresh_from_db()
    assert (e.from_user, e.from_assignee, e.coached_user) == (None, rep, rep)
    assert fresh(inquiry).assignee == rep


@pytest.mark.parametrize("note", ["", "   ", None])
def test_a_return_needs_the_coaching_note(senior, refused, note):
    inquiry = at_tier(Tier.SENIOR_REP)
    error = refused(
        inquiry, InvalidInput, lambda: services.return_with_coaching(actor=senior, inquiry=inquiry, coaching_note=note)
    )
    assert list(error.field_errors) == ["coaching_note"]


def test_a_return_needs_an_open_escalation(senior, refused):
    inquiry = InquiryFactory(tier=Tier.SENIOR_REP)  # handed here, not escalated
    error = refused(
        inquiry, InvalidInput, lambda: services.return_with_coaching(actor=senior, inquiry=inquiry, coaching_note="x")
    )
    assert error.message == "There is no open escalation to return: reassign it instead."


def test_a_return_to_the_specialist_tier_needs_no_specialty_chosen(specialist, supervisor):
    inquiry = InquiryFactory(tier=Tier.SPECIALIST, category=Category.COMPLAINT)
    escalate(specialist, inquiry)
    services.return_with_coaching(actor=supervisor, inquiry=inquiry, coaching_note="Yours to finish.")
    assert (fresh(inquiry).tier, fresh(inquiry).assignee) == (Tier.SPECIALIST, specialist)


# --- reassign ----------------------------------------------------------------------------------


def test_reassign_hands_the_inquiry_to_a_lower_tiers_queue(supervisor):
    inquiry = at_tier(Tier.SUPERVISOR)
    services.take_over(actor=supervisor, inquiry=inquiry)
    e = services.reassign(actor=supervisor, inquiry=inquiry, to_tier=Tier.SENIOR_REP, note="A senior can do this")
    row = fresh(inquiry)
    assert (row.tier, row.assignee) == (Tier.SENIOR_REP, None)
    assert (e.outcome, e.outcome_tier, e.outcome_note, e.coaching_note) == (
        Outcome.REASSIGNED,
        Tier.SENIOR_REP,
        "A senior can do this",
        "",
    )
    event = last_event(inquiry)
    assert (event.type, event.details["from_tier"], event.details["to_tier"], event.details["note"]) == (
        EventType.REASSIGNED,
        4,
        2,
        "A senior can do this",
    )


def test_reassign_to_a_named_person_at_that_tier(supervisor, senior2):
    inquiry = at_tier(Tier.SUPERVISOR)
    services.reassign(actor=supervisor, inquiry=inquiry, to_tier=Tier.SENIOR_REP, to_user=senior2)
    assert fresh(inquiry).assignee == senior2


def test_reassign_to_a_named_person_at_another_tier_is_refused(supervisor, rep, refused):
    inquiry = at_tier(Tier.SUPERVISOR)
    error = refused(
        inquiry,
        InvalidInput,
        lambda: services.reassign(actor=supervisor, inquiry=inquiry, to_tier=Tier.SENIOR_REP, to_user=rep),
    )
    assert list(error.field_errors) == ["to_user"]


@pytest.mark.parametrize(
    ("category", "chosen", "specialty"),
    [
        (Category.BILLING, "", Specialty.BILLING),
        (Category.BILLING, Specialty.RETURNS, Specialty.RETURNS),
        (Category.COMPLAINT, Specialty.TECHNICAL, Specialty.TECHNICAL),
    ],
)
def test_reassign_to_specialists_goes_by_specialty(supervisor, category, chosen, specialty):
    inquiry = InquiryFactory(tier=Tier.SUPERVISOR, category=category)
    services.reassign(actor=supervisor, inquiry=inquiry, to_tier=Tier.SPECIALIST, specialty=chosen)
    assert (fresh(inquiry).tier, fresh(inquiry).specialty_needed) == (Tier.SPECIALIST, specialty)
    assert last_event(inquiry).details["specialty"] == specialty


def test_reassign_to_specialists_needs_a_specialty_when_the_category_names_none(supervisor, refused):
    inquiry = InquiryFactory(tier=Tier.SUPERVISOR, category=Category.COMPLAINT)
    error = refused(
        inquiry, InvalidInput, lambda: services.reassign(actor=supervisor, inquiry=inquiry, to_tier=Tier.SPECIALIST)
    )
    assert list(error.field_errors) == ["specialty"]


def test_reassign_to_a_specialist_who_does_not_cover_the_specialty_is_refused(supervisor, billing_specialist, refused):
    inquiry = InquiryFactory(tier=Tier.SUPERVISOR, category=Category.DELIVERY)
    error = refused(
        inquiry,
        InvalidInput,
        lambda: services.reassign(
            actor=supervisor, inquiry=inquiry, to_tier=Tier.SPECIALIST, to_user=billing_specialist
        ),
    )
    assert list(error.field_errors) == ["to_user"]


@pytest.mark.parametrize("to_tier", [Tier.SPECIALIST, Tier.SUPERVISOR, 5, 0, "x", None])
def test_reassign_only_goes_down(specialist, refused, to_tier):
    inquiry = at_tier(Tier.SPECIALIST)
    error = refused(
        inquiry, InvalidInput, lambda: services.reassign(actor=specialist, inquiry=inquiry, to_tier=to_tier)
    )
    assert error.field_errors == {"to_tier": ["Choose a tier below the inquiry's own."]}


# --- de-escalate -------------------------------------------------------------------------------


def test_de_escalate_goes_back_to_the_tier_and_person_it_came_from(rep, senior):
    inquiry = InquiryFactory(assignee=rep)
    e = escalate(rep, inquiry)
    services.de_escalate(actor=senior, inquiry=inquiry, note="Refund approved; rep1 tells the customer")
    e.refresh_from_db()
    assert (fresh(inquiry).tier, fresh(inquiry).assignee) == (Tier.REP, rep)
    assert (e.outcome, e.outcome_tier, e.outcome_note, e.coached_user) == (
        Outcome.DE_ESCALATED,
        Tier.REP,
        "Refund approved; rep1 tells the customer",
        None,
    )
    assert last_event(inquiry).type == EventType.DE_ESCALATED


def test_de_escalate_without_an_escalation_goes_to_the_first_tiers_queue(specialist):
    inquiry = InquiryFactory(tier=Tier.SPECIALIST, assignee=specialist)
    assert services.de_escalate(actor=specialist, inquiry=inquiry) is None
    assert (fresh(inquiry).tier, fresh(inquiry).assignee) == (Tier.REP, None)


def test_de_escalate_at_the_first_tier_is_refused(senior, refused):
    inquiry = InquiryFactory()
    error = refused(inquiry, InvalidInput, lambda: services.de_escalate(actor=senior, inquiry=inquiry))
    assert error.message == "This inquiry is already at the first tier."


# --- every review action: a stale version, an inquiry no longer active ------------------------

REVIEW_ACTIONS = {
    "escalate": lambda actor, inquiry, **kw: escalate(actor, inquiry, **kw),
    "take_over": lambda actor, inquiry, **kw: services.take_over(actor=actor, inquiry=inquiry, **kw),
    "return": lambda actor, inquiry, **kw: services.return_with_coaching(
        actor=actor, inquiry=inquiry, coaching_note="Try the credit first", **kw
    ),
    "reassign": lambda actor, inquiry, **kw: services.reassign(actor=actor, inquiry=inquiry, to_tier=1, **kw),
    "de_escalate": lambda actor, inquiry, **kw: services.de_escalate(actor=actor, inquiry=inquiry, **kw),
}


@pytest.mark.parametrize("action", REVIEW_ACTIONS)
def test_a_move_on_a_stale_version_is_a_conflict_that_says_where_the_inquiry_is(senior, refused, action):
    inquiry = at_tier(Tier.SENIOR_REP)
    seen = inquiry.version
    inquiry_services.note_add(actor=senior, inquiry=inquiry, body="Called the warehouse")
    error = refused(inquiry, Conflict, lambda: REVIEW_ACTIONS[action](senior, inquiry, expected_version=seen))
    assert error.message.startswith("Someone changed this inquiry a moment ago: it is now at the Senior rep tier")
    REVIEW_ACTIONS[action](senior, inquiry, expected_version=fresh(inquiry).version)


@pytest.mark.parametrize("action", REVIEW_ACTIONS)
def test_an_inquiry_no_longer_active_does_not_move(senior, refused, action):
    inquiry = at_tier(Tier.SENIOR_REP)
    inquiry_services.inquiry_set_status(actor=senior, inquiry=inquiry, status=InquiryStatus.RESOLVED)
    error = refused(inquiry, InvalidInput, lambda: REVIEW_ACTIONS[action](senior, inquiry))
    assert error.message == "Only an active inquiry moves on the ladder. Reopen it first."
