"""Escalation in the admin: authority limits (no negative amount, no tier allowed less than a
tier below it, every save logged), automatic-escalation rules (clean validation, switched on and
off by actions, a rule that fired is never deleted), and, read-only, the escalations and the
rules' firings. Only supervisors and superusers open any of it; a rep gets 403."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalation import services
from escalation.enums import Kind, Outcome, Reason, Trigger
from escalation.models import Escalation, EscalationRule, RuleFiring
from escalation.services import auto
from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.tiers import Tier
from inquiries.enums import Category
from inquiries.models import AuthorityLimit

from ..factories import UserFactory
from ..inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

LATER = dt.datetime(2031, 3, 4, 5, 6, tzinfo=dt.UTC)
NEGATIVE = "An amount cannot be negative (leave it empty for no limit)."
MODELS = (AuthorityLimit, EscalationRule, Escalation, RuleFiring)


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def boss(db):
    """supervisor1, with the staff flag the admin's login needs."""
    return UserFactory(username="supervisor1", tier=Tier.SUPERVISOR, is_staff=True)


@pytest.fixture
def boss_client(client, boss):
    client.force_login(boss)
    return client


@pytest.fixture
def staff_rep(db):
    return UserFactory(username="rep1", tier=Tier.REP, is_staff=True)


@pytest.fixture
def senior_rep(db):
    return UserFactory(username="senior1", tier=Tier.SENIOR_REP)


def escalated(rep, **kwargs) -> Escalation:
    inquiry = InquiryFactory(assignee=rep, category=kwargs.pop("category", Category.DELIVERY))
    return services.escalate(actor=rep, inquiry=inquiry, reason=Reason.AUTHORITY, tried="Offered a credit", **kwargs)


@pytest.fixture
def history(staff_rep, senior_rep):
    """An open escalation, one returned with coaching, and an automatic one with its firing."""
    waiting = escalated(staff_rep)
    with clock.frozen(clock.now() - dt.timedelta(hours=3)):
        returned = escalated(staff_rep, category=Category.BILLING)
    with clock.frozen(clock.now() - dt.timedelta(hours=1)):
        services.return_with_coaching(
            actor=senior_rep, inquiry=returned.inquiry, coaching_note="Credits up to 50 are yours to give."
        )
    rule = EscalationRule.objects.get(name="First response breached")
    late = InquiryFactory()
    auto.fire(rule, auto.Breach(late.pk, "first_response"), now=clock.now() + dt.timedelta(days=30))
    returned.refresh_from_db()
    return {"waiting": waiting, "returned": returned, "rule": rule}


def limits() -> dict:
    return {row["tier"]: row for row in AuthorityLimit.objects.values()}


