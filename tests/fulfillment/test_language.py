"""POST /preferences/language/ saves the staff member's language; pages render in it."""

from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _back_to_english():
    yield
    translation.activate("en")


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def test_the_saved_language_renders_the_next_page(rep_client, rep):
    response = rep_client.post("/preferences/language/", {"language": "ta", "next": "/orders/"})

    assert (response.status_code, response.url) == (302, "/orders/")
    rep.refresh_from_db()
    assert rep.language == "ta"
    page = rep_client.get("/orders/")
    assert page.status_code == 200
    assert '<html lang="ta">' in page.content.decode()


def test_the_saved_language_wins_over_the_browsers(client, rep):
    rep.language = "bn"
    rep.save(update_fields=["language"])
    client.force_login(rep)
    page = client.get("/orders/", HTTP_ACCEPT_LANGUAGE="hi")
    assert '<html lang="bn">' in page.content.decode()


@pytest.mark.parametrize("code", ["xx", "", "en-gb-bogus", "ta" * 10])
def test_an_unknown_language_is_a_400_and_changes_nothing(rep_client, rep, code):
    response = rep_client.post("/preferences/language/", {"language": code})
    assert response.status_code == 400
    assert response.json() == {"detail": "Unknown language."}
    rep.refresh_from_db()
    assert rep.language == "en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_next_may_not_leave_the_site(rep_client, target):
    response = rep_client.post("/preferences/language/", {"language": "fil", "next": target})
    assert (response.status_code, response.url) == (302, "/")


def test_anonymous_users_must_log_in_first(client):
    response = client.post("/preferences/language/", {"language": "ta"})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_get_is_not_allowed(rep_client):
    assert rep_client.get("/preferences/language/").status_code == 405
