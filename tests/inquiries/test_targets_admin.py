"""Service targets in the admin: calendars (R1, R9), policies and targets (R10), the one default
and the rules (R11), each save asking for a recompute job (R31); records and recomputes read-only,
"Run again" for a failed recompute; only those who may configure targets change anything."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from fulfillment import clock
from fulfillment.tiers import Tier
from inquiries.admin_targets import hours_summary
from inquiries.enums import Channel, InquiryStatus, Priority
from inquiries.models import (
    BusinessCalendar,
    Holiday,
    Inquiry,
    OpeningHours,
    PolicyRule,
    PolicyTarget,
    RecomputeState,
    ServicePolicy,
    TargetKind,
    TargetRecompute,
    TargetRecord,
)
from orders import services as order_services
from orders.enums import CustomerEventType, CustomerTier

from ..factories import CustomerFactory, UserFactory
from .factories import InquiryFactory


def url(model, view: str, *args) -> str:
    return reverse(f"admin:inquiries_{model._meta.model_name}_{view}", args=args)


def management(prefix: str, rows: list[dict], *, initial: int = 0) -> dict:
    """An inline formset as the admin posts it."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{name}": value for name, value in row.items()})
    return data


def hours(*rows: tuple[int, str, str]) -> list[dict]:
    return [{"weekday": str(day), "opens": opens, "closes": closes} for day, opens, closes in rows]


WEEKDAYS_9_TO_5 = hours(*[(day, "09:00", "17:00") for day in range(5)])


def calendar_form(calendar: BusinessCalendar | None = None, *, new_hours=(), holidays=(), **fields) -> dict:
    """The calendar's change form: its fields, its hours as they are (plus ``new_hours``) and
    its holidays (plus ``holidays``)."""
    data = {"name": "Night shift", "team": "Nights", "time_zone": "Europe/Berlin"}
    existing_hours, existing_holidays = [], []
    if calendar is not None:
        data.update({"name": calendar.name, "team": calendar.team, "time_zone": calendar.time_zone})
        existing_hours = [
            {
                "id": h.pk,
                "calendar": calendar.pk,
                "weekday": h.weekday,
                "opens": f"{h.opens:%H:%M}",
                "closes": f"{h.closes:%H:%M}",
            }
            for h in calendar.hours.order_by("pk")
        ]
        existing_holidays = [
            {"id": h.pk, "calendar": calendar.pk, "date": h.date.isoformat(), "name": h.name}
            for h in calendar.holidays.order_by("pk")
        ]
    data.update(fields)
    data.update(management("hours", existing_hours + list(new_hours), initial=len(existing_hours)))
    data.update(management("holidays", existing_holidays + list(holidays), initial=len(existing_holidays)))
    return data


def policy_form(policy: ServicePolicy | None = None, *, targets=(), replace_targets=None, **fields) -> dict:
    data = {"name": "Gold", "description": "", "calendar": str(standard_calendar().pk), "warn_percent": "75"}
    existing = []
    if policy is not None:
        data.update(
            {
                "name": policy.name,
                "description": policy.description,
                "calendar": str(policy.calendar_id),
                "warn_percent": str(policy.warn_percent),
            }
        )
        if policy.is_default:
            data["is_default"] = "on"
        existing = [
            {
                "id": t.pk,
                "policy": policy.pk,
                "priority": str(t.priority),
                "channel": t.channel,
                **{name: "" if getattr(t, name) is None else str(getattr(t, name)) for name in MINUTES},
            }
            for t in policy.targets.order_by("pk")
        ]
        if replace_targets:
            for row in existing:
                row.update(replace_targets.get(row["priority"], {}))
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    data.update(management("targets", existing + list(targets), initial=len(existing)))
    return data


MINUTES = ("first_response_minutes", "next_reply_minutes", "resolution_minutes")


def target(priority: int, channel: str = "", first: str = "30", reply: str = "60", resolution: str = "480") -> dict:
    return {
        "priority": str(priority),
        "channel": channel,
        "first_response_minutes": first,
        "next_reply_minutes": reply,
        "resolution_minutes": resolution,
    }


def standard_calendar() -> BusinessCalendar:
    """The calendar a fresh desk has (migration 0006): Monday to Friday, 09:00–17:00."""
    return BusinessCalendar.objects.get(name="Standard hours")


def default_policy() -> ServicePolicy:
    return ServicePolicy.objects.get(is_default=True)


def page_errors(response) -> str:
    return response.content.decode()