def limit_form(tier: int, **changes) -> dict:
    row = AuthorityLimit.objects.get(tier=tier)
    data = {
        "max_refund": "" if row.max_refund is None else str(row.max_refund),
        "max_credit": "" if row.max_credit is None else str(row.max_credit),
    }
    if row.may_replace:
        data["may_replace"] = "on"
    if row.may_extra_help:
        data["may_extra_help"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def rule_form(**changes) -> dict:
    data = {
        "name": "Two contacts",
        "trigger": Trigger.REPEAT_CONTACTS,
        "contacts": "2",
        "grace_minutes": "0",
        "up_to_tier": str(Tier.SUPERVISOR),
        "active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def errors_of(response) -> dict:
    form = response.context["adminform"].form
    return {name: [str(e) for e in errs] for name, errs in form.errors.items()}


# --- who may open it ------------------------------------------------------------------------------


def every_page(history) -> list[str]:
    return [
        url(AuthorityLimit, "changelist"),
        url(AuthorityLimit, "change", AuthorityLimit.objects.get(tier=Tier.REP).pk),
        url(EscalationRule, "changelist"),
        url(EscalationRule, "add"),
        url(EscalationRule, "change", history["rule"].pk),
        url(Escalation, "changelist"),
        url(Escalation, "change", history["returned"].pk),
        url(RuleFiring, "changelist"),
        url(RuleFiring, "change", RuleFiring.objects.get().pk),
    ]


def test_a_rep_with_staff_access_gets_403_on_every_page(history, staff_rep, client):
    client.force_login(staff_rep)
    for page in every_page(history):
        assert client.get(page).status_code == 403, page
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "/admin/escalation/" not in index.content.decode()


def test_model_permissions_do_not_open_it_to_a_rep(history, staff_rep, client):
    staff_rep.user_permissions.set(
        Permission.objects.filter(content_type__app_label="escalation", codename__startswith="view_")
    )
    client.force_login(staff_rep)
    assert client.get(url(Escalation, "changelist")).status_code == 403
    assert client.get(url(Escalation, "change", history["returned"].pk)).status_code == 403


def test_a_senior_rep_with_staff_access_gets_403(history, client):
    client.force_login(UserFactory(username="staffsenior", tier=Tier.SENIOR_REP, is_staff=True))
    assert client.get(url(Escalation, "changelist")).status_code == 403
    assert client.get(url(AuthorityLimit, "changelist")).status_code == 403


def test_without_staff_access_the_admin_asks_to_log_in(history, senior_rep, client):
    client.force_login(senior_rep)
    response = client.get(url(Escalation, "changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_every_page_opens_for_supervisor1_and_the_index_lists_the_section(history, boss_client):
    for page in every_page(history):
        assert boss_client.get(page).status_code == 200, page
    index = boss_client.get(reverse("admin:index")).content.decode()
    for model in MODELS:
        assert url(model, "changelist") in index


def test_every_page_opens_for_a_superuser(history, admin_client):
    for page in every_page(history):
        assert admin_client.get(page).status_code == 200, page


# --- authority limits -----------------------------------------------------------------------------


def test_the_limits_list_shows_every_tier_and_no_limit_for_the_supervisor(boss_client):
    page = boss_client.get(url(AuthorityLimit, "changelist")).content.decode()
    for label in ("Rep", "Senior rep", "Specialist", "Supervisor"):
        assert f">{label}</a>" in page
    assert "100.00" in page and "500.00" in page
    assert '<td class="field-refund_limit">no limit</td>' in page


def test_a_limit_is_changed_logged_and_dated(boss_client, boss):
    rep_limit = AuthorityLimit.objects.get(tier=Tier.REP)

    with clock.frozen(LATER):
        response = boss_client.post(url(AuthorityLimit, "change", rep_limit.pk), limit_form(Tier.REP, max_refund="120"))

    assert response.status_code == 302
    rep_limit.refresh_from_db()
    assert (rep_limit.max_refund, rep_limit.updated_at) == (Decimal("120.00"), LATER)
    entry = LogEntry.objects.get(object_id=str(rep_limit.pk))
    assert (entry.user, entry.action_flag, entry.get_change_message()) == (boss, CHANGE, "Changed Highest refund.")
    change_page = boss_client.get(url(AuthorityLimit, "change", rep_limit.pk)).content.decode()
    assert "2031" in change_page  # updated_at is shown


def test_a_limit_equal_to_the_tier_below_is_allowed(boss_client):
    senior = AuthorityLimit.objects.get(tier=Tier.SENIOR_REP)
    response = boss_client.post(url(AuthorityLimit, "change", senior.pk), limit_form(Tier.SENIOR_REP, max_refund="100"))
    assert response.status_code == 302
    assert limits()[Tier.SENIOR_REP]["max_refund"] == Decimal("100.00")


def test_an_empty_amount_means_no_limit(boss_client):
    specialist = AuthorityLimit.objects.get(tier=Tier.SPECIALIST)
    response = boss_client.post(
        url(AuthorityLimit, "change", specialist.pk), limit_form(Tier.SPECIALIST, max_credit="")
    )
    assert response.status_code == 302
    assert limits()[Tier.SPECIALIST]["max_credit"] is None


@pytest.mark.parametrize(
    "tier, changes, field, message",
    [
        (Tier.REP, {"max_refund": "-1"}, "max_refund", "An amount cannot be negative (leave it empty for no limit)."),
        (
            Tier.REP,
            {"max_credit": "-0.01"},
            "max_credit",
            "An amount cannot be negative (leave it empty for no limit).",
        ),
        (
            Tier.SENIOR_REP,
            {"max_refund": "99.99"},
            "max_refund",
            "A senior rep may not be allowed less than a rep: the rep limit is 100.00.",
        ),
        (
            Tier.REP,
            {"max_refund": "500.01"},
            "max_refund",
            "A senior rep may not be allowed less than a rep: the senior rep limit is 500.00.",
        ),
        (
            Tier.REP,
            {"max_credit": ""},
            "max_credit",
            "A senior rep may not be allowed less than a rep: the senior rep limit is 200.00.",
        ),
        (
            Tier.SUPERVISOR,
            {"max_credit": "499"},
            "max_credit",
            "A supervisor may not be allowed less than a specialist: the specialist limit is 500.00.",
        ),
        (
            Tier.SENIOR_REP,
            {"may_replace": None},
            "may_replace",
            "A senior rep may not be allowed less than a rep: only the rep may send a replacement.",
        ),
    ],
)
def test_a_refused_limit_shows_why_and_changes_nothing(boss_client, tier, changes, field, message):
    before = limits()
    row = AuthorityLimit.objects.get(tier=tier)

    response = boss_client.post(url(AuthorityLimit, "change", row.pk), limit_form(tier, **changes))

    assert response.status_code == 200
    assert message in errors_of(response)[field]
    assert limits() == before
    assert not LogEntry.objects.exists()


def test_a_higher_tier_with_no_limit_is_never_below(boss_client):
    specialist = AuthorityLimit.objects.get(tier=Tier.SPECIALIST)
    response = boss_client.post(
        url(AuthorityLimit, "change", specialist.pk), limit_form(Tier.SPECIALIST, max_refund="")
    )
    assert response.status_code == 302
    supervisor = AuthorityLimit.objects.get(tier=Tier.SUPERVISOR)
    refused = boss_client.post(
        url(AuthorityLimit, "change", supervisor.pk), limit_form(Tier.SUPERVISOR, max_refund="5000")
    )
    assert (
        "A supervisor may not be allowed less than a specialist: the specialist has no limit."
        in (errors_of(refused)["max_refund"])
    )


def test_a_missing_tier_is_added_and_checked_against_the_others(boss_client):
    AuthorityLimit.objects.filter(tier=Tier.SPECIALIST).delete()
    data = {"tier": str(Tier.SPECIALIST), "max_refund": "400", "max_credit": "300", "may_replace": "on"}
    data["may_extra_help"] = "on"

    refused = boss_client.post(url(AuthorityLimit, "add"), data)
    assert (
        "A specialist may not be allowed less than a senior rep: the senior rep limit is 500.00."
        in (errors_of(refused)["max_refund"])
    )
    assert not AuthorityLimit.objects.filter(tier=Tier.SPECIALIST).exists()

    data["max_refund"] = "800"
    assert boss_client.post(url(AuthorityLimit, "add"), data).status_code == 302
    assert limits()[Tier.SPECIALIST]["max_refund"] == Decimal("800.00")


def test_limits_cannot_be_deleted(boss_client):
    row = AuthorityLimit.objects.get(tier=Tier.REP)
    response = boss_client.post(url(AuthorityLimit, "delete", row.pk), {"post": "yes"})
    assert response.status_code == 403
    assert AuthorityLimit.objects.filter(pk=row.pk).exists()


# --- automatic-escalation rules -------------------------------------------------------------------


def test_the_rule_list_counts_firings(history, boss_client):
    page = boss_client.get(url(EscalationRule, "changelist")).content.decode()
    fired = RuleFiring.objects.filter(rule=history["rule"]).count()
    assert fired >= 1
    row = page[page.index("First response breached") :]
    assert f'<td class="field-times_fired">{fired}</td>' in row
    row = page[page.index("Resolution breached") :]
    assert '<td class="field-times_fired">0</td>' in row


def test_a_rule_is_added(boss_client, boss):
    with clock.frozen(LATER):
        response = boss_client.post(url(EscalationRule, "add"), rule_form())
    assert response.status_code == 302
    rule = EscalationRule.objects.get(name="Two contacts")
    assert (rule.trigger, rule.contacts, rule.active, rule.updated_at) == (Trigger.REPEAT_CONTACTS, 2, True, LATER)
    assert LogEntry.objects.get(object_id=str(rule.pk)).user == boss


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"contacts": ""}, "contacts", "Say how many customer contacts make this rule fire."),
        ({"contacts": "0"}, "contacts", "At least one contact."),
        (
            {"trigger": Trigger.CALLBACK_MISSED},
            "contacts",
            "Only a “Customer contacts without resolution” rule counts contacts: leave this empty.",
        ),
        ({"grace_minutes": "-5"}, "grace_minutes", "The grace period is zero or more minutes."),
    ],
)
def test_a_refused_rule_shows_why_and_saves_nothing(boss_client, changes, field, message):
    before = list(EscalationRule.objects.order_by("pk").values())

    response = boss_client.post(url(EscalationRule, "add"), rule_form(**changes))

    assert response.status_code == 200
    assert message in errors_of(response)[field]
    assert list(EscalationRule.objects.order_by("pk").values()) == before


