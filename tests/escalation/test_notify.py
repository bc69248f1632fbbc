"""Staff notices: whom an escalation tells (the named person, else the tier by specialty; a
rule's move also the supervisors), sent through a real SMTP server on loopback once however
often the task runs, the claim released when sending fails; asked of a worker through the app's
own (filesystem) broker after commit — and when the broker cannot be reached, the move stands
and the every-minute sweep asks again."""

from __future__ import annotations

import ast
import datetime as dt
import email
import json
import logging
import socket
from email import policy

import pytest

from escalation.enums import Trigger
from escalation.models import Escalation, EscalationRule, RuleFiring
from escalation.services import notify
from escalation.tasks import notify_escalation, notify_firing, sweep_escalation_rules
from fulfillment import clock
from fulfillment.celery import app as celery_app
from fulfillment.models import Notification, StaffSpecialty
from fulfillment.tiers import Specialty, Tier
from inquiries.enums import Category
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory
from tests.inquiries.mailkit import LoopbackController, SmtpSink

from .test_auto_rules import HOUR, rule, sweep, urgent
from .test_ladder import T0, escalate

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback (aiosmtpd) behind Django's SMTP backend."""
    sink = SmtpSink()
    controller = LoopbackController(sink)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", controller.port, 10
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield sink
    controller.stop()


@pytest.fixture
def smtp_down(settings, smtp):
    """Point the backend at a loopback port nobody listens on (``smtp_down()`` restores it)."""
    working = settings.EMAIL_PORT
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = probe.getsockname()[1]

    def restore():
        settings.EMAIL_PORT = working

    return restore


@pytest.fixture
def broker(tmp_path, monkeypatch):
    """The app's filesystem transport in a folder of this test. ``broker()``: the (task, args)
    asked of a worker so far; ``broker.folder``: the queue folder (remove it: the broker is down)."""
    folder, processed = tmp_path / "queue", tmp_path / "processed"
    folder.mkdir()
    processed.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "processed_folder": str(processed)}
    monkeypatch.setitem(celery_app.conf, "broker_url", "filesystem://")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", options)
    monkeypatch.setattr(celery_app, "_pool", None)  # connect afresh, to this folder
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)

    def asked() -> list[tuple[str, list]]:
        messages = [json.loads(path.read_text()) for path in sorted(folder.glob("*.msg"))]
        return [(m["headers"]["task"], ast.literal_eval(m["headers"]["argsrepr"])) for m in messages]

    asked.folder = folder
    yield asked
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()


def staff(username: str, tier: int, *specialties: str, **kwargs):
    user = UserFactory(username=username, tier=tier, **kwargs)
    for specialty in specialties:
        StaffSpecialty.objects.create(user=user, specialty=specialty)
    return user


def usernames(users) -> list[str]:
    return sorted(user.username for user in users)


def received(sink: SmtpSink) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(raw, policy=policy.default) for raw in sink.messages]


# --- whom it tells -------------------------------------------------------------------------------


@pytest.fixture
def team(db):
    """Two seniors (and one who left, one without an email), two specialists, two supervisors."""
    return {
        "seniors": [staff("senior_a", Tier.SENIOR_REP), staff("senior_b", Tier.SENIOR_REP)],
        "gone": staff("senior_gone", Tier.SENIOR_REP, is_active=False),
        "mailless": staff("senior_mailless", Tier.SENIOR_REP, email=""),
        "billing": staff("spec_billing", Tier.SPECIALIST, Specialty.BILLING),
        "shipping": staff("spec_shipping", Tier.SPECIALIST, Specialty.SHIPPING, Specialty.RETURNS),
        "supervisors": [staff("boss_a", Tier.SUPERVISOR), staff("boss_b", Tier.SUPERVISOR)],
    }


def test_an_escalation_to_a_named_person_tells_only_them(rep, team):
    e = escalate(rep, InquiryFactory(assignee=rep), to_user=team["seniors"][1])
    assert usernames(notify.recipients(e)) == ["senior_b"]


