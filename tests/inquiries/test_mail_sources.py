"""Where mail is read from: a real Maildir (filled through a real SMTP server on loopback) and a
real IMAP server on loopback (pymap), through ``manage.py fetch_mail``."""

from __future__ import annotations

import io
import os
import smtplib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inquiries.mail.sources import ImapConfig, MailSourceError, imap_fetch
from inquiries.models import InboundMail, Inquiry, Message

from .mailkit import ImapServer, LoopbackController, SmtpSink, make_mail, make_maildir

State = InboundMail.State
GARBAGE = b"Subject: no sender here\r\n\r\nWho wrote this?\r\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def fetch(**options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("fetch_mail", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def fetch_failing(**options) -> tuple[str, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("fetch_mail", stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue(), str(failure.value)


# --- Maildir ------------------------------------------------------------------------------------


@pytest.fixture
def maildir_path(tmp_path):
    return str(tmp_path / "Maildir")


@pytest.fixture
def maildir(maildir_path):
    return make_maildir(maildir_path)


@pytest.fixture
def smtp_to_maildir(maildir):
    """A real SMTP server on loopback that delivers every mail into ``maildir``."""
    controller = LoopbackController(SmtpSink(maildir))
    controller.start()
    yield controller
    controller.stop()


def deliver(controller, raw: bytes, sender: str = "asha@example.com") -> None:
    with smtplib.SMTP("127.0.0.1", controller.port, timeout=10) as smtp:
        smtp.sendmail(sender, ["support@desk.example"], raw)


def test_fetch_mail_reads_a_maildir_filled_over_smtp(db, maildir_path, maildir, smtp_to_maildir):
    deliver(smtp_to_maildir, make_mail(message_id="<a@mail.example.com>", subject="First"))
    deliver(smtp_to_maildir, make_mail(message_id="<b@mail.example.com>", subject="Second"))

    out, err = fetch(maildir=maildir_path)

    assert "2 mail read: 2 processed, 0 ignored, 0 failed." in out
    assert err == ""
    assert sorted(Inquiry.objects.values_list("subject", flat=True)) == ["First", "Second"]
    assert os.listdir(os.path.join(maildir_path, "new")) == []
    cur = sorted(os.listdir(os.path.join(maildir_path, "cur")))
    assert len(cur) == 2 and all(name.endswith(":2,S") for name in cur)
    assert set(InboundMail.objects.values_list("source", "state")) == {("maildir", State.PROCESSED)}

    out, _err = fetch(maildir=maildir_path)  # nothing new: nothing read twice
    assert "0 mail read" in out
    assert Message.objects.count() == 2


def test_a_failed_mail_is_reported_kept_and_moved_on(db, maildir_path, maildir, smtp_to_maildir):
    deliver(smtp_to_maildir, make_mail())
    deliver(smtp_to_maildir, GARBAGE)

    out, err, failure = fetch_failing(maildir=maildir_path)

    failed = InboundMail.objects.get(state=State.FAILED)
    [line] = err.strip().splitlines()
    assert line.startswith("failed: ") and f"(inbound mail #{failed.pk})" in line and "no valid sender" in line
    assert "2 mail read: 1 processed, 0 ignored, 1 failed." in out
    assert "1 mail could not be processed" in failure
    assert b"Who wrote this?" in bytes(failed.raw)
    assert os.listdir(os.path.join(maildir_path, "new")) == []  # stored, so not read again


def test_the_same_mail_delivered_twice_is_one_message(db, maildir_path, maildir):
    raw = make_mail(message_id="<dup@mail.example.com>")
    maildir.add(raw)
    maildir.add(raw)

    out, _err = fetch(maildir=maildir_path)

    assert "2 mail read: 1 processed, 1 ignored, 0 failed." in out
    assert Message.objects.count() == 1


def test_limit_reads_only_so_many(db, maildir_path, maildir):
    for n in range(3):
        maildir.add(make_mail(message_id=f"<n{n}@mail.example.com>"))

    out, _err = fetch(maildir=maildir_path, limit=2)

    assert "2 mail read" in out
    assert len(os.listdir(os.path.join(maildir_path, "new"))) == 1


def test_a_folder_that_is_not_a_maildir_is_refused(db, tmp_path):
    _out, _err, failure = fetch_failing(maildir=str(tmp_path))

    assert "is not a Maildir" in failure


def test_a_mail_that_cannot_be_stored_stays_new(db, maildir_path, maildir, monkeypatch):
    maildir.add(make_mail())

    def database_down(raw, source):
        raise RuntimeError("database down")

    monkeypatch.setattr("inquiries.mail.sources.mail_ingest", database_down)
    with pytest.raises(RuntimeError):
        fetch(maildir=maildir_path)

    assert len(os.listdir(os.path.join(maildir_path, "new"))) == 1


# --- IMAP ---------------------------------------------------------------------------------------


@pytest.fixture
def imap(settings):
    with ImapServer() as server:
        settings.FD_IMAP_HOST = "127.0.0.1"
        settings.FD_IMAP_PORT = server.port
        settings.FD_IMAP_USER = server.user
        settings.FD_IMAP_PASSWORD = server.password
        settings.FD_IMAP_SSL = False
        settings.FD_IMAP_FOLDER = "INBOX"
        settings.FD_IMAP_MOVE_TO = ""
        yield server


def test_fetch_mail_reads_unseen_imap_mail_and_flags_it_seen(db, imap):
    imap.append(make_mail(message_id="<old@mail.example.com>", subject="Read long ago"), flags="(\\Seen)")
    imap.append(make_mail(message_id="<i1@mail.example.com>", subject="One"))
    imap.append(make_mail(message_id="<i2@mail.example.com>", subject="Two"))

    out, err = fetch(imap=True)

    assert "2 mail read: 2 processed, 0 ignored, 0 failed." in out, err
    assert sorted(Inquiry.objects.values_list("subject", flat=True)) == ["One", "Two"]
    assert imap.uids(criterion="UNSEEN") == []
    assert len(imap.uids()) == 3  # flagged, not deleted
    assert set(InboundMail.objects.values_list("source", flat=True)) == {"imap"}

    out, _err = fetch(imap=True)
    assert "0 mail read" in out


def test_imap_mail_can_be_moved_to_a_folder(db, imap, settings):
    settings.FD_IMAP_MOVE_TO = "Processed"
    conn = imap.client()
    conn.create('"Processed"')
    conn.logout()
    imap.append(make_mail(message_id="<m1@mail.example.com>"))
    imap.append(GARBAGE)

    _out, err, _failure = fetch_failing(imap=True)

    assert "no valid sender" in err
    assert imap.uids() == []
    assert len(imap.uids("Processed")) == 2  # the failed one too: it is kept in InboundMail
    assert InboundMail.objects.filter(state=State.FAILED).count() == 1


def test_a_refused_imap_login_is_a_clear_error(db, imap, settings):
    settings.FD_IMAP_PASSWORD = "wrong"

    _out, _err, failure = fetch_failing(imap=True)

    assert "IMAP login refused" in failure


def test_imap_that_is_not_configured_is_a_clear_error(db, settings):
    settings.FD_IMAP_HOST = ""

    _out, _err, failure = fetch_failing(imap=True)

    assert "IMAP is not configured" in failure


def test_an_unreachable_imap_server_is_a_clear_error(db):
    config = ImapConfig(host="127.0.0.1", port=1, user="u", password="p", use_ssl=False)

    with pytest.raises(MailSourceError, match="Cannot connect"):
        list(imap_fetch(config))
