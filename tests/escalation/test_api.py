"""/api/v1/escalations/: the ladder's history, read-only. The representation, every filter, the
cursor under concurrent writes, constant query counts, who may read it — and never a coaching
note's words."""

from __future__ import annotations

import datetime as dt
import itertools
from urllib.parse import parse_qs, urlparse

import pytest
from rest_framework.test import APIClient

from escalation import services
from escalation.enums import Trigger
from escalation.models import Escalation, EscalationRule
from escalation.services import auto
from fulfillment import clock
from fulfillment.api.auth import api_client_create
from fulfillment.tiers import Tier
from tests.api.conftest import assert_problem, key_client
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

URL = "/api/v1/escalations/"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
COACHING = "Next time offer the goodwill credit yourself"

pytestmark = pytest.mark.django_db
_keys = itertools.count()


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def detail(escalation) -> str:
    return f"{URL}{escalation.pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def keyed(*scopes: str, revoked: bool = False) -> APIClient:
    client, key = api_client_create(name=f"sync-{next(_keys)}", scopes=list(scopes))
    if revoked:
        client.revoked_at = clock.now()
        client.save(update_fields=["revoked_at"])
    return key_client(key)


@pytest.fixture
def ro(db) -> APIClient:
    return keyed("read")


@pytest.fixture
def rw(db) -> APIClient:
    return keyed("read", "write")


@pytest.fixture
def wo(db) -> APIClient:
    return keyed("write")


@pytest.fixture
def senior2(db):
    return UserFactory(username="senior2", first_name="Sam", last_name="Senior", tier=Tier.SENIOR_REP)


@pytest.fixture
def rule(db):
    return EscalationRule.objects.create(name="Third contact", trigger=Trigger.REPEAT_CONTACTS, contacts=1)


def automatic(rule, inquiry):
    """The rule fires for the inquiry (one customer message is enough for this rule)."""
    firing = auto.fire(rule, auto.Breach(inquiry.pk, f"contacts:{inquiry.reopen_count}"))
    assert firing is not None and firing.escalation is not None
    return firing.escalation


def ladder_history(*, rep, senior, supervisor, rule) -> dict[str, Escalation]:
    """Five escalations of four inquiries, each a minute or more apart (the schema tests use
    them too):
    returned — rep → senior rep, taken over by ``senior``, returned with coaching;
    skipped  — rep → supervisor, skipping a tier, customer told, still open;
    auto     — ``rule`` moved it from rep to senior rep, still open;
    further  — rep → ``senior`` (named), then on to specialist (``onward``, still open)."""
    made = {}
    with clock.frozen(at(0)):
        inquiry = InquiryFactory(assignee=rep)
        made["returned"] = services.escalate(actor=rep, inquiry=inquiry, reason="authority", tried="Offered 20 off")
    with clock.frozen(at(1)):
        services.take_over(actor=senior, inquiry=inquiry)
    with clock.frozen(at(3)):
        services.return_with_coaching(actor=senior, inquiry=inquiry, coaching_note=COACHING)
    with clock.frozen(at(4)):
        made["skipped"] = services.escalate(
            actor=rep,
            inquiry=InquiryFactory(assignee=rep),
            reason="complaint",
            tried="Apologised",
            to_tier=Tier.SUPERVISOR,
            skip_reason="Threatens to go to the press",
            tell_customer=True,
        )
    with clock.frozen(at(5)):
        made["auto"] = automatic(rule, InquiryFactory())
    with clock.frozen(at(6)):
        inquiry = InquiryFactory(assignee=rep, category="billing")
        made["further"] = services.escalate(
            actor=rep, inquiry=inquiry, reason="other", reason_text="Odd", tried="-", to_user=senior
        )
    with clock.frozen(at(8)):
        made["onward"] = services.escalate(actor=supervisor, inquiry=inquiry, reason="expertise", tried="Checked")
    for escalation in made.values():
        escalation.refresh_from_db()
    return made


@pytest.fixture
def history(rep, senior2, supervisor, rule):
    return ladder_history(rep=rep, senior=senior2, supervisor=supervisor, rule=rule)