def test_an_escalation_to_a_tier_tells_its_active_staff_with_an_email(rep, team):
    e = escalate(rep, InquiryFactory(assignee=rep))
    assert usernames(notify.recipients(e)) == ["senior_a", "senior_b"]


def test_a_named_person_without_an_email_leaves_it_to_the_tier(rep, team):
    e = escalate(rep, InquiryFactory(assignee=rep), to_user=team["mailless"])
    assert usernames(notify.recipients(e)) == ["senior_a", "senior_b"]


@pytest.mark.parametrize(
    ("category", "told"),
    [(Category.BILLING, ["spec_billing"]), (Category.RETURN, ["spec_shipping"])],
)
def test_a_specialist_escalation_tells_those_covering_its_specialty(senior, team, category, told):
    e = escalate(senior, InquiryFactory(tier=Tier.SENIOR_REP, category=category))
    assert usernames(notify.recipients(e)) == told


def test_a_specialty_nobody_covers_tells_every_specialist(senior, team):
    e = escalate(senior, InquiryFactory(tier=Tier.SENIOR_REP, category=Category.TECHNICAL))
    assert usernames(notify.recipients(e)) == ["spec_billing", "spec_shipping"]


def test_a_rules_escalation_also_tells_the_supervisors(team):
    urgent()
    rule(Trigger.FIRST_RESPONSE_BREACHED)
    [firing] = sweep(T0 + HOUR)
    assert usernames(notify.recipients(firing.escalation)) == ["boss_a", "boss_b", "senior_a", "senior_b"]


def test_a_rules_escalation_to_the_supervisors_tells_each_once(team):
    urgent(tier=Tier.SPECIALIST)
    rule(Trigger.FIRST_RESPONSE_BREACHED)
    [firing] = sweep(T0 + HOUR)
    assert usernames(notify.recipients(firing.escalation)) == ["boss_a", "boss_b"]


# --- sending: once, and again after a failure ---------------------------------------------------


def test_an_escalation_notice_is_sent_once_however_often_the_task_runs(rep, team, smtp):
    inquiry = InquiryFactory(assignee=rep, subject="Refund for a broken TV")
    e = escalate(rep, inquiry, reason_text="Wants 300.00 back")

    with clock.frozen(T0):
        assert notify_escalation(e.pk) == 2
    assert (notify_escalation(e.pk), notify.send_escalation_notice(e.pk)) == (0, 0)

    assert Escalation.objects.get(pk=e.pk).notified_at == T0
    assert sorted(rcpt for envelope in smtp.envelopes for rcpt in envelope.rcpt_tos) == [
        "senior_a@desk.example",
        "senior_b@desk.example",
    ]
    first = received(smtp)[0]
    assert first["Subject"] == f"[{inquiry.reference}] escalated to Senior rep: Refund for a broken TV"
    body = first.get_body(("plain",)).get_content()
    assert "rep1 escalated" in body and "Why: Wants 300.00 back" in body
    assert f"http://127.0.0.1:8000/inquiries/{inquiry.pk}/" in body
    # the same people see it in the app, once each, linking to the inquiry page (site-relative)
    assert sorted(Notification.objects.values_list("recipient__username", "key", "title", "url", "read_at")) == [
        (name, f"escalation:{e.pk}", first["Subject"], f"/inquiries/{inquiry.pk}/", None)
        for name in ("senior_a", "senior_b")
    ]


def test_a_failed_send_releases_the_claim_so_the_retry_sends_it(rep, team, smtp, smtp_down):
    e = escalate(rep, InquiryFactory(assignee=rep))
    with pytest.raises(OSError):  # the task retries on it
        notify.send_escalation_notice(e.pk)
    assert Escalation.objects.get(pk=e.pk).notified_at is None and smtp.messages == []

    smtp_down()
    assert notify.send_escalation_notice(e.pk) == 2
    assert len(smtp.messages) == 2
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["senior_a", "senior_b"]


