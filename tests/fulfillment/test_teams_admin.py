"""Teams in the admin (*Admin → Teams*): supervisors keep them and choose their members there; a
person is in one team at most; reps and seniors with admin access get 403."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry

from fulfillment.models import Team, User
from fulfillment.tiers import Tier
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/fulfillment/team/add/"


@pytest.fixture
def boss(client):
    user = UserFactory(username="meera", tier=Tier.SUPERVISOR, is_staff=True)
    client.force_login(user)
    return user


def test_a_supervisor_makes_a_team_and_moves_people_between_teams(client, boss):
    priya = UserFactory(username="priya", tier=Tier.REP)
    jose = UserFactory(username="jose", tier=Tier.REP)
    anika = UserFactory(username="anika", tier=Tier.SENIOR_REP)
    assert client.get("/admin/fulfillment/team/").status_code == 200
    form = client.get(ADD).content.decode()
    assert 'name="members"' in form and "priya" in form
    response = client.post(ADD, {"name": "Chennai desk", "lead": boss.pk, "members": [priya.pk, jose.pk, boss.pk]})
    assert response.status_code == 302, response.content.decode()[:2000]
    chennai = Team.objects.get(name="Chennai desk")
    assert chennai.lead == boss
    assert set(chennai.members.values_list("username", flat=True)) == {"priya", "jose", "meera"}
    response = client.post(ADD, {"name": "Manila desk", "lead": anika.pk, "members": [jose.pk, anika.pk]})
    assert response.status_code == 302
    manila = Team.objects.get(name="Manila desk")
    assert set(manila.members.values_list("username", flat=True)) == {"jose", "anika"}  # jose moved
    assert set(chennai.members.values_list("username", flat=True)) == {"priya", "meera"}
    change = f"/admin/fulfillment/team/{chennai.pk}/change/"
    assert client.post(change, {"name": "Chennai desk", "lead": boss.pk, "members": [priya.pk]}).status_code == 302
    assert User.objects.get(username="meera").team is None  # left out: no team now
    assert LogEntry.objects.filter(user=boss, object_id=str(chennai.pk)).count() == 2


def test_a_team_needs_a_name_of_its_own(client, boss):
    Team.objects.create(name="Chennai desk")
    for name in ("", "Chennai desk"):
        response = client.post(ADD, {"name": name})
        assert response.status_code == 200 and response.context["adminform"].form.errors["name"]
    assert Team.objects.count() == 1


@pytest.mark.parametrize("tier", [Tier.REP, Tier.SENIOR_REP, Tier.SPECIALIST])
def test_below_supervisor_with_admin_access_gets_403(client, tier):
    client.force_login(UserFactory(username="staffer", tier=tier, is_staff=True))
    assert client.get("/admin/fulfillment/team/").status_code == 403
    assert client.post(ADD, {"name": "Mine"}).status_code == 403
    assert not Team.objects.exists()


def test_the_staff_page_shows_and_sets_the_team_for_an_admin(admin_client):
    team = Team.objects.create(name="Chennai desk")
    person = UserFactory(username="priya", tier=Tier.REP, team=team)
    page = admin_client.get(f"/admin/fulfillment/user/{person.pk}/change/").content.decode()
    assert 'name="team"' in page
    listing = admin_client.get(f"/admin/fulfillment/user/?team__id__exact={team.pk}").content.decode()
    assert "priya" in listing