# --- the representation ------------------------------------------------------------------------


def test_a_returned_escalation(history, ro, rep, senior2):
    e = history["returned"]
    body = ro.get(detail(e)).json()
    assert body == {
        "id": e.pk,
        "inquiry": {"id": e.inquiry_id, "reference": f"INQ-{e.inquiry_id:06d}"},
        "kind": "manual",
        "from_tier": 1,
        "to_tier": 2,
        "specialty": "",
        "escalated_by": rep.get_full_name(),
        "actor_name": "rep1",
        "to_user": None,
        "reason": "authority",
        "reason_text": "",
        "tried": "Offered 20 off",
        "skip_reason": "",
        "skipped": False,
        "rule": None,
        "customer_told": False,
        "created_at": "2026-03-02T09:00:00Z",
        "from_tier_seconds": 0,
        "taken_by": "Sam Senior",
        "taken_at": "2026-03-02T09:01:00Z",
        "outcome": "returned",
        "outcome_tier": 1,
        "outcome_note": "",
        "closed_by": "senior2",
        "closed_at": "2026-03-02T09:03:00Z",
        "seconds_at_tier": 180,
        "coached": True,
        "updated_at": "2026-03-02T09:03:00Z",
    }


def test_open_skipped_and_automatic_escalations(history, ro, rule):
    rows = {row["id"]: row for row in ro.get(URL).json()["results"]}
    skipped = rows[history["skipped"].pk]
    assert (skipped["from_tier"], skipped["to_tier"], skipped["skipped"]) == (1, 4, True)
    assert skipped["skip_reason"] == "Threatens to go to the press"
    assert skipped["customer_told"] is True
    assert (skipped["outcome"], skipped["outcome_tier"], skipped["closed_at"], skipped["seconds_at_tier"]) == (
        "",
        None,
        None,
        None,
    )
    assert (skipped["taken_by"], skipped["coached"]) == (None, False)
    auto_row = rows[history["auto"].pk]
    assert auto_row["kind"] == "automatic" and auto_row["reason"] == "automatic"
    assert auto_row["rule"] == {"id": rule.pk, "name": "Third contact"}
    assert auto_row["escalated_by"] is None and auto_row["actor_name"] == "rule: Third contact"
    further, onward = rows[history["further"].pk], rows[history["onward"].pk]
    assert (further["to_user"], further["reason"], further["reason_text"]) == ("Sam Senior", "other", "Odd")
    assert (further["outcome"], further["outcome_tier"], further["seconds_at_tier"]) == ("escalated_further", 3, 120)
    assert (onward["from_tier"], onward["to_tier"], onward["specialty"]) == (2, 3, "billing")
    assert onward["from_tier_seconds"] == 120


def test_coaching_words_are_never_in_a_response(history, ro, supervisor):
    """Not for a key, and not for a staff session either — not even the coach's own (the desk
    shows the note to those who may read it; the API is for systems)."""
    assert Escalation.objects.filter(coaching_note=COACHING).exists()
    e = history["returned"]
    for client in (ro, session(supervisor), session(e.coached_user)):
        for path in (URL, detail(e), f"{URL}?inquiry={e.inquiry_id}"):
            response = client.get(path)
            assert response.status_code == 200
            assert COACHING not in response.content.decode()
            assert "coaching_note" not in response.content.decode()


# --- filters -----------------------------------------------------------------------------------