def test_a_firing_at_the_top_tells_the_supervisors_once(team, smtp):
    inquiry = urgent(tier=Tier.SUPERVISOR)
    rule(Trigger.FIRST_RESPONSE_BREACHED, name="First reply late")
    [firing] = sweep(T0 + HOUR)
    assert (notify_firing(firing.pk), notify_firing(firing.pk)) == (2, 0)
    assert sorted(rcpt for envelope in smtp.envelopes for rcpt in envelope.rcpt_tos) == [
        "boss_a@desk.example",
        "boss_b@desk.example",
    ]
    assert received(smtp)[0]["Subject"] == f"[{inquiry.reference}] First reply late: {inquiry.subject}"
    assert sorted(Notification.objects.values_list("recipient__username", "key", "url")) == [
        (name, f"firing:{firing.pk}", f"/inquiries/{inquiry.pk}/") for name in ("boss_a", "boss_b")
    ]


def test_a_failed_firing_notice_is_sent_again_later(team, smtp, smtp_down):
    urgent(tier=Tier.SUPERVISOR)
    rule(Trigger.FIRST_RESPONSE_BREACHED)
    [firing] = sweep(T0 + HOUR)
    with pytest.raises(OSError):
        notify.send_firing_notice(firing.pk)
    assert RuleFiring.objects.get(pk=firing.pk).notified_at is None
    smtp_down()
    assert notify.send_firing_notice(firing.pk) == 2


# --- asked of a worker after commit; asked again by the sweep -------------------------------------


def test_the_notice_is_asked_of_a_worker_after_commit(rep, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        e = escalate(rep, InquiryFactory(assignee=rep))
        assert broker() == []  # not before the commit
    assert broker() == [("escalation.tasks.notify_escalation", [e.pk])]


def test_a_broker_outage_does_not_undo_the_move_and_the_sweep_asks_again(
    rep, broker, caplog, django_capture_on_commit_callbacks
):
    broker.folder.rmdir()  # the broker cannot be reached
    with clock.frozen(T0), caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        e = escalate(rep, InquiryFactory(assignee=rep))
    assert Escalation.objects.filter(pk=e.pk).exists()
    assert "could not reach the broker" in caplog.text

    broker.folder.mkdir()  # back
    with clock.frozen(T0 + MINUTE):
        sweep_escalation_rules()
    assert broker() == []  # a worker may still be at it
    with clock.frozen(T0 + 3 * MINUTE):
        sweep_escalation_rules()
    assert broker() == [("escalation.tasks.notify_escalation", [e.pk])]


def test_the_sweep_asks_again_for_unsent_notices_of_the_last_day_only(rep):
    urgent(tier=Tier.SUPERVISOR)
    late = rule(Trigger.FIRST_RESPONSE_BREACHED)
    [top] = sweep(T0 + HOUR)  # recorded, not moved: the supervisors' notice
    EscalationRule.objects.filter(pk=late.pk).update(active=False)
    with clock.frozen(T0 + HOUR):
        old = escalate(rep, InquiryFactory(assignee=rep))
    with clock.frozen(T0 + 20 * HOUR):
        recent = escalate(rep, InquiryFactory(assignee=rep))
        sent = escalate(rep, InquiryFactory(assignee=rep))
    Escalation.objects.filter(pk=sent.pk).update(notified_at=T0 + 20 * HOUR)

    assert notify.unsent(now=T0 + 20 * HOUR + MINUTE) == ([old.pk], [top.pk])
    assert notify.unsent(now=T0 + 20 * HOUR + 2 * MINUTE) == ([old.pk, recent.pk], [top.pk])
    assert notify.unsent(now=T0 + 25 * HOUR + MINUTE) == ([recent.pk], [])
