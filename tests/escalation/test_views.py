"""The ladder's browser pages: access and roles, each action's happy path and a refusal (status,
message, nothing changed), CSRF, escaping, who reads a coaching note, the timeline's words, and
constant query counts on the review queue and the inquiry page's panel."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from escalation import services
from escalation.models import Escalation
from fulfillment.tiers import Tier
from inquiries import services as inquiry_services
from inquiries.enums import Category, RemedyKind, RemedyState
from inquiries.models import Inquiry, InquiryEvent, Message, Remedy
from orders.enums import PaymentKind
from tests.factories import CustomerFactory, UserFactory
from tests.inquiries.factories import InquiryFactory, paid_order
from tests.inquiries.helpers import orders_snapshot, snapshot

pytestmark = pytest.mark.django_db

COACHING = "Next time offer the courier call-back first: it solves most of these."

#: session, user; the approvals with inquiry, customer, order and asker; the page of inquiries with
#: customer and assignee; their open escalations with who escalated, the rule and who took over.
REVIEW_QUERIES = 5


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _state(inquiry) -> dict:
    """The inquiry and everything hanging off it, its escalations, every order and payment."""
    return {
        **snapshot(inquiry),
        "escalations": list(Escalation.objects.filter(inquiry_id=inquiry.pk).order_by("pk").values()),
        **orders_snapshot(),
    }


def _text(response) -> str:
    return response.content.decode()


@pytest.fixture
def rep2(db):
    return UserFactory(username="rep2", tier=Tier.REP, first_name="Ravi", last_name="Kumar")


def _escalated(rep, *, subject="Parcel never came", to_tier=Tier.SUPERVISOR, **kwargs) -> Inquiry:
    """An inquiry of ``rep``'s that rep escalated straight to ``to_tier``."""
    inquiry = InquiryFactory(assignee=rep, category=Category.COMPLAINT, subject=subject, **kwargs)
    skip = "The customer threatens to leave" if to_tier > Tier.SENIOR_REP else ""
    services.escalate(
        actor=rep, inquiry=inquiry, reason="complaint", tried="Apologised twice", to_tier=to_tier, skip_reason=skip
    )
    inquiry.refresh_from_db()
    return inquiry


def _request(rep, amount="250.00") -> Remedy:
    """A refund above a rep's limit (100): an approval request waiting for the senior tier."""
    inquiry = InquiryFactory(assignee=rep, category=Category.COMPLAINT)
    order = paid_order(inquiry.customer, "900.00")
    inquiry_services.link_order(actor=rep, inquiry=inquiry, order=order)
    remedy = inquiry_services.remedy_propose(
        actor=rep, inquiry=inquiry, kind=RemedyKind.REFUND, amount=amount, order=order, reason="Broke in transit"
    )
    assert remedy.state == RemedyState.PENDING_APPROVAL
    return remedy


def _returned_with_coaching(rep, supervisor) -> Inquiry:
    inquiry = _escalated(rep)
    services.return_with_coaching(actor=supervisor, inquiry=inquiry, coaching_note=COACHING)
    return inquiry


# --- access ------------------------------------------------------------------------------------


def _pages(inquiry, remedy) -> list[str]:
    pk = inquiry.pk
    return [
        "/escalation/review/",
        "/escalation/coaching/",
        f"/escalation/inquiries/{pk}/escalate/",
        f"/escalation/inquiries/{pk}/return/",
        f"/escalation/inquiries/{pk}/reassign/",
        f"/escalation/inquiries/{pk}/de-escalate/",
        f"/escalation/approvals/{remedy.pk}/approve/",
        f"/escalation/approvals/{remedy.pk}/deny/",
    ]


