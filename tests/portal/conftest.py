"""Fixtures for the customer portal tests: a resolved inquiry, status and survey links."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from fulfillment.actors import Actor
from inquiries.enums import InquiryStatus
from portal import services
from portal.enums import LinkPurpose

from ..inquiries.factories import InquiryFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def system(db):
    return Actor.system("tests")


@pytest.fixture
def inquiry(customer):
    return InquiryFactory(customer=customer, body="My parcel is late. <script>alert(1)</script>")


@pytest.fixture
def resolved(customer):
    return InquiryFactory(customer=customer, status=InquiryStatus.RESOLVED)


@pytest.fixture
def status_link(inquiry, system):
    return services.link_issue(actor=system, inquiry=inquiry)


@pytest.fixture
def survey_link(resolved, system):
    return services.link_issue(actor=system, inquiry=resolved, purpose=LinkPurpose.SURVEY, cycle=resolved.reopen_count)
