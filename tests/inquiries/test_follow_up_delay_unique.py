"""One follow-up delay per category and priority, blank meaning any: PostgreSQL's NULLS NOT
DISTINCT constraint enforces it; on SQLite (where it cannot be created) model validation — what
the admin runs — still refuses a second "any / any" row."""

import pytest
from django.core.exceptions import ValidationError

from inquiries.models import FollowUpDelay


def test_a_second_row_for_the_same_category_and_priority_is_refused(db):
    assert FollowUpDelay.objects.filter(category="", priority__isnull=True).exists()  # migration 0014's
    with pytest.raises(ValidationError):
        FollowUpDelay(category="", priority=None, delay_minutes=5).validate_constraints()
    FollowUpDelay(category="billing", priority=None, delay_minutes=5).validate_constraints()  # a new pair: fine
