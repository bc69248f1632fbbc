"""Inbound mail in the admin: read-only, failures visible, "Process again"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from inquiries.mail.inbound import mail_ingest
from inquiries.models import InboundMail, Inquiry

from .mailkit import make_mail

CHANGELIST = reverse("admin:inquiries_inboundmail_changelist")
NO_SENDER = b"Subject: nobody\r\n\r\nno sender\r\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_list_shows_failures_with_a_constant_number_of_queries(db, admin_client, django_assert_max_num_queries):
    mail_ingest(NO_SENDER, "maildir")
    mail_ingest(make_mail(message_id="<a@x>"), "imap")
    with django_assert_max_num_queries(12) as few:
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert "no valid sender" in response.content.decode()
    assert 'value="reprocess"' in response.content.decode()

    for n in range(5):
        mail_ingest(make_mail(message_id=f"<more{n}@x>"), "imap")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(CHANGELIST).status_code == 200


def test_the_detail_shows_headers_and_the_raw_mail_escaped(db, admin_client):
    inbound = mail_ingest(make_mail(subject="<script>x</script>", text="<b>hi</b>"), "imap")

    response = admin_client.get(reverse("admin:inquiries_inboundmail_change", args=[inbound.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Subject: &lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x</script>" not in page
    assert 'name="_save"' not in page


def test_process_again_runs_a_failed_mail_after_the_cause_is_fixed(db, admin_client, settings):
    settings.FD_INBOUND_MAIL_MAX_BYTES = 100
    failed = mail_ingest(make_mail(), "imap")
    also_failed = mail_ingest(make_mail(message_id="<second@x>"), "maildir")
    settings.FD_INBOUND_MAIL_MAX_BYTES = 30 * 1024 * 1024
    ok = mail_ingest(make_mail(message_id="<ok@x>"), "imap")

    response = admin_client.post(
        CHANGELIST,
        {"action": "reprocess", "_selected_action": [failed.pk, also_failed.pk, ok.pk]},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "2 mails processed." in page
    assert "1 mail skipped: already processed." in page
    assert set(InboundMail.objects.values_list("state", flat=True)) == {InboundMail.State.PROCESSED}
    assert Inquiry.objects.count() == 3


def test_staff_who_may_only_view_cannot_process_again(db, client, rep):
    rep.is_staff = True
    rep.save()
    rep.user_permissions.add(Permission.objects.get(codename="view_inboundmail"))
    client.force_login(rep)
    failed = mail_ingest(NO_SENDER, "imap")

    listing = client.get(CHANGELIST)
    client.post(CHANGELIST, {"action": "reprocess", "_selected_action": [failed.pk]})

    assert listing.status_code == 200
    assert 'value="reprocess"' not in listing.content.decode()

    assert InboundMail.objects.get(pk=failed.pk).state == InboundMail.State.FAILED
