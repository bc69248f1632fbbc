"""The search vocabulary: words are remembered after commit, a word still being typed is expanded
into whole words, and search finds the same inquiries with or without the vocabulary."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from inquiries import selectors, services
from inquiries.models import SearchTerm
from inquiries.services.search_terms import search_terms_refresh

from ..conftest import require_service
from .factories import InquiryFactory


@pytest.fixture
def postgres(db):
    require_service(connection.vendor == "postgresql", "the search vocabulary is PostgreSQL's (set DATABASE_URL)")


def _ids(rep, q):
    return {i.pk for i in selectors.search_inquiries(actor=rep, q=q)}


def test_words_are_remembered_after_commit(postgres, rep, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = InquiryFactory(customer=customer, subject="Kettle whistle", body="The Clarkson kettle leaks")
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_send(actor=rep, inquiry=inquiry, body="We will send a Brightwater spare")
    words = set(SearchTerm.objects.values_list("word", flat=True))
    assert {"kettle", "whistle", "clarkson", "leaks", "brightwater"} <= words


def test_nothing_is_remembered_when_the_change_rolls_back(postgres, rep, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        InquiryFactory(customer=customer, subject="Zanzibarite", body="zanzibarite")
        raise RuntimeError("rolled back")
    assert not SearchTerm.objects.filter(word="zanzibarite").exists()


def test_a_word_still_being_typed_is_expanded_through_the_vocabulary(
    postgres, rep, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        clark = InquiryFactory(customer=customer, body="Regards, Jennifer Clarkson")
        InquiryFactory(customer=customer, body="Regards, Jennifer Smith")
        InquiryFactory(customer=customer, body="Clarkson without the first name")
    search_terms_refresh()
    assert selectors._tsquery("Jennifer Clark", prefix=True) == ("jennifer & (clarkson)", None)
    assert selectors._tsquery("Clark", prefix=True) == ("(clarkson)", 2)  # two messages: the plan's estimate
    assert _ids(rep, "Jennifer Clark") == {clark.pk}


def test_without_the_vocabulary_the_prefix_match_finds_the_same(postgres, rep, customer):
    clark = InquiryFactory(customer=customer, body="Regards, Jennifer Clarkson")  # on_commit not run: no words
    assert not SearchTerm.objects.exists()
    assert selectors._tsquery("Jennifer Clark", prefix=True) == ("jennifer & clark:*", None)
    assert _ids(rep, "Jennifer Clark") == {clark.pk}


def test_whole_words_do_not_need_the_prefix_pass(postgres, rep, customer):
    clark = InquiryFactory(customer=customer, body="Regards, Jennifer Clark")
    with CaptureQueriesContext(connection) as queries:
        assert _ids(rep, "Jennifer Clark") == {clark.pk}
    assert not any("inquiries_searchterm" in q["sql"] for q in queries.captured_queries)


def test_the_refresh_counts_documents_and_the_command_reports(postgres, customer, capsys):
    InquiryFactory(customer=customer, subject="Blender", body="blender jar cracked")
    InquiryFactory(customer=customer, subject="Toaster", body="the blender again")
    assert search_terms_refresh() > 0
    assert SearchTerm.objects.get(word="blender").documents == 3  # two bodies and one subject
    call_command("refresh_search_terms")
    assert "words counted" in capsys.readouterr().out


def test_the_command_runs_on_either_database(db, capsys):
    call_command("refresh_search_terms")
    expected = "words counted" if connection.vendor == "postgresql" else "PostgreSQL only"
    assert expected in capsys.readouterr().out


def test_a_fragment_of_one_or_two_letters_is_left_out(postgres, rep, customer):
    jennifer = InquiryFactory(customer=customer, body="Regards, Jennifer Clarkson")
    assert selectors._tsquery("Jennifer Cl", prefix=True) == ("jennifer", None)
    assert jennifer.pk in _ids(rep, "Jennifer Cl")


def test_completions_are_the_most_frequent_words_up_to_a_budget(postgres, monkeypatch):
    SearchTerm.objects.bulk_create(
        [SearchTerm(word="parcel", documents=9000), SearchTerm(word="parcels", documents=900)]
        + [SearchTerm(word=f"parc{i}x", documents=500) for i in range(10)]
    )
    words, documents = selectors._expansions("parc")
    assert words[:2] == ["parcel", "parcels"] and documents <= selectors.EXPANSION_DOCUMENTS
    monkeypatch.setattr(selectors, "EXPANSION_DOCUMENTS", 100)
    assert selectors._expansions("parc") == (["parcel"], 9000)  # the most frequent always, alone
