"""The inbound-mail webhook: POST /inbound/mail/ with the raw mail, signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.test import Client

from inquiries.models import InboundMail, Inquiry, Message

from .mailkit import make_mail

SECRET = "webhook-secret-for-tests"
URL = "/inbound/mail/"


@pytest.fixture(autouse=True)
def _webhook(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FD_INBOUND_MAIL_SECRET = SECRET


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)  # the webhook alone is exempt


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, body: bytes, signature: str | None = None, path: str = URL):
    headers = {"X-Desk-Signature": sign(body) if signature is None else signature}
    return client.post(path, data=body, content_type="message/rfc822", headers=headers)


def test_a_signed_mail_opens_an_inquiry(db, client):
    response = post(client, make_mail())

    assert response.status_code == 200
    inquiry = Inquiry.objects.get()
    assert response.json() == {
        "inbound_mail": InboundMail.objects.get().pk,
        "state": "processed",
        "inquiry": inquiry.reference,
    }
    assert InboundMail.objects.get().source == "webhook"


def test_the_path_without_a_slash_works_too(db, client):
    assert post(client, make_mail(), path="/inbound/mail").status_code == 200


def test_the_same_mail_posted_twice_answers_with_the_same_inquiry(db, client):
    raw = make_mail()
    first = post(client, raw).json()

    second = post(client, raw)

    assert second.status_code == 200
    assert second.json()["state"] == "ignored"
    assert second.json()["inquiry"] == first["inquiry"]
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=" + "0" * 64,
        sign(b"another body"),
        sign(make_mail(), secret="wrong-secret"),
        sign(make_mail()).removeprefix("sha256="),
        "sha256=zz",
    ],
)
def test_a_bad_signature_is_refused_and_nothing_is_stored(db, client, signature):
    response = post(client, make_mail(), signature=signature)

    assert response.status_code == 403
    assert response.json()["type"] == "/problems/bad_signature"
    assert not InboundMail.objects.exists()


def test_the_signature_is_case_insensitive_hex(db, client):
    raw = make_mail()

    assert post(client, raw, signature=sign(raw).upper().replace("SHA256=", "sha256=")).status_code == 200


def test_without_a_secret_the_webhook_is_off(db, client, settings):
    settings.FD_INBOUND_MAIL_SECRET = ""
    raw = make_mail()

    response = post(client, raw, signature=sign(raw, secret=""))

    assert response.status_code == 404
    assert not InboundMail.objects.exists()


def test_an_oversized_mail_is_refused_with_413(db, client, settings):
    settings.FD_INBOUND_MAIL_MAX_BYTES = 500
    raw = make_mail(text="x" * 1000)

    response = post(client, raw)

    assert response.status_code == 413
    assert not InboundMail.objects.exists()


def test_a_signed_mail_that_cannot_be_processed_is_kept_and_accepted(db, client):
    raw = b"Subject: nobody\r\n\r\nno sender\r\n"

    response = post(client, raw)

    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "failed" and body["inquiry"] is None and "sender" in body["detail"]
    assert InboundMail.objects.get().state == InboundMail.State.FAILED


def test_an_empty_signed_body_is_a_400(db, client):
    assert post(client, b"").status_code == 400


def test_only_post_is_allowed(db, client):
    assert client.get(URL).status_code == 405


def test_a_bad_content_length_is_not_a_500(db):
    raw = make_mail()
    response = Client().generic("POST", URL, data=raw, CONTENT_LENGTH="lots", headers={"X-Desk-Signature": sign(raw)})

    assert response.status_code == 400