def test_a_rule_without_contacts_for_another_trigger_is_fine(boss_client):
    response = boss_client.post(
        url(EscalationRule, "add"), rule_form(trigger=Trigger.RESOLUTION_BREACHED, contacts="", grace_minutes="30")
    )
    assert response.status_code == 302
    assert EscalationRule.objects.get(name="Two contacts").grace_minutes == 30


def test_rules_are_switched_on_and_off_by_the_actions(boss_client, boss):
    rules = list(EscalationRule.objects.order_by("pk"))
    assert not any(rule.active for rule in rules)
    picked = [str(rule.pk) for rule in rules[:2]]

    with clock.frozen(LATER):
        response = boss_client.post(
            url(EscalationRule, "changelist"), {"action": "activate", "_selected_action": picked}, follow=True
        )

    assert "2 rules switched on." in response.content.decode()
    assert len(rules) == 5  # the example rules of escalation 0002 and 0004
    assert [(r.active, r.updated_at == LATER) for r in EscalationRule.objects.order_by("pk")] == [
        (True, True),
        (True, True),
        (False, False),
        (False, False),
        (False, False),
    ]
    assert LogEntry.objects.filter(user=boss, action_flag=CHANGE).count() == 2

    response = boss_client.post(
        url(EscalationRule, "changelist"),
        {"action": "deactivate", "_selected_action": [str(rule.pk) for rule in rules]},
        follow=True,
    )
    assert "2 rules switched off." in response.content.decode()
    assert not EscalationRule.objects.filter(active=True).exists()