def configuration() -> dict:
    """Every row the target admin writes: a refused save must leave all of them as they were."""
    return {
        "calendars": list(BusinessCalendar.objects.order_by("pk").values()),
        "hours": list(OpeningHours.objects.order_by("pk").values()),
        "holidays": list(Holiday.objects.order_by("pk").values()),
        "policies": list(ServicePolicy.objects.order_by("pk").values()),
        "targets": list(PolicyTarget.objects.order_by("pk").values()),
        "rules": list(PolicyRule.objects.order_by("pk").values()),
        "recomputes": list(TargetRecompute.objects.order_by("pk").values()),
    }


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def staff_rep(db):
    return UserFactory(username="staffrep", tier=Tier.REP, is_staff=True)


@pytest.fixture
def rep_client(staff_rep):
    client = Client()
    client.force_login(staff_rep)
    return client


@pytest.fixture
def supervisor_client(db):
    client = Client()
    client.force_login(UserFactory(username="boss", tier=Tier.SUPERVISOR, is_staff=True))
    return client


@pytest.fixture
def open_inquiries(db):
    """Two open inquiries and a resolved one, all governed by the default policy and calendar."""
    found = [InquiryFactory(), InquiryFactory(priority=Priority.URGENT), InquiryFactory(status=InquiryStatus.RESOLVED)]
    assert {(i.policy_id, i.calendar_id) for i in found} == {(default_policy().pk, standard_calendar().pk)}
    return found


# --- calendars ----------------------------------------------------------------------------------


def test_a_calendar_is_added_with_its_hours_and_holidays(admin_client, admin_user):
    data = calendar_form(
        new_hours=[*WEEKDAYS_9_TO_5, *hours((5, "10:00", "00:00"), (6, "00:00", "00:00"))],
        holidays=[{"date": "2031-12-25", "name": "Christmas"}],
    )

    response = admin_client.post(url(BusinessCalendar, "add"), data, follow=True)

    assert response.redirect_chain, page_errors(response)
    calendar = BusinessCalendar.objects.get(name="Night shift")
    assert (calendar.team, calendar.time_zone) == ("Nights", "Europe/Berlin")
    assert sorted(calendar.hours.values_list("weekday", "opens", "closes")) == [
        *[(day, dt.time(9), dt.time(17)) for day in range(5)],
        (5, dt.time(10), dt.time(0)),
        (6, dt.time(0), dt.time(0)),
    ]
    assert list(calendar.holidays.values_list("date", "name")) == [(dt.date(2031, 12, 25), "Christmas")]
    job = TargetRecompute.objects.get()
    assert (job.calendar_id, job.policy_id, job.total, job.requested_by) == (calendar.pk, None, 0, admin_user.username)
    assert "Recomputing deadlines of 0 open inquiries." in response.content.decode()


def test_the_calendar_list_summarises_hours_and_counts_open_inquiries(admin_client, open_inquiries):
    response = admin_client.get(url(BusinessCalendar, "changelist"))

    page = response.content.decode()
    assert "Mon–Fri 09:00–17:00" in page
    row = page[page.index("Standard hours") :]
    assert '<td class="field-open_inquiries">2</td>' in row


def test_the_hours_summary_merges_days_with_the_same_hours():
    rows = [OpeningHours(weekday=day, opens=dt.time(9), closes=dt.time(17)) for day in range(5)]
    rows += [
        OpeningHours(weekday=5, opens=dt.time(13), closes=dt.time(0)),
        OpeningHours(weekday=5, opens=dt.time(8), closes=dt.time(12)),
    ]
    rows += [OpeningHours(weekday=6, opens=dt.time(0), closes=dt.time(0))]

    assert hours_summary(rows) == "Mon–Fri 09:00–17:00; Sat 08:00–12:00, 13:00–24:00; Sun 00:00–24:00"
    assert hours_summary([]) == "never open"