def test_every_filter(history, ro, rule):
    h = {name: e.pk for name, e in history.items()}

    def get(**params):
        return set(ids(ro.get(URL, params)))

    assert get() == set(h.values())
    assert get(inquiry=history["returned"].inquiry_id) == {h["returned"]}
    assert get(inquiry=history["onward"].inquiry.reference) == {h["further"], h["onward"]}
    assert get(inquiry=f"inq{history['auto'].inquiry_id}") == {h["auto"]}
    assert get(from_tier=2) == {h["onward"]}
    assert get(to_tier=2) == {h["returned"], h["auto"], h["further"]}
    assert get(to_tier=4) == {h["skipped"]}
    assert get(kind="automatic") == {h["auto"]}
    assert get(kind="manual") == set(h.values()) - {h["auto"]}
    assert get(outcome="returned") == {h["returned"]}
    assert get(outcome="escalated_further") == {h["further"]}
    assert get(open="true") == {h["skipped"], h["auto"], h["onward"]}
    assert get(open="false") == {h["returned"], h["further"]}
    assert get(rule=rule.pk) == {h["auto"]}
    assert get(rule=rule.pk + 1) == set()
    assert get(reason="complaint") == {h["skipped"]}
    assert get(created_after=at(5).isoformat()) == {h["auto"], h["further"], h["onward"]}
    assert get(created_before=at(5).isoformat()) == {h["returned"], h["skipped"]}
    assert get(created_after="2026-03-02T10:04:00+01:00", created_before=at(6).isoformat()) == {h["skipped"], h["auto"]}
    # updated_after: the returned one was last changed at minute 3, the further one at minute 8
    assert get(updated_after=at(4).isoformat()) == {h["auto"], h["further"], h["onward"]}
    assert get(to_tier=2, open="true") == {h["auto"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"inquiry": "abc"}, "inquiry"),
        ({"inquiry": "0"}, "inquiry"),
        ({"inquiry": "²"}, "inquiry"),
        ({"inquiry": "9" * 21}, "inquiry"),
        ({"from_tier": "5"}, "from_tier"),
        ({"to_tier": "senior"}, "to_tier"),
        ({"kind": "robot"}, "kind"),
        ({"outcome": "lost"}, "outcome"),
        ({"outcome": ""}, "outcome"),
        ({"open": "yes"}, "open"),
        ({"rule": "1.5"}, "rule"),
        ({"rule": "0"}, "rule"),
        ({"rule": str(2**64)}, "rule"),
        ({"reason": "bored"}, "reason"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-01T00:00:00Z"}, "created_before"),
        ({"updated_after": ""}, "updated_after"),
        ({"updated_after": "2026-03-02T09:00:00+25:00"}, "updated_after"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(history, ro, params, field):
    body = assert_problem(ro.get(URL, params), 400)
    assert field in body["errors"], body


def test_bad_cursor_is_404(history, ro):
    assert_problem(ro.get(URL, {"cursor": "garbage"}), 404)


def test_unknown_and_malformed_ids(history, ro):
    assert_problem(ro.get(f"{URL}{history['onward'].pk + 100}/"), 404)
    assert_problem(ro.get(f"{URL}abc/"), 404)
    assert_problem(ro.get(f"{URL}{'9' * 19}/"), 404)


# --- the cursor: (updated_at, id), stable while rows change ------------------------------------


def walk(client, params) -> list[int]:
    seen, response = [], client.get(URL, params)
    for _page in range(50):
        body = response.json()
        seen += ids(response)
        if not body["next"]:
            return seen
        query = parse_qs(urlparse(body["next"]).query)
        response = client.get(URL, {k: v[0] for k, v in query.items()})
    raise AssertionError("too many pages")


def test_cursor_walks_by_updated_at_and_a_changed_row_comes_again(history, ro, supervisor):
    by_update = [history[name].pk for name in ("returned", "skipped", "auto", "further", "onward")]
    assert walk(ro, {"page_size": 2}) == by_update
    first = ro.get(URL, {"page_size": 2}).json()
    assert ids_of(first) == by_update[:2]
    # While the client pages, the supervisor takes over the skipped one: it moves to the end.
    with clock.frozen(at(30)):
        services.take_over(actor=supervisor, inquiry=history["skipped"].inquiry)
    query = parse_qs(urlparse(first["next"]).query)
    assert walk(ro, {k: v[0] for k, v in query.items()}) == [*by_update[2:], history["skipped"].pk]


def ids_of(body: dict) -> list[int]:
    return [row["id"] for row in body["results"]]


# --- query counts: the same for 2 rows and 22 ----------------------------------------------------

LIST_QUERIES = 2  # the key; the page with its inquiry, people and rule joined
DETAIL_QUERIES = 2  # the key; the escalation, joined the same way


@pytest.fixture
def many(rep, senior2, supervisor, rule):
    """22 escalations with every join filled: named people, take-overs, coaching, rules."""
    made = []
    for n in range(22):
        if n % 4 == 3:
            made.append(automatic(rule, InquiryFactory()))
            continue
        inquiry = InquiryFactory(assignee=rep)
        escalation = services.escalate(
            actor=rep, inquiry=inquiry, reason="authority", tried=f"try {n}", to_user=senior2 if n % 2 else None
        )
        if n % 3 == 0:
            services.take_over(actor=senior2, inquiry=inquiry)
        if n % 4 == 0:
            services.return_with_coaching(actor=supervisor, inquiry=inquiry, coaching_note=f"{COACHING} {n}")
        made.append(escalation)
    return made


def warm_count(client, path, params, django_assert_num_queries, expected) -> dict:
    client.get(path, params)  # warm-up: the key's last_used_at is written once a minute
    with django_assert_num_queries(expected):
        response = client.get(path, params)
    assert response.status_code == 200, response.content[:300]
    return response.json()


@pytest.mark.parametrize("size", [2, 22])
def test_list_query_count(many, ro, size, django_assert_num_queries):
    body = warm_count(ro, URL, {"page_size": size}, django_assert_num_queries, LIST_QUERIES)
    assert len(body["results"]) == size
    rows = body["results"]
    if size == 22:
        assert {row["to_user"] for row in rows} == {None, "Sam Senior"}
        assert any(row["taken_by"] for row in rows) and any(row["rule"] for row in rows)
        assert any(row["coached"] for row in rows)


@pytest.mark.parametrize("size", [2, 22])
def test_filtered_list_query_count(many, ro, size, django_assert_num_queries, rule):
    params = {"page_size": size, "kind": "manual", "to_tier": 2, "created_after": "2000-01-01T00:00:00Z"}
    body = warm_count(ro, URL, params, django_assert_num_queries, LIST_QUERIES)
    assert len(body["results"]) == min(size, 17)  # five of the 22 were automatic


def test_detail_query_count(many, ro, django_assert_num_queries):
    body = warm_count(ro, detail(many[0]), {}, django_assert_num_queries, DETAIL_QUERIES)
    assert body["coached"] is True and body["taken_by"] == "Sam Senior"


# --- who may read it ---------------------------------------------------------------------------

PATHS = ["list", "detail"]


def path_for(history, name: str) -> str:
    return URL if name == "list" else detail(history["returned"])


@pytest.mark.parametrize("name", PATHS)
def test_anonymous_is_401(history, name):
    response = APIClient().get(path_for(history, name))
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize("name", PATHS)
def test_revoked_key_is_401(history, name):
    assert_problem(keyed("read", revoked=True).get(path_for(history, name)), 401)


@pytest.mark.parametrize("name", PATHS)
def test_key_without_read_scope_is_403(history, wo, name):
    assert_problem(wo.get(path_for(history, name)), 403)


@pytest.mark.parametrize("name", PATHS)
@pytest.mark.parametrize("client_name", ["ro", "rw"])
def test_key_with_read_scope(history, request, client_name, name):
    client = request.getfixturevalue(client_name)
    response = client.get(path_for(history, name))
    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("name", PATHS)
@pytest.mark.parametrize("who", ["rep", "senior2", "supervisor", "admin_user"])
def test_staff_session(history, request, who, name):
    response = session(request.getfixturevalue(who)).get(path_for(history, name))
    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("name", PATHS)
def test_logged_in_without_a_staff_role_is_403(history, no_role_user, name):
    assert_problem(session(no_role_user).get(path_for(history, name)), 403)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_read_only_even_with_a_write_key(history, rw, method):
    before = list(Escalation.objects.order_by("id").values())
    for path in (URL, detail(history["returned"])):
        response = getattr(rw, method)(path, {"outcome": "returned"}, format="json")
        assert_problem(response, 405)
    assert list(Escalation.objects.order_by("id").values()) == before
