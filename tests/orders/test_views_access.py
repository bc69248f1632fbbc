"""Who may open what: anonymous → login, no staff role → 403, a rep → the page."""

from __future__ import annotations

import pytest
from django.urls import get_resolver

from ..factories import HandoffFactory, OrderFactory

#: Every staff URL of the desk: name → (method, path template).
STAFF_URLS = {
    "home": ("get", "/"),
    "orders:list": ("get", "/orders/"),
    "orders:detail": ("get", "/orders/{number}/"),
    "orders:action": ("post", "/orders/{number}/actions/confirm/"),
    "orders:handoff_state": ("post", "/handoffs/{handoff}/state/"),
    "orders:customers": ("get", "/customers/"),
    "orders:customer_new": ("get", "/customers/new/"),
    "orders:customer": ("get", "/customers/{customer}/"),
    "orders:customer_edit": ("get", "/customers/{customer}/edit/"),
    "orders:order_new": ("get", "/customers/{customer}/orders/new/"),
    "orders:search": ("get", "/search/?q=ada"),
}
PAGES = [name for name, (method, _path) in STAFF_URLS.items() if method == "get" and name != "home"]


@pytest.fixture
def urls(db):
    order = OrderFactory()
    handoff = HandoffFactory(order=order)
    ids = {"number": order.number, "customer": order.customer_id, "handoff": handoff.pk}
    return {name: (method, path.format(**ids)) for name, (method, path) in STAFF_URLS.items()}


def _names(patterns, namespace=""):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _names(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else namespace)
        elif pattern.name:
            yield namespace + pattern.name


def test_the_matrix_lists_every_desk_url():
    desk = {name for name in _names(get_resolver().url_patterns) if name.startswith("orders:")} | {"home"}
    assert desk == set(STAFF_URLS)


@pytest.mark.parametrize("name", STAFF_URLS)
def test_anonymous_users_are_sent_to_the_login_page(client, urls, name):
    method, path = urls[name]
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.parametrize("name", STAFF_URLS)
def test_a_user_without_a_staff_role_gets_403(no_role_client, urls, name):
    method, path = urls[name]
    response = getattr(no_role_client, method)(path)
    assert response.status_code == 403


@pytest.mark.parametrize("name", STAFF_URLS)
def test_an_inactive_user_is_not_logged_in(client, inactive_user, urls, name):
    client.force_login(inactive_user)
    method, path = urls[name]
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("name", PAGES)
def test_a_rep_sees_every_page(rep_client, urls, name):
    response = rep_client.get(urls[name][1])
    assert response.status_code == 200
    assert b"<html lang=" in response.content


@pytest.mark.parametrize("name", PAGES)
def test_an_administrator_without_a_tier_sees_every_page(admin_client, urls, name):
    assert admin_client.get(urls[name][1]).status_code == 200


def test_home_goes_to_the_inquiry_queue(rep_client):
    response = rep_client.get("/")
    assert (response.status_code, response.url) == (302, "/inquiries/")


@pytest.mark.parametrize(
    "path", ["/orders/FD9999999/", "/customers/999999/", "/customers/999999/edit/", "/customers/999999/orders/new/"]
)
def test_unknown_orders_and_customers_are_404(rep_client, path):
    assert rep_client.get(path).status_code == 404