def test_saving_a_calendar_bumps_its_version_and_recomputes_what_it_governs(
    admin_client, open_inquiries, django_capture_on_commit_callbacks
):
    calendar = standard_calendar()
    other = BusinessCalendar.objects.create(name="Elsewhere")
    before = {i.pk: Inquiry.objects.values("due_at", "version").get(pk=i.pk) for i in open_inquiries}

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            url(BusinessCalendar, "change", calendar.pk),
            calendar_form(calendar, new_hours=hours((5, "10:00", "14:00"))),
            follow=True,
        )

    assert response.redirect_chain, page_errors(response)
    calendar.refresh_from_db()
    assert calendar.version == 2
    assert calendar.hours.filter(weekday=5).exists()
    job = TargetRecompute.objects.get()
    assert (job.calendar_id, job.policy_id, job.state, job.total) == (calendar.pk, None, RecomputeState.PENDING, 2)
    assert len(callbacks) == 1  # the worker is asked after commit
    page = response.content.decode()
    assert "Recomputing deadlines of 2 open inquiries." in page
    assert f'<a href="{url(TargetRecompute, "change", job.pk)}">Follow its progress.</a>' in page
    # The job does the work: the inquiries are not rewritten in the admin's request.
    assert {i.pk: Inquiry.objects.values("due_at", "version").get(pk=i.pk) for i in open_inquiries} == before
    assert BusinessCalendar.objects.get(pk=other.pk).version == 1


def test_saving_a_calendar_unchanged_asks_for_no_recompute(admin_client):
    calendar = standard_calendar()
    response = admin_client.post(url(BusinessCalendar, "change", calendar.pk), calendar_form(calendar))
    assert response.status_code == 302
    assert not TargetRecompute.objects.exists()
    assert BusinessCalendar.objects.get(pk=calendar.pk).version == 1


@pytest.mark.parametrize(
    ("new_hours", "error"),
    [
        (hours((0, "12:00", "20:00")), "Monday: opening hours overlap."),
        (hours((0, "16:59", "00:00")), "Monday: opening hours overlap."),
        (hours((2, "17:00", "09:00")), "The closing time must be after the opening time (00:00 means midnight)."),
        (hours((3, "10:00", "10:00")), "The closing time must be after the opening time (00:00 means midnight)."),
    ],
    ids=["overlap", "overlap-to-midnight", "closes-before-opens", "closes-at-opening"],
)
def test_refused_hours_on_an_existing_calendar_change_nothing(admin_client, new_hours, error):
    calendar = standard_calendar()
    before = configuration()

    response = admin_client.post(
        url(BusinessCalendar, "change", calendar.pk), calendar_form(calendar, new_hours=new_hours)
    )

    assert response.status_code == 200
    assert error in page_errors(response)
    assert configuration() == before


def test_hours_that_only_touch_are_accepted(admin_client):
    calendar = standard_calendar()
    response = admin_client.post(
        url(BusinessCalendar, "change", calendar.pk), calendar_form(calendar, new_hours=hours((0, "17:00", "20:00")))
    )
    assert response.status_code == 302, page_errors(response)
    assert calendar.hours.filter(weekday=0).count() == 2


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            calendar_form(new_hours=WEEKDAYS_9_TO_5, time_zone="Mars/Olympus_Mons"),
            "“Mars/Olympus_Mons” is not a known time zone (e.g. Asia/Kolkata).",
        ),
        (calendar_form(new_hours=[]), "A calendar must be open at least once a week: add opening hours."),
        (
            calendar_form(new_hours=[*WEEKDAYS_9_TO_5, *hours((1, "08:00", "10:00"))]),
            "Tuesday: opening hours overlap.",
        ),
    ],
    ids=["unknown-time-zone", "no-hours", "overlap"],
)
def test_a_refused_new_calendar_writes_nothing(admin_client, data, error):
    before = configuration()

    response = admin_client.post(url(BusinessCalendar, "add"), data)

    assert response.status_code == 200
    assert error in page_errors(response)
    assert configuration() == before


def test_a_known_time_zone_is_accepted(admin_client):
    response = admin_client.post(
        url(BusinessCalendar, "add"), calendar_form(new_hours=WEEKDAYS_9_TO_5, time_zone="Asia/Kolkata")
    )
    assert response.status_code == 302, page_errors(response)
    assert BusinessCalendar.objects.get(name="Night shift").time_zone == "Asia/Kolkata"


def test_deleting_every_opening_hour_is_refused(admin_client):
    calendar = standard_calendar()
    data = calendar_form(calendar)
    for i in range(calendar.hours.count()):
        data[f"hours-{i}-DELETE"] = "on"
    before = configuration()

    response = admin_client.post(url(BusinessCalendar, "change", calendar.pk), data)

    assert response.status_code == 200
    assert "A calendar must be open at least once a week" in page_errors(response)
    assert configuration() == before


def test_the_same_holiday_twice_is_a_form_error(admin_client):
    data = calendar_form(new_hours=WEEKDAYS_9_TO_5, holidays=[{"date": "2031-01-01"}, {"date": "2031-01-01"}])
    before = configuration()

    response = admin_client.post(url(BusinessCalendar, "add"), data)

    assert response.status_code == 200
    assert "Please correct the duplicate data for date" in page_errors(response)
    assert configuration() == before