def test_every_page_needs_a_login_and_a_staff_role(rep, no_role_user):
    remedy = _request(rep)
    inquiry = _escalated(rep)
    anonymous = Client()
    for path in _pages(inquiry, remedy):
        response = anonymous.get(path)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), path
    response = anonymous.post(f"/escalation/inquiries/{inquiry.pk}/take-over/", {"version": inquiry.version})
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    no_role = _client(no_role_user)
    for path in _pages(inquiry, remedy):
        assert no_role.get(path).status_code == 403, path


def test_the_review_queue_is_for_senior_reps_and_above(rep, senior, specialist, supervisor):
    assert _client(rep).get("/escalation/review/").status_code == 403
    assert _client(senior).get("/escalation/review/").status_code == 200
    assert _client(senior).get("/escalation/review/?tier=4").status_code == 403  # not above their own
    assert _client(specialist).get("/escalation/review/").status_code == 200
    response = _client(supervisor).get("/escalation/review/?tier=2")  # a supervisor may look lower
    assert response.status_code == 200
    assert "Escalated to Senior rep" in _text(response)


def test_the_nav_offers_review_from_senior_rep_up_and_coaching_to_all_staff(rep, senior):
    rep_page = _text(_client(rep).get("/escalation/coaching/"))
    assert 'href="/escalation/coaching/"' in rep_page and 'href="/escalation/review/"' not in rep_page
    senior_page = _text(_client(senior).get("/escalation/coaching/"))
    assert 'href="/escalation/review/"' in senior_page


def test_take_over_is_post_only(rep, supervisor):
    inquiry = _escalated(rep)
    assert _client(supervisor).get(f"/escalation/inquiries/{inquiry.pk}/take-over/").status_code == 405


def test_posts_need_csrf(rep):
    inquiry = InquiryFactory(assignee=rep)
    before = _state(inquiry)
    strict = _client(rep, enforce_csrf_checks=True)
    response = strict.post(
        f"/escalation/inquiries/{inquiry.pk}/escalate/",
        {"reason": "authority", "tried": "x", "to_tier": Tier.SENIOR_REP, "version": inquiry.version},
    )
    assert response.status_code == 403
    assert _state(inquiry) == before


# --- escalate ----------------------------------------------------------------------------------


def test_the_escalate_form_proposes_the_next_tier_and_the_category_s_specialty(rep, senior, supervisor):
    inquiry = InquiryFactory(assignee=rep, category=Category.BILLING)
    response = _client(rep).get(f"/escalation/inquiries/{inquiry.pk}/escalate/")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["to_tier"] == Tier.SENIOR_REP
    assert form.initial["specialty"] == "billing"
    assert form.initial["version"] == inquiry.version
    assert [t for t, _label in form.fields["to_tier"].widget.choices] == [2, 3, 4]
    page = _text(response)
    assert '<optgroup label="Senior rep">' in page and '<optgroup label="Supervisor">' in page
    assert f'<option value="{senior.pk}">{escape(senior.get_full_name())}</option>' in page
    assert f'<option value="{rep.pk}">' not in page  # nobody at or below the inquiry's tier
    assert "Tell the customer a senior colleague is taking over" in _text(response)