def test_a_rep_cannot_run_the_actions(history, staff_rep, client):
    before = list(EscalationRule.objects.order_by("pk").values())
    client.force_login(staff_rep)
    response = client.post(
        url(EscalationRule, "changelist"),
        {"action": "deactivate", "_selected_action": [str(history["rule"].pk)]},
    )
    assert response.status_code == 403
    assert list(EscalationRule.objects.order_by("pk").values()) == before


def test_a_rule_that_fired_is_not_deleted(history, boss_client):
    rule = history["rule"]
    page = boss_client.get(url(EscalationRule, "delete", rule.pk)).content.decode()
    assert "switch it off instead" in page

    response = boss_client.post(url(EscalationRule, "delete", rule.pk), {"post": "yes"})

    assert response.status_code == 200
    assert EscalationRule.objects.filter(pk=rule.pk).exists()
    assert RuleFiring.objects.filter(rule=rule).exists()


def test_a_rule_that_never_fired_can_be_deleted(boss_client):
    rule = EscalationRule.objects.get(name="Resolution breached")
    response = boss_client.post(url(EscalationRule, "delete", rule.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not EscalationRule.objects.filter(pk=rule.pk).exists()


# --- escalations and firings: read-only ---------------------------------------------------------


@pytest.mark.parametrize("model", [Escalation, RuleFiring])
def test_history_has_no_add_change_or_delete_permission(boss, admin_user, model):
    model_admin = admin.site._registry[model]
    for user in (boss, admin_user):
        request = RequestFactory().get("/admin/")
        request.user = user
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.get_actions(request)


@pytest.mark.parametrize("model", [Escalation, RuleFiring])
def test_posting_to_history_is_refused_and_changes_nothing(history, admin_client, model):
    row = model.objects.order_by("pk").first()
    before = list(model.objects.order_by("pk").values())

    add = admin_client.post(url(model, "add"), {"key": "x", "reason": "other"})
    change = admin_client.post(url(model, "change", row.pk), {"key": "x", "reason": "other"})
    delete = admin_client.post(url(model, "delete", row.pk), {"post": "yes"})

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert list(model.objects.order_by("pk").values()) == before


def test_the_escalation_list_shows_the_move_and_what_became_of_it(history, boss_client):
    returned = history["returned"]
    page = boss_client.get(url(Escalation, "changelist")).content.decode()

    assert f'<a href="/inquiries/{returned.inquiry_id}/">{returned.inquiry.reference}</a>' in page
    assert "Rep → Senior rep" in page
    assert "Returned with coaching" in page
    assert "2 h 00 min" in page  # returned after two hours at the senior tier
    assert "so far" in page  # the open one is still there
    assert "Automatic: a rule fired" in page
    row = page[page.index(returned.inquiry.reference) :]
    assert '<td class="field-coached"><img src="/static/admin/img/icon-yes.svg" alt="True"></td>' in row[:1500]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"open": "yes"}, "open"),
        ({"open": "no"}, "closed"),
        ({"kind__exact": Kind.AUTOMATIC}, "automatic"),
        ({"outcome__exact": Outcome.RETURNED}, "returned"),
        ({"reason__exact": Reason.AUTOMATIC}, "automatic"),
        ({"to_tier__exact": str(Tier.SENIOR_REP)}, "all"),
    ],
)
def test_the_escalation_filters(history, boss_client, query, expected):
    everything = Escalation.objects.all()
    wanted = {
        "open": everything.filter(closed_at__isnull=True),
        "closed": everything.filter(closed_at__isnull=False),
        "automatic": everything.filter(kind=Kind.AUTOMATIC),
        "returned": everything.filter(outcome=Outcome.RETURNED),
        "all": everything.filter(to_tier=Tier.SENIOR_REP),
    }[expected]
    assert wanted.exists()

    response = boss_client.get(url(Escalation, "changelist"), query)

    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == set(wanted.values_list("pk", flat=True))