def test_a_calendar_a_policy_uses_is_not_deleted(admin_client):
    calendar = standard_calendar()

    page = admin_client.get(url(BusinessCalendar, "delete", calendar.pk))
    response = admin_client.post(url(BusinessCalendar, "delete", calendar.pk), {"post": "yes"})

    assert page.status_code == response.status_code == 200
    assert "Cannot delete business calendar" in response.content.decode()
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_a_calendar_still_governing_open_inquiries_is_not_deleted(admin_client, open_inquiries):
    calendar = BusinessCalendar.objects.create(name="Old hours")
    Inquiry.objects.filter(pk=open_inquiries[0].pk).update(calendar=calendar)

    response = admin_client.post(url(BusinessCalendar, "delete", calendar.pk), {"post": "yes"})

    assert response.status_code == 200
    assert "“Old hours” governs 1 open inquiry" in response.content.decode()
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_an_unused_calendar_is_deleted(admin_client):
    calendar = BusinessCalendar.objects.create(name="Unused")
    response = admin_client.post(url(BusinessCalendar, "delete", calendar.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not BusinessCalendar.objects.filter(pk=calendar.pk).exists()


# --- policies and targets -----------------------------------------------------------------------


def test_a_policy_is_added_with_targets_per_priority_and_channel(admin_client):
    data = policy_form(targets=[target(Priority.URGENT), target(Priority.URGENT, Channel.PHONE, "15", "", "")])

    response = admin_client.post(url(ServicePolicy, "add"), data)

    assert response.status_code == 302, page_errors(response)
    policy = ServicePolicy.objects.get(name="Gold")
    assert not policy.is_default
    assert sorted(policy.targets.values_list("priority", "channel", *MINUTES)) == [
        (Priority.URGENT, "", 30, 60, 480),
        (Priority.URGENT, Channel.PHONE, 15, None, None),
    ]
    job = TargetRecompute.objects.get()
    assert (job.policy_id, job.calendar_id, job.total) == (policy.pk, None, 0)


@pytest.mark.parametrize("minutes", ["0", "-5"])
def test_a_target_must_be_positive(admin_client, minutes):
    before = configuration()
    data = policy_form(targets=[target(Priority.HIGH, first=minutes)])

    response = admin_client.post(url(ServicePolicy, "add"), data)

    assert response.status_code == 200
    assert "A target is a positive number of business minutes (leave it empty for none)." in page_errors(response)
    assert configuration() == before


def test_the_same_priority_and_channel_twice_is_a_form_error(admin_client):
    before = configuration()
    data = policy_form(targets=[target(Priority.HIGH, Channel.EMAIL), target(Priority.HIGH, Channel.EMAIL, "5")])

    response = admin_client.post(url(ServicePolicy, "add"), data)

    assert response.status_code == 200
    assert "Please correct the duplicate data for priority and channel" in page_errors(response)
    assert configuration() == before


def test_a_new_target_row_that_repeats_a_saved_one_is_a_form_error(admin_client):
    policy = default_policy()
    before = configuration()

    response = admin_client.post(
        url(ServicePolicy, "change", policy.pk), policy_form(policy, targets=[target(Priority.URGENT)])
    )

    assert response.status_code == 200
    assert "duplicate data for priority and channel" in page_errors(response)
    assert configuration() == before


def _row_of(data: dict, target_row: PolicyTarget) -> str:
    """The formset prefix (``targets-3``) of a saved target row in ``policy_form`` data."""
    return next(k.removesuffix("-id") for k, v in data.items() if k.endswith("-id") and v == target_row.pk)


def test_two_target_rows_can_swap_priority_and_channel(admin_client):
    policy = default_policy()
    any_channel = policy.targets.get(priority=Priority.URGENT, channel="")
    phone = PolicyTarget.objects.create(
        policy=policy, priority=Priority.URGENT, channel=Channel.PHONE, first_response_minutes=5
    )
    data = policy_form(policy)
    data[f"{_row_of(data, any_channel)}-channel"] = Channel.PHONE
    data[f"{_row_of(data, phone)}-channel"] = ""

    response = admin_client.post(url(ServicePolicy, "change", policy.pk), data)

    assert response.status_code == 302, page_errors(response)
    assert PolicyTarget.objects.get(pk=any_channel.pk).channel == Channel.PHONE
    assert PolicyTarget.objects.get(pk=phone.pk).channel == ""
    assert PolicyTarget.objects.get(pk=phone.pk).first_response_minutes == 5


def test_a_row_may_take_the_priority_of_a_row_deleted_in_the_same_save(admin_client):
    policy = default_policy()
    urgent = policy.targets.get(priority=Priority.URGENT, channel="")
    high = policy.targets.get(priority=Priority.HIGH, channel="")
    data = policy_form(policy)
    data[f"{_row_of(data, urgent)}-DELETE"] = "on"
    data[f"{_row_of(data, high)}-priority"] = str(Priority.URGENT)

    response = admin_client.post(url(ServicePolicy, "change", policy.pk), data)

    assert response.status_code == 302, page_errors(response)
    assert not PolicyTarget.objects.filter(pk=urgent.pk).exists()
    assert PolicyTarget.objects.get(pk=high.pk).priority == Priority.URGENT
    assert not policy.targets.filter(priority=Priority.HIGH).exists()


def test_saving_a_policy_bumps_its_version_and_recomputes_its_open_inquiries(admin_client, open_inquiries):
    policy = default_policy()

    response = admin_client.post(
        url(ServicePolicy, "change", policy.pk),
        policy_form(policy, replace_targets={str(Priority.URGENT): {"first_response_minutes": "20"}}),
        follow=True,
    )

    assert response.redirect_chain, page_errors(response)
    policy.refresh_from_db()
    assert policy.version == 2
    assert policy.targets.get(priority=Priority.URGENT, channel="").first_response_minutes == 20
    job = TargetRecompute.objects.get()
    assert (job.policy_id, job.calendar_id, job.total) == (policy.pk, None, 2)
    assert "Recomputing deadlines of 2 open inquiries." in response.content.decode()


def test_saving_a_policy_unchanged_asks_for_no_recompute(admin_client):
    policy = default_policy()
    response = admin_client.post(url(ServicePolicy, "change", policy.pk), policy_form(policy))
    assert response.status_code == 302, page_errors(response)
    assert not TargetRecompute.objects.exists()
    assert ServicePolicy.objects.get(pk=policy.pk).version == 1


def test_making_a_policy_the_default_unsets_the_old_one(admin_client, open_inquiries):
    old = default_policy()

    response = admin_client.post(
        url(ServicePolicy, "add"), policy_form(is_default="on", targets=[target(Priority.LOW)])
    )

    assert response.status_code == 302, page_errors(response)
    new = ServicePolicy.objects.get(name="Gold")
    assert list(ServicePolicy.objects.filter(is_default=True)) == [new]
    assert not ServicePolicy.objects.get(pk=old.pk).is_default
    # Which policy applies when no rule matches changed: every open inquiry is recomputed.
    job = TargetRecompute.objects.get()
    assert (job.policy_id, job.calendar_id, job.total) == (None, None, 2)
    assert job.reason == "The default policy is now “Gold”"


def test_switching_the_default_back_on_an_existing_policy(admin_client):
    old = default_policy()
    other = ServicePolicy.objects.create(name="Other", calendar=standard_calendar())

    response = admin_client.post(url(ServicePolicy, "change", other.pk), policy_form(other, is_default="on"))

    assert response.status_code == 302, page_errors(response)
    assert list(ServicePolicy.objects.filter(is_default=True).values_list("pk", flat=True)) == [other.pk]
    assert not ServicePolicy.objects.get(pk=old.pk).is_default


def test_unsetting_the_only_default_is_refused(admin_client):
    policy = default_policy()
    data = policy_form(policy)
    del data["is_default"]
    before = configuration()

    response = admin_client.post(url(ServicePolicy, "change", policy.pk), data)

    assert response.status_code == 200
    assert "One policy must be the default: make another policy the default instead." in page_errors(response)
    assert configuration() == before


@pytest.mark.parametrize("how", ["delete-view", "bulk-action"])
def test_a_policy_in_use_is_not_deleted(admin_client, open_inquiries, how):
    default = default_policy()
    used = ServicePolicy.objects.create(name="Used", calendar=standard_calendar())
    Inquiry.objects.filter(pk=open_inquiries[0].pk).update(policy=used)
    ruled = ServicePolicy.objects.create(name="Ruled", calendar=standard_calendar())
    PolicyRule.objects.create(name="Phone", policy=ruled, channel=Channel.PHONE)
    before = configuration()

    pages = []
    for policy in (default, used, ruled):
        if how == "delete-view":
            pages.append(admin_client.post(url(ServicePolicy, "delete", policy.pk), {"post": "yes"}))
        else:
            data = {"action": "delete_selected", "_selected_action": [policy.pk], "post": "yes"}
            pages.append(admin_client.post(url(ServicePolicy, "changelist"), data))

    assert [p.status_code for p in pages] == [200, 200, 200]
    texts = [p.content.decode() for p in pages]
    assert "“Standard” is the default policy: make another policy the default first." in texts[0]
    assert "“Used” governs 1 open inquiry: change the rules or policies first." in texts[1]
    assert "1 policy rule chooses “Ruled”: change or delete it first." in texts[2]
    assert configuration() == before


def test_an_unused_policy_is_deleted(admin_client):
    policy = ServicePolicy.objects.create(name="Spare", calendar=standard_calendar())
    response = admin_client.post(url(ServicePolicy, "delete", policy.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not ServicePolicy.objects.filter(pk=policy.pk).exists()


# --- rules --------------------------------------------------------------------------------------


def rule_form(**fields) -> dict:
    data = {
        "position": "10",
        "name": "VIP customers",
        "policy": str(default_policy().pk),
        "priority": "",
        "channel": "",
        "category": "",
        "customer_tier": CustomerTier.VIP,
        "is_active": "on",
    }
    data.update(fields)
    return data


def test_saving_a_rule_recomputes_every_open_inquiry(admin_client, open_inquiries, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(url(PolicyRule, "add"), rule_form(), follow=True)

    assert response.redirect_chain, page_errors(response)
    rule = PolicyRule.objects.get()
    assert (rule.position, rule.customer_tier, rule.is_active) == (10, CustomerTier.VIP, True)
    job = TargetRecompute.objects.get()
    assert (job.policy_id, job.calendar_id, job.total, job.reason) == (None, None, 2, "Policy rules changed")
    assert len(callbacks) == 1
    assert "Recomputing deadlines of 2 open inquiries." in response.content.decode()


def test_editing_positions_in_the_list_asks_for_one_recompute(admin_client, open_inquiries):
    policy = default_policy()
    first = PolicyRule.objects.create(position=1, name="First", policy=policy)
    second = PolicyRule.objects.create(position=2, name="Second", policy=policy)
    data = {
        **management(
            "form",
            [
                {"id": str(second.pk), "position": "1", "is_active": "on"},
                {"id": str(first.pk), "position": "2"},
            ],
            initial=2,
        ),
        "_save": "Save",
    }

    response = admin_client.post(url(PolicyRule, "changelist"), data)

    assert response.status_code == 302, page_errors(response)
    assert list(PolicyRule.objects.values_list("name", "position", "is_active")) == [
        ("Second", 1, True),
        ("First", 2, False),
    ]
    assert TargetRecompute.objects.count() == 1


def test_the_rule_list_is_in_position_order(admin_client):
    policy = default_policy()
    PolicyRule.objects.create(position=20, name="Later rule", policy=policy)
    PolicyRule.objects.create(position=5, name="Earlier rule", policy=policy)

    page = admin_client.get(url(PolicyRule, "changelist")).content.decode()

    assert page.index("Earlier rule") < page.index("Later rule")


@pytest.mark.parametrize("how", ["delete-view", "bulk-action"])
def test_deleting_rules_asks_for_one_recompute(admin_client, how):
    policy = default_policy()
    rules = [PolicyRule.objects.create(position=n, name=f"Rule {n}", policy=policy) for n in (1, 2)]

    if how == "delete-view":
        response = admin_client.post(url(PolicyRule, "delete", rules[0].pk), {"post": "yes"})
        left = 1
    else:
        data = {"action": "delete_selected", "_selected_action": [r.pk for r in rules], "post": "yes"}
        response = admin_client.post(url(PolicyRule, "changelist"), data)
        left = 0

    assert response.status_code == 302
    assert PolicyRule.objects.count() == left
    assert TargetRecompute.objects.get().reason == "Policy rules changed"


# --- records and recomputes ---------------------------------------------------------------------


def test_target_records_list_reference_kind_cycle_and_minutes(admin_client, open_inquiries):
    inquiry = open_inquiries[0]
    now = clock.now()
    TargetRecord.objects.create(
        inquiry=inquiry,
        kind=TargetKind.FIRST_RESPONSE,
        cycle=1,
        started_at=now - dt.timedelta(hours=1),
        stopped_at=now,
        target_minutes=60,
        taken_seconds=45 * 60,
        met=True,
    )

    response = admin_client.get(url(TargetRecord, "changelist"), {"kind": TargetKind.FIRST_RESPONSE, "met__exact": "1"})

    page = response.content.decode()
    assert response.status_code == 200
    assert inquiry.reference in page
    assert "45 / 60" in page
    assert reverse("admin:inquiries_inquiry_change", args=[inquiry.pk]) in page
    assert admin_client.post(url(TargetRecord, "add"), {}).status_code == 403


def failed_job(**fields) -> TargetRecompute:
    values = {
        "reason": "Policy rules changed",
        "state": RecomputeState.FAILED,
        "total": 4000,
        "done": 1000,
        "last_id": 1234,
        "error": "deadlock detected",
        "heartbeat_at": clock.now(),
    }
    values.update(fields)
    return TargetRecompute.objects.create(**values)


def test_recomputes_show_their_progress(admin_client):
    failed_job()
    page = admin_client.get(url(TargetRecompute, "changelist")).content.decode()
    assert "1000 / 4000 (25 %)" in page
    assert "deadlock detected" in page
    assert 'value="run_again"' in page


def test_run_again_puts_failed_recomputes_back_in_the_queue(admin_client, django_capture_on_commit_callbacks):
    failed = failed_job()
    done = failed_job(state=RecomputeState.DONE, error="", done=4000, finished_at=clock.now())

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            url(TargetRecompute, "changelist"),
            {"action": "run_again", "_selected_action": [failed.pk, done.pk]},
            follow=True,
        )

    page = response.content.decode()
    assert "1 recompute will run again." in page
    assert "1 recompute skipped: only failed ones run again." in page
    failed.refresh_from_db()
    assert (failed.state, failed.error, failed.heartbeat_at, failed.done, failed.last_id) == (
        RecomputeState.PENDING,
        "",
        None,
        1000,
        1234,
    )
    assert TargetRecompute.objects.get(pk=done.pk).state == RecomputeState.DONE
    assert len(callbacks) == 1


def test_staff_who_may_only_view_recomputes_cannot_run_them_again(client, staff_rep):
    staff_rep.user_permissions.add(Permission.objects.get(codename="view_targetrecompute"))
    client.force_login(staff_rep)
    job = failed_job()

    page = client.get(url(TargetRecompute, "changelist")).content.decode()
    client.post(url(TargetRecompute, "changelist"), {"action": "run_again", "_selected_action": [job.pk]})

    assert 'value="run_again"' not in page
    assert TargetRecompute.objects.get(pk=job.pk).state == RecomputeState.FAILED


# --- who may --------------------------------------------------------------------------------------

MODELS = [BusinessCalendar, ServicePolicy, PolicyRule, TargetRecord, TargetRecompute]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_reps_get_403(rep_client, model):
    assert rep_client.get(url(model, "changelist")).status_code == 403
    assert rep_client.get(url(model, "add")).status_code == 403


def test_a_rep_posting_changes_writes_nothing(rep_client):
    calendar, policy = standard_calendar(), default_policy()
    before = configuration()

    responses = [
        rep_client.post(url(BusinessCalendar, "add"), calendar_form(new_hours=WEEKDAYS_9_TO_5)),
        rep_client.post(url(BusinessCalendar, "change", calendar.pk), calendar_form(calendar, name="Renamed")),
        rep_client.post(url(ServicePolicy, "change", policy.pk), policy_form(policy, name="Renamed")),
        rep_client.post(url(PolicyRule, "add"), rule_form()),
        rep_client.post(url(ServicePolicy, "delete", policy.pk), {"post": "yes"}),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert configuration() == before


def test_model_permissions_do_not_let_a_rep_configure_targets(client, staff_rep):
    for codename in ("view_businesscalendar", "change_businesscalendar", "add_policyrule"):
        staff_rep.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(staff_rep)
    calendar = standard_calendar()
    before = configuration()

    view = client.get(url(BusinessCalendar, "change", calendar.pk))
    change = client.post(url(BusinessCalendar, "change", calendar.pk), calendar_form(calendar, name="Renamed"))
    add = client.post(url(PolicyRule, "add"), rule_form())

    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert (change.status_code, add.status_code) == (403, 403)
    assert configuration() == before


def test_a_supervisor_configures_targets_without_model_permissions(supervisor_client, open_inquiries):
    policy_page = supervisor_client.get(url(ServicePolicy, "change", default_policy().pk)).content.decode()
    assert 'name="targets-TOTAL_FORMS"' in policy_page
    assert 'name="targets-0-first_response_minutes"' in policy_page

    response = supervisor_client.post(url(PolicyRule, "add"), rule_form())
    assert response.status_code == 302, page_errors(response)
    assert TargetRecompute.objects.get().requested_by == "boss"
    assert supervisor_client.get(reverse("admin:index")).content.decode().count("Business calendars") == 1


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_page_opens_for_an_admin(admin_client, open_inquiries, model):
    failed_job()
    PolicyRule.objects.create(name="Phone", policy=default_policy(), channel=Channel.PHONE)
    TargetRecord.objects.create(
        inquiry=open_inquiries[0],
        kind=TargetKind.RESOLUTION,
        started_at=clock.now(),
        stopped_at=clock.now(),
        taken_seconds=60,
    )
    obj = model._default_manager.order_by("pk").first()

    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200
    expected_add = 403 if model in (TargetRecord, TargetRecompute) else 200
    assert admin_client.get(url(model, "add")).status_code == expected_add


# --- query counts -------------------------------------------------------------------------------


def _grow(model, n: int) -> None:
    calendar, policy = standard_calendar(), default_policy()
    for i in range(n):
        if model is BusinessCalendar:
            extra = BusinessCalendar.objects.create(name=f"Calendar {model.objects.count()}-{i}")
            OpeningHours.objects.create(calendar=extra, weekday=i % 7, opens=dt.time(8), closes=dt.time(12))
        elif model is ServicePolicy:
            ServicePolicy.objects.create(name=f"Policy {model.objects.count()}-{i}", calendar=calendar)
        elif model is PolicyRule:
            PolicyRule.objects.create(name=f"Rule {i}", policy=policy, position=i)
        elif model is TargetRecord:
            inquiry = InquiryFactory()
            TargetRecord.objects.create(
                inquiry=inquiry,
                kind=TargetKind.FIRST_RESPONSE,
                policy=policy,
                started_at=clock.now(),
                stopped_at=clock.now(),
                taken_seconds=60 * i,
                target_minutes=30,
                met=i % 2 == 0,
            )
        else:
            failed_job(policy=policy if i % 2 else None, calendar=calendar if i % 3 else None)


#: Session and user; the row count (twice, unfiltered too, where the table is small); the page of
#: rows with their counts of open inquiries as subqueries; and the calendars' opening hours, or
#: the policies of the rule list's filter.
CHANGELIST_QUERIES = {
    BusinessCalendar: 6,
    ServicePolicy: 5,
    PolicyRule: 6,
    TargetRecord: 4,
    TargetRecompute: 5,
}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelists_make_a_constant_number_of_queries(admin_client, open_inquiries, model, django_assert_num_queries):
    changelist = url(model, "changelist")
    _grow(model, 2)
    with django_assert_num_queries(CHANGELIST_QUERIES[model]):
        assert admin_client.get(changelist).status_code == 200

    _grow(model, 8)
    with django_assert_num_queries(CHANGELIST_QUERIES[model]):
        assert admin_client.get(changelist).status_code == 200


# --- the customer's tier (a rule condition) in the customer admin ---------------------------------


def test_the_customer_admin_shows_and_filters_by_tier(admin_client):
    CustomerFactory(name="Vera Important", tier=CustomerTier.VIP)
    CustomerFactory(name="Stan Dard")

    page = admin_client.get(reverse("admin:orders_customer_changelist"), {"tier__exact": CustomerTier.VIP})

    text = page.content.decode()
    assert "Vera Important" in text
    assert "Stan Dard" not in text
    assert '<td class="field-tier">VIP</td>' in text


def test_the_customer_tier_is_edited_in_the_admin_through_the_service(admin_client, admin_user):
    customer = CustomerFactory(name="Soon Important")
    data = {name: getattr(customer, name) for name in order_services.CUSTOMER_FIELDS}
    data.update(management("external_refs", []), tier=CustomerTier.VIP)

    response = admin_client.post(reverse("admin:orders_customer_change", args=[customer.pk]), data)

    assert response.status_code == 302, page_errors(response)
    customer.refresh_from_db()
    assert customer.tier == CustomerTier.VIP
    event = customer.events.get(type=CustomerEventType.UPDATED)
    assert event.details["changes"]["tier"] == [CustomerTier.STANDARD, CustomerTier.VIP]
    assert event.actor_user == admin_user
