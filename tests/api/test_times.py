"""Times with unusual offsets are compared in UTC, never passed raw to the database."""

import pytest

from .conftest import assert_problem


@pytest.mark.parametrize("path", ["/api/v1/orders/", "/api/v1/customers/", "/api/v1/orders/feed/"])
def test_updated_after_with_a_far_offset_is_answered_not_crashed(rw, path):
    response = rw.get(path, {"updated_after": "0091-12-27T00:32:02+21:43"})
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert_problem(response, 400)


@pytest.mark.parametrize("path", ["/api/v1/orders/", "/api/v1/customers/", "/api/v1/orders/feed/"])
def test_updated_after_out_of_range_is_a_400(rw, path):
    response = rw.get(path, {"updated_after": "0001-01-01T00:00:00+23:59"})
    assert_problem(response, 400)