@pytest.mark.parametrize("term", ["{pk}", "INQ-{pk:06d}", "inq-{pk:06d}", " INQ{pk} "])
def test_escalations_are_found_by_inquiry_number_or_reference(history, boss_client, term):
    inquiry_id = history["returned"].inquiry_id
    response = boss_client.get(url(Escalation, "changelist"), {"q": term.format(pk=inquiry_id)})
    assert {row.inquiry_id for row in response.context["cl"].result_list} == {inquiry_id}


def test_a_search_for_something_else_finds_nothing(history, boss_client):
    response = boss_client.get(url(Escalation, "changelist"), {"q": "parcel"})
    assert list(response.context["cl"].result_list) == []


def test_the_escalation_page_shows_every_field_with_the_coaching_note(history, boss_client):
    returned = history["returned"]
    page = boss_client.get(url(Escalation, "change", returned.pk)).content.decode()
    for text in (
        "Credits up to 50 are yours to give.",
        "Offered a credit",
        "Needs more authority than I have",
        "Returned with coaching",
        "senior1",
        "2 h 00 min",
    ):
        assert text in page, text


def test_the_firing_list_links_the_inquiry_and_the_escalation(history, boss_client):
    firing = RuleFiring.objects.get()
    page = boss_client.get(url(RuleFiring, "changelist")).content.decode()
    assert f'href="/inquiries/{firing.inquiry_id}/"' in page
    assert f'href="{url(Escalation, "change", firing.escalation_id)}">#{firing.escalation_id}</a>' in page
    assert "First response breached" in page and "first_response" in page


# --- query counts -------------------------------------------------------------------------------


def _queries(client, page: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(page).status_code == 200
    return len(captured)


def test_the_escalation_list_makes_as_many_queries_for_22_rows_as_for_2(
    boss_client, staff_rep, senior_rep, django_assert_num_queries
):
    for i in range(2):
        e = escalated(staff_rep)
        if i:
            services.return_with_coaching(actor=senior_rep, inquiry=e.inquiry, coaching_note="Next time, ask first.")
    page = url(Escalation, "changelist")
    few = _queries(boss_client, page)

    for i in range(20):
        e = escalated(staff_rep, category=Category.BILLING)
        if i % 2:
            services.return_with_coaching(actor=senior_rep, inquiry=e.inquiry, coaching_note="Next time, ask first.")
    assert Escalation.objects.count() == 22

    with django_assert_num_queries(few):
        response = boss_client.get(page)
    assert len(response.context["cl"].result_list) == 22


def test_the_rule_and_firing_lists_make_as_many_queries_for_more_rows(boss_client, django_assert_num_queries):
    rule = EscalationRule.objects.get(name="First response breached")
    rule.active = True
    rule.save()
    for _ in range(2):
        InquiryFactory()
    later = clock.now() + dt.timedelta(days=30)
    services.apply_rules(now=later)
    pages = [url(RuleFiring, "changelist"), url(EscalationRule, "changelist")]
    few = [_queries(boss_client, page) for page in pages]

    for _ in range(20):
        InquiryFactory()
    services.apply_rules(now=later)
    assert RuleFiring.objects.count() == 22

    for page, count in zip(pages, few, strict=True):
        with django_assert_num_queries(count):
            boss_client.get(page)


def test_switching_rules_goes_through_one_function_for_the_demo_and_the_admin():
    from escalation.services import set_rules_active

    rules = list(EscalationRule.objects.all())
    changed = set_rules_active(actor=Actor.system("demo"), rules=rules, active=True)
    assert len(changed) == len(rules) == 5
    assert set_rules_active(actor=Actor.system("demo"), rules=rules, active=True) == []
