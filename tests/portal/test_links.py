"""Signed links: issued with only a hash kept, resolved by token, refused when expired, revoked
or meant for another purpose; staff issue and revoke them from the inquiry page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from fulfillment import clock
from fulfillment.errors import NotFound, PermissionDenied
from inquiries.enums import EventType
from portal import services
from portal.enums import LinkPurpose
from portal.models import CustomerLink

from ..inquiries.factories import InquiryFactory


def test_a_link_keeps_only_a_hash_and_resolves_to_its_inquiry(inquiry, status_link):
    link, token = status_link
    assert token not in (link.token_hash, link.salt) and len(token) >= 40
    assert services.link_resolve(token=token, purpose=LinkPurpose.STATUS).pk == link.pk
    assert inquiry.events.filter(type=EventType.STATUS_LINK_ISSUED).count() == 1


def test_a_status_token_is_not_a_survey_token(status_link):
    with pytest.raises(NotFound):
        services.link_resolve(token=status_link[1], purpose=LinkPurpose.SURVEY)


def test_an_unknown_or_altered_token_is_not_found(status_link):
    token = status_link[1]
    for wrong in ["", token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x", "x" * 500]:
        with pytest.raises(NotFound):
            services.link_resolve(token=wrong, purpose=LinkPurpose.STATUS)


def test_an_expired_link_is_refused(status_link):
    link, token = status_link
    with clock.frozen(link.expires_at + dt.timedelta(seconds=1)), pytest.raises(services.LinkExpired):
        services.link_resolve(token=token, purpose=LinkPurpose.STATUS)


def test_a_revoked_link_is_refused_and_revoking_twice_is_one_event(inquiry, status_link, rep):
    link, token = status_link
    services.link_revoke(actor=rep, link=link)
    services.link_revoke(actor=rep, link=link)
    with pytest.raises(services.LinkRevoked):
        services.link_resolve(token=token, purpose=LinkPurpose.STATUS)
    assert inquiry.events.filter(type=EventType.STATUS_LINK_REVOKED).count() == 1


def test_someone_without_a_staff_role_cannot_issue_or_revoke(inquiry, status_link, no_role_user):
    with pytest.raises(PermissionDenied):
        services.link_issue(actor=no_role_user, inquiry=inquiry)
    with pytest.raises(PermissionDenied):
        services.link_revoke(actor=no_role_user, link=status_link[0])
    assert CustomerLink.objects.get(pk=status_link[0].pk).revoked_at is None


def test_mails_reuse_a_live_link_and_make_a_new_one_near_its_end(inquiry):
    first = services.status_token(inquiry=inquiry)
    assert services.status_token(inquiry=inquiry) == first
    assert CustomerLink.objects.filter(inquiry=inquiry).count() == 1
    link = CustomerLink.objects.get(inquiry=inquiry)
    with clock.frozen(link.expires_at - dt.timedelta(days=1)):
        assert services.status_token(inquiry=inquiry) != first
    assert CustomerLink.objects.filter(inquiry=inquiry).count() == 2


@pytest.mark.parametrize(
    ("change", "status"),
    [("expired", 410), ("revoked", 403), ("unknown", 404)],
)
def test_a_link_that_does_not_work_gets_a_clear_page_in_the_visitors_words(status_link, rep, change, status):
    link, token = status_link
    now = clock.now()
    if change == "expired":
        now = link.expires_at + dt.timedelta(minutes=1)
    elif change == "revoked":
        services.link_revoke(actor=rep, link=link)
    else:
        token = token[::-1]
    with clock.frozen(now):
        response = Client().get(reverse("portal:status", args=[token]))
    assert response.status_code == status
    assert b"write to us and quote your reference" in response.content


def test_a_token_for_one_inquiry_never_shows_another(customer, status_link, system):
    other = InquiryFactory(customer=customer, subject="Another customer's secret parcel")
    services.link_issue(actor=system, inquiry=other)
    response = Client().get(reverse("portal:status", args=[status_link[1]]))
    assert response.status_code == 200
    assert other.reference.encode() not in response.content
    assert b"secret parcel" not in response.content
    # The survey page of the same token, and a score path for it, are refused as well.
    assert Client().get(reverse("portal:rate", args=[status_link[1], 5])).status_code == 404


def test_staff_issue_a_link_shown_once_and_revoke_it_from_the_inquiry_page(inquiry, rep):
    client = Client()
    client.force_login(rep)
    page = client.get(reverse("inquiries:detail", args=[inquiry.pk]))
    assert b"New status link for the customer" in page.content
    response = client.post(reverse("portal:link_issue", args=[inquiry.pk]))
    assert response.status_code == 200
    url = response.context["url"]
    token = url.rstrip("/").rsplit("/", 1)[1]
    link = services.link_resolve(token=token, purpose=LinkPurpose.STATUS)
    assert client.post(reverse("portal:link_revoke", args=[link.pk])).status_code == 302
    assert CustomerLink.objects.get(pk=link.pk).revoked_at is not None
    assert client.get(reverse("portal:link_revoke", args=[link.pk])).status_code == 405


def test_staff_buttons_need_a_login(inquiry, status_link):
    client = Client()
    assert client.post(reverse("portal:link_issue", args=[inquiry.pk])).status_code == 302
    assert client.post(reverse("portal:link_revoke", args=[status_link[0].pk])).status_code == 302
    assert CustomerLink.objects.filter(inquiry=inquiry).count() == 1


def test_the_inquiry_page_panel_costs_the_same_with_few_and_many_links(inquiry, rep, system):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(rep)
    url = reverse("inquiries:detail", args=[inquiry.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    services.link_issue(actor=system, inquiry=inquiry)
    client.get(url)
    few = count()
    for _ in range(6):
        services.link_issue(actor=system, inquiry=inquiry)
    assert count() == few