def test_escalate_moves_the_inquiry_up_and_says_so(rep, senior):
    inquiry = InquiryFactory(assignee=rep, category=Category.COMPLAINT)
    response = _client(rep).post(
        f"/escalation/inquiries/{inquiry.pk}/escalate/",
        {
            "reason": "authority",
            "reason_text": "Wants 300 back",
            "tried": "Offered a 20.00 credit",
            "to_tier": Tier.SENIOR_REP,
            "to_user": senior.pk,
            "version": inquiry.version,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/inquiries/{inquiry.pk}/"
    assert "Escalated to the Senior rep tier." in _text(response)
    inquiry.refresh_from_db()
    assert (inquiry.tier, inquiry.assignee_id) == (Tier.SENIOR_REP, senior.pk)
    escalation = Escalation.objects.get(inquiry=inquiry)
    assert (escalation.reason, escalation.reason_text, escalation.tried) == (
        "authority",
        "Wants 300 back",
        "Offered a 20.00 credit",
    )
    page = _text(response)
    assert "Rep → Senior rep" in page and "Needs more authority than I have" in page


def test_escalate_to_a_specialist_carries_the_chosen_specialty(rep, senior):
    inquiry = InquiryFactory(assignee=senior, category=Category.DELIVERY, tier=Tier.SENIOR_REP)
    response = _client(senior).post(
        f"/escalation/inquiries/{inquiry.pk}/escalate/",
        {"reason": "expertise", "tried": "Tracked it", "to_tier": Tier.SPECIALIST, "specialty": "returns"},
    )
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.tier, inquiry.specialty_needed) == (Tier.SPECIALIST, "returns")


def test_the_customer_can_be_told_in_their_language(rep):
    inquiry = InquiryFactory(assignee=rep, customer=CustomerFactory(preferred_language="ta"))
    response = _client(rep).post(
        f"/escalation/inquiries/{inquiry.pk}/escalate/",
        {"reason": "customer_asked", "tried": "x", "to_tier": Tier.SENIOR_REP, "tell_customer": "on"},
    )
    assert response.status_code == 302
    assert Escalation.objects.get(inquiry=inquiry).customer_told
    notice = Message.objects.filter(inquiry=inquiry, kind="outbound").get()
    assert f"உங்கள் கோரிக்கை {inquiry.reference}" in notice.body  # the Tamil "Escalation notice"
    page = _text(_client(rep).get(f"/inquiries/{inquiry.pk}/"))
    assert "customer told" in page and "The customer was told a senior colleague is taking over." in page


def test_an_unknown_named_person_is_refused(rep):
    inquiry = InquiryFactory(assignee=rep)
    before = _state(inquiry)
    response = _client(rep).post(
        f"/escalation/inquiries/{inquiry.pk}/escalate/",
        {"reason": "authority", "tried": "x", "to_tier": Tier.SENIOR_REP, "to_user": 999999},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["to_user"] == ["Choose someone from the list."]
    assert _state(inquiry) == before


def test_skipping_a_tier_without_a_reason_is_refused_and_changes_nothing(rep):
    inquiry = InquiryFactory(assignee=rep)
    before = _state(inquiry)
    response = _client(rep).post(
        f"/escalation/inquiries/{inquiry.pk}/escalate/",
        {"reason": "complaint", "tried": "Apologised", "to_tier": Tier.SUPERVISOR, "version": inquiry.version},
    )
    assert response.status_code == 400
    assert "Going past the Senior rep tier needs a reason." in _text(response)
    assert response.context["form"].errors["skip_reason"]
    assert _state(inquiry) == before


def test_an_incomplete_escalate_form_is_400_and_changes_nothing(rep):
    inquiry = InquiryFactory(assignee=rep)
    before = _state(inquiry)
    response = _client(rep).post(f"/escalation/inquiries/{inquiry.pk}/escalate/", {"reason": "authority"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"tried", "to_tier"}
    assert _state(inquiry) == before


def test_two_people_escalating_at_once_the_second_gets_a_clear_conflict(rep, rep2):
    inquiry = InquiryFactory(assignee=rep)
    seen = inquiry.version
    data = {"reason": "authority", "tried": "x", "to_tier": Tier.SENIOR_REP, "version": seen}
    assert _client(rep).post(f"/escalation/inquiries/{inquiry.pk}/escalate/", data).status_code == 302
    inquiry.refresh_from_db()
    before = _state(inquiry)
    response = _client(rep2).post(f"/escalation/inquiries/{inquiry.pk}/escalate/", data)
    assert response.status_code == 409
    assert "Someone changed this inquiry a moment ago: it is now at the Senior rep tier" in _text(response)
    assert _state(inquiry) == before


def test_a_stale_version_is_a_409_that_says_what_happened(rep, senior):
    inquiry = InquiryFactory(assignee=senior, tier=Tier.SENIOR_REP)
    stale = inquiry.version
    inquiry_services.note_add(actor=senior, inquiry=inquiry, body="Called the warehouse")
    inquiry.refresh_from_db()
    before = _state(inquiry)
    response = _client(senior).post(
        f"/escalation/inquiries/{inquiry.pk}/escalate/",
        {"reason": "expertise", "tried": "x", "to_tier": Tier.SPECIALIST, "specialty": "shipping", "version": stale},
    )
    assert response.status_code == 409
    assert "Someone changed this inquiry a moment ago" in _text(response)
    assert _state(inquiry) == before
    # the form now carries the version the page shows: sending again is a decision made on it
    assert str(response.context["form"].data["version"]) == str(inquiry.version)


def test_an_inquiry_above_my_tier_offers_no_escalate_form(rep, supervisor):
    inquiry = _escalated(rep)
    before = _state(inquiry)
    response = _client(rep).get(f"/escalation/inquiries/{inquiry.pk}/escalate/")
    assert response.status_code == 403
    assert "you can work inquiries up to your own tier" in _text(response)
    assert response.context["form"] is None
    response = _client(rep).post(
        f"/escalation/inquiries/{inquiry.pk}/escalate/", {"reason": "authority", "tried": "x", "to_tier": 4}
    )
    assert response.status_code in (400, 403)
    assert _state(inquiry) == before


# --- take over, return, reassign, de-escalate ------------------------------------------------------


def test_take_over_from_the_review_queue_and_a_second_taker_is_told_who_has_it(rep, supervisor):
    inquiry = _escalated(rep)
    other = UserFactory(username="supervisor2", tier=Tier.SUPERVISOR, first_name="Meera", last_name="Iyer")
    response = _client(supervisor).post(
        f"/escalation/inquiries/{inquiry.pk}/take-over/",
        {"version": inquiry.version, "next": "review", "tier": "4"},
    )
    assert response.status_code == 302 and response.url == "/escalation/review/?tier=4"
    inquiry.refresh_from_db()
    assert inquiry.assignee_id == supervisor.pk
    assert Escalation.objects.get(inquiry=inquiry).taken_by_id == supervisor.pk
    before = _state(inquiry)
    response = _client(other).post(f"/escalation/inquiries/{inquiry.pk}/take-over/", {"version": inquiry.version})
    assert response.status_code == 409
    assert "has already taken this inquiry over" in _text(response)
    assert _state(inquiry) == before


def test_return_with_coaching_sends_it_back_to_the_rep(rep, supervisor):
    inquiry = _escalated(rep)
    client = _client(supervisor)
    page = client.get(f"/escalation/inquiries/{inquiry.pk}/return/")
    assert page.status_code == 200 and "Apologised twice" in _text(page)  # what was tried
    response = client.post(
        f"/escalation/inquiries/{inquiry.pk}/return/",
        {"coaching_note": COACHING, "version": inquiry.version},
        follow=True,
    )
    assert "Returned to the Rep tier with your coaching note." in _text(response)
    inquiry.refresh_from_db()
    assert (inquiry.tier, inquiry.assignee_id) == (Tier.REP, rep.pk)
    escalation = Escalation.objects.get(inquiry=inquiry)
    assert (escalation.outcome, escalation.coached_user_id, escalation.coaching_note) == ("returned", rep.pk, COACHING)


def test_return_without_a_note_is_refused_and_changes_nothing(rep, supervisor):
    inquiry = _escalated(rep)
    before = _state(inquiry)
    response = _client(supervisor).post(
        f"/escalation/inquiries/{inquiry.pk}/return/", {"coaching_note": "  ", "version": inquiry.version}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["coaching_note"]
    assert _state(inquiry) == before


def test_return_is_only_offered_with_an_open_escalation(supervisor):
    inquiry = InquiryFactory(assignee=supervisor, tier=Tier.SUPERVISOR)
    response = _client(supervisor).get(f"/escalation/inquiries/{inquiry.pk}/return/")
    assert response.status_code == 400
    assert "There is no open escalation to return" in _text(response)


def test_reassign_to_a_specialist_by_specialty(rep, supervisor, specialist):
    inquiry = _escalated(rep)
    response = _client(supervisor).post(
        f"/escalation/inquiries/{inquiry.pk}/reassign/",
        {"to_tier": Tier.SPECIALIST, "specialty": "billing", "note": "Billing dispute", "version": inquiry.version},
        follow=True,
    )
    assert "Reassigned to the Specialist tier." in _text(response)
    inquiry.refresh_from_db()
    assert (inquiry.tier, inquiry.specialty_needed) == (Tier.SPECIALIST, "billing")
    assert Escalation.objects.get(inquiry=inquiry).outcome == "reassigned"


def test_a_rep_may_not_reassign_or_take_over(rep):
    inquiry = InquiryFactory(assignee=rep)
    before = _state(inquiry)
    client = _client(rep)
    response = client.get(f"/escalation/inquiries/{inquiry.pk}/reassign/")
    assert response.status_code == 403
    assert "needs Senior rep or above" in _text(response)
    response = client.post(f"/escalation/inquiries/{inquiry.pk}/take-over/", {"version": inquiry.version})
    assert response.status_code == 403
    assert _state(inquiry) == before


def test_de_escalate_when_done(rep, senior):
    inquiry = _escalated(rep, to_tier=Tier.SENIOR_REP)
    response = _client(senior).post(
        f"/escalation/inquiries/{inquiry.pk}/de-escalate/",
        {"note": "Refund agreed; rep can close it", "version": inquiry.version},
        follow=True,
    )
    assert "De-escalated to the Rep tier." in _text(response)
    inquiry.refresh_from_db()
    assert (inquiry.tier, inquiry.assignee_id) == (Tier.REP, rep.pk)
    assert Escalation.objects.get(inquiry=inquiry).outcome == "de_escalated"


# --- approvals ---------------------------------------------------------------------------------------


def test_the_remedy_form_says_a_request_went_for_approval(rep):
    inquiry = InquiryFactory(assignee=rep, category=Category.COMPLAINT)
    order = paid_order(inquiry.customer, "400.00")
    inquiry_services.link_order(actor=rep, inquiry=inquiry, order=order)
    response = _client(rep).post(
        f"/inquiries/{inquiry.pk}/actions/remedy/",
        {"kind": "refund", "order": order.pk, "amount": "250.00", "reason": "Broke in transit"},
        follow=True,
    )
    page = _text(response)
    assert "Above your authority: sent to the Senior rep tier for approval." in page
    assert "Awaiting approval from Senior rep" in page
    assert "Approval requested" in page and "needs Senior rep" in page
    assert "Remedy proposed." not in page


def test_approve_executes_the_refund(rep, senior):
    remedy = _request(rep)
    client = _client(senior)
    assert client.get(f"/escalation/approvals/{remedy.pk}/approve/").status_code == 200
    response = client.post(f"/escalation/approvals/{remedy.pk}/approve/", {"note": "Fair"}, follow=True)
    page = _text(response)
    assert "Approved: Refund 250.00 USD carried out" in page
    remedy.refresh_from_db()
    assert (remedy.state, remedy.approved_by_id) == (RemedyState.ACCEPTED, senior.pk)
    assert remedy.order.payments.get(kind=PaymentKind.REFUND).amount == Decimal("250.00")
    assert "Remedy approved" in page and "refunded 250.00 USD on" in page


def test_approve_a_changed_amount_shows_what_was_asked(rep, supervisor):
    remedy = _request(rep)
    response = _client(supervisor).post(
        f"/escalation/approvals/{remedy.pk}/approve/", {"amount": "180.00", "next": "review", "tier": "2"}
    )
    assert response.status_code == 302 and response.url == "/escalation/review/?tier=2"
    remedy.refresh_from_db()
    assert (remedy.amount, remedy.requested_amount) == (Decimal("180.00"), Decimal("250.00"))
    page = _text(_client(rep).get(f"/inquiries/{remedy.inquiry_id}/"))
    assert "changed from 250.00" in page and "asked 250.00 USD" in page


def test_nobody_approves_their_own_request(senior):
    remedy = _request(senior, amount="600.00")  # above a senior's 500: waits for a specialist
    inquiry = remedy.inquiry
    before = _state(inquiry)
    client = _client(senior)
    response = client.get(f"/escalation/approvals/{remedy.pk}/approve/")
    assert response.status_code == 403
    response = client.post(f"/escalation/approvals/{remedy.pk}/approve/", {})
    assert response.status_code == 403
    assert "Nobody approves their own request" in _text(response)
    assert _state(inquiry) == before


def test_a_rep_may_not_approve(rep, rep2):
    remedy = _request(rep)
    before = _state(remedy.inquiry)
    client = _client(rep2)
    assert client.get(f"/escalation/approvals/{remedy.pk}/approve/").status_code == 403
    assert client.post(f"/escalation/approvals/{remedy.pk}/approve/", {}).status_code == 403
    assert _state(remedy.inquiry) == before


def test_a_second_approver_is_told_it_is_decided(rep, senior, supervisor):
    remedy = _request(rep)
    assert _client(senior).post(f"/escalation/approvals/{remedy.pk}/approve/", {}).status_code == 302
    before = _state(remedy.inquiry)
    response = _client(supervisor).post(f"/escalation/approvals/{remedy.pk}/deny/", {"note": "No"})
    assert response.status_code == 409
    assert "already answered this request" in _text(response)
    assert _state(remedy.inquiry) == before


def test_a_decided_request_offers_no_form(rep, senior, supervisor):
    remedy = _request(rep)
    inquiry_services.remedy_deny(actor=senior, remedy=remedy, note="No")
    response = _client(supervisor).get(f"/escalation/approvals/{remedy.pk}/approve/")
    assert response.status_code == 409
    assert "This request is no longer waiting: Not approved." in _text(response)
    assert "form" not in response.context or response.context.get("form") is None


def test_deny_needs_a_note_and_the_rep_reads_it(rep, senior):
    remedy = _request(rep)
    before = _state(remedy.inquiry)
    client = _client(senior)
    response = client.post(f"/escalation/approvals/{remedy.pk}/deny/", {"note": ""})
    assert response.status_code == 400
    assert _state(remedy.inquiry) == before
    response = client.post(f"/escalation/approvals/{remedy.pk}/deny/", {"note": "Offer a replacement instead"})
    assert response.status_code == 302
    remedy.refresh_from_db()
    assert remedy.state == RemedyState.DENIED
    page = _text(_client(rep).get(f"/inquiries/{remedy.inquiry_id}/"))
    assert "Remedy not approved" in page and "Offer a replacement instead" in page


# --- the review queue --------------------------------------------------------------------------------


def test_the_review_queue_shows_both_sections(rep, senior):
    remedy = _request(rep)
    inquiry = _escalated(rep, to_tier=Tier.SENIOR_REP, subject="Wrong colour twice")
    page = _text(_client(senior).get("/escalation/review/"))
    assert "Approvals waiting" in page and "Escalated to Senior rep" in page
    assert remedy.inquiry.reference in page and "250.00 USD" in page and "Broke in transit" in page
    assert inquiry.reference in page and "Wrong colour twice" in page
    assert "Serious complaint or threat to leave" in page  # the reason, in words
    assert f"/escalation/inquiries/{inquiry.pk}/take-over/" in page
    assert f"/escalation/approvals/{remedy.pk}/approve/" in page


def test_the_unassigned_filter(rep, senior):
    free = _escalated(rep, to_tier=Tier.SENIOR_REP, subject="Nobody has me")
    taken = _escalated(rep, to_tier=Tier.SENIOR_REP, subject="Someone has me")
    services.take_over(actor=senior, inquiry=taken)
    client = _client(senior)
    page = _text(client.get("/escalation/review/?unassigned=1"))
    assert free.reference in page and taken.reference not in page
    page = _text(client.get("/escalation/review/"))
    assert free.reference in page and taken.reference in page and "(taken over)" in page


def test_the_review_queue_escapes_what_customers_write(rep, supervisor):
    _escalated(rep, subject="<script>alert('x')</script>")
    page = _text(_client(supervisor).get("/escalation/review/"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


#: session, user, the approval requests with their inquiry, customer, order and asker
APPROVALS_QUERIES = 3


def _fill(rep, n: int) -> None:
    """n approval requests and n escalations waiting for the senior tier (each with its people)."""
    for i in range(n):
        _request(rep)
        _escalated(rep, to_tier=Tier.SENIOR_REP, subject=f"Escalated {i}")


def test_the_review_queue_makes_the_same_queries_for_2_and_22_rows(rep, senior, django_assert_num_queries):
    client = _client(senior)
    _fill(rep, 2)
    with django_assert_num_queries(REVIEW_QUERIES):
        response = client.get("/escalation/review/")
    assert len(response.context["approvals"]) == 2 and len(response.context["page"].items) == 2
    _fill(rep, 20)
    with django_assert_num_queries(REVIEW_QUERIES):
        response = client.get("/escalation/review/")
    # the ten requests waiting longest, and a link to them all
    assert len(response.context["approvals"]) == 10 and len(response.context["page"].items) == 22
    assert response.context["more_approvals"] and "/escalation/review/approvals/?tier=2" in _text(response)


def test_the_approvals_list_pages_every_request_in_constant_queries(rep, senior, django_assert_num_queries):
    client = _client(senior)
    for _ in range(2):
        _request(rep)
    with django_assert_num_queries(APPROVALS_QUERIES):
        response = client.get("/escalation/review/approvals/")
    assert len(response.context["page"].items) == 2
    for _ in range(20):
        _request(rep)
    with django_assert_num_queries(APPROVALS_QUERIES):
        response = client.get("/escalation/review/approvals/")
    rows = response.context["page"].items
    assert len(rows) == 22
    assert [r.created_at for r in rows] == sorted(r.created_at for r in rows)  # the longest waiting first
    assert all(r.may_decide for r in rows)


def test_the_approvals_list_is_for_reviewers(rep, senior):
    assert _client(rep).get("/escalation/review/approvals/").status_code == 403
    assert _client(senior).get("/escalation/review/approvals/?tier=4").status_code == 403


# --- coaching: the coached rep reads it, other reps never --------------------------------------------


def test_the_coached_rep_reads_the_note_and_other_reps_do_not(rep, rep2, supervisor):
    inquiry = _returned_with_coaching(rep, supervisor)
    mine = _text(_client(rep).get(f"/inquiries/{inquiry.pk}/"))
    assert COACHING in mine and "Coaching note for" in mine
    theirs = _client(rep2).get(f"/inquiries/{inquiry.pk}/")
    assert theirs.status_code == 200
    page = _text(theirs)
    assert COACHING not in page
    assert "with a coaching note for" in page  # the timeline says there is one, never the words
    assert COACHING in _text(_client(supervisor).get(f"/inquiries/{inquiry.pk}/"))


def test_my_coaching_lists_my_notes_only(rep, rep2, supervisor):
    inquiry = _returned_with_coaching(rep, supervisor)
    page = _text(_client(rep).get("/escalation/coaching/"))
    assert COACHING in page and inquiry.reference in page
    page = _text(_client(rep2).get("/escalation/coaching/"))
    assert COACHING not in page and "No coaching notes for you yet." in page


# --- the inquiry page's panel and timeline -------------------------------------------------------------


def test_the_panel_offers_what_the_user_may_do(rep, senior, supervisor):
    inquiry = _escalated(rep, to_tier=Tier.SENIOR_REP)
    rep_page = _text(_client(rep).get(f"/inquiries/{inquiry.pk}/"))
    assert f"/escalation/inquiries/{inquiry.pk}/escalate/" not in rep_page  # above the rep's tier
    assert f"/escalation/inquiries/{inquiry.pk}/take-over/" not in rep_page
    senior_page = _text(_client(senior).get(f"/inquiries/{inquiry.pk}/"))
    for action in ("escalate", "take-over", "return", "reassign", "de-escalate"):
        assert f"/escalation/inquiries/{inquiry.pk}/{action}/" in senior_page, action
    assert "Apologised" not in senior_page or "Tried" in senior_page


def test_the_panel_shows_requests_with_approve_and_deny_for_approvers_only(rep, senior):
    remedy = _request(rep)
    rep_page = _text(_client(rep).get(f"/inquiries/{remedy.inquiry_id}/"))
    assert "Waiting for the Senior rep tier or above to decide." in rep_page
    assert f"/escalation/approvals/{remedy.pk}/approve/" not in rep_page
    senior_page = _text(_client(senior).get(f"/inquiries/{remedy.inquiry_id}/"))
    assert f"/escalation/approvals/{remedy.pk}/approve/" in senior_page
    assert f"/escalation/approvals/{remedy.pk}/deny/" in senior_page


def test_the_timeline_tells_the_ladder_in_words(rep, senior, supervisor):
    inquiry = InquiryFactory(assignee=rep, category=Category.COMPLAINT)
    services.escalate(
        actor=rep,
        inquiry=inquiry,
        reason="other",
        reason_text="Lawyer letter",
        tried="Called twice",
        to_tier=Tier.SUPERVISOR,
        skip_reason="Legal threat",
    )
    services.take_over(actor=supervisor, inquiry=inquiry)
    services.reassign(actor=supervisor, inquiry=inquiry, to_tier=Tier.SENIOR_REP, to_user=senior, note="Yours now")
    page = _text(_client(supervisor).get(f"/inquiries/{inquiry.pk}/"))
    events = list(InquiryEvent.objects.filter(inquiry=inquiry).values_list("type", flat=True))
    assert {"escalated", "taken_over", "reassigned"} <= set(events)
    for words in (
        "Rep → Supervisor",
        "Other: Lawyer letter",
        "Skipped a tier: Legal threat",
        "Tried: Called twice",
        "at the Supervisor tier",
        "Supervisor → Senior rep",
        "Yours now",
    ):
        assert words in page, words


def test_the_panel_makes_the_same_queries_with_more_escalations_and_requests(rep, supervisor, senior):
    inquiry = InquiryFactory(assignee=rep, category=Category.COMPLAINT)
    order = paid_order(inquiry.customer, "5000.00")
    inquiry_services.link_order(actor=rep, inquiry=inquiry, order=order)
    client = _client(supervisor)

    def climb_and_return():
        services.escalate(actor=rep, inquiry=inquiry, reason="authority", tried="x")
        services.return_with_coaching(actor=senior, inquiry=inquiry, coaching_note="Try this")
        inquiry_services.remedy_propose(
            actor=rep, inquiry=inquiry, kind=RemedyKind.REFUND, amount="150.00", order=order, reason="r"
        )

    climb_and_return()
    client.get(f"/inquiries/{inquiry.pk}/")  # the first visit also creates the presence row
    with CaptureQueriesContext(connection) as small:
        client.get(f"/inquiries/{inquiry.pk}/")
    for _ in range(4):
        climb_and_return()
    with CaptureQueriesContext(connection) as large:
        response = client.get(f"/inquiries/{inquiry.pk}/")
    assert len(small) == len(large)
    assert _text(response).count("Try this") == 5
