"""/reports/: the dashboard, a metric's CSV and the weekly report — who may open them, the
filters and bad input, the CSV equal to the metric's Table, the SVG charts, constant queries."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment import clock
from fulfillment.models import Team
from fulfillment.tiers import Tier
from inquiries.enums import Category, Channel
from reports import charts
from reports.forms import FilterForm, parse_week, preset_range
from reports.metrics import METRICS, Filters, Table
from tests.factories import UserFactory
from tests.inquiries.factories import InquiryFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)  # a Wednesday


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield


def inquiries(n: int, tier: int = Tier.REP, **kwargs):
    return [InquiryFactory(tier=tier, **kwargs) for _ in range(n)]


def backlog_tiers(response) -> set[str]:
    table = next(card["table"] for card in response.context["cards"] if card["table"].key == "backlog")
    return {row[0] for row in table.rows}


# --- who may open it -------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/reports/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", ["/reports/", "/reports/backlog.csv", "/reports/weekly/?week=2026-W09"])
def test_a_rep_may_not_open_the_reports(client, rep, url):
    client.force_login(rep)
    assert client.get(url).status_code == 403


def test_a_user_without_a_role_may_not_open_the_reports(client, no_role_user):
    client.force_login(no_role_user)
    assert client.get("/reports/").status_code == 403


def test_a_senior_sees_only_their_own_tier_whatever_the_url_asks(client, senior, frozen):
    inquiries(2, Tier.REP)
    inquiries(1, Tier.SENIOR_REP)
    inquiries(1, Tier.SUPERVISOR)
    client.force_login(senior)
    for url in ("/reports/", "/reports/?tier=4", "/reports/?tier=1&preset=last30"):
        response = client.get(url)
        assert response.status_code == 200
        assert backlog_tiers(response) == {str(Tier.SENIOR_REP.label)}
    rows = list(csv.reader(io.StringIO(client.get("/reports/backlog.csv?tier=4").content.decode())))
    assert [row[0] for row in rows[1:]] == [str(Tier.SENIOR_REP.label)]


def test_a_specialist_sees_only_the_specialist_tier(client, specialist, frozen):
    inquiries(1, Tier.REP)
    inquiries(1, Tier.SPECIALIST)
    client.force_login(specialist)
    assert backlog_tiers(client.get("/reports/")) == {str(Tier.SPECIALIST.label)}


def test_a_supervisor_sees_every_tier_and_may_filter_one(client, supervisor, frozen):
    inquiries(1, Tier.REP)
    inquiries(1, Tier.SPECIALIST)
    client.force_login(supervisor)
    response = client.get("/reports/")
    assert response.status_code == 200
    assert backlog_tiers(response) == {str(Tier.REP.label), str(Tier.SPECIALIST.label)}
    assert backlog_tiers(client.get("/reports/?tier=3")) == {str(Tier.SPECIALIST.label)}
    # One card per registered metric, in METRICS order, each with a chart and a CSV link.
    assert [card["table"].key for card in response.context["cards"]] == list(METRICS)
    html = response.content.decode()
    for key in METRICS:
        assert f'href="/reports/{key}.csv?start=2026-02-26&amp;end=2026-03-04"' in html
    assert html.count("<svg") == len(METRICS)


def test_the_nav_links_to_reports_for_seniors_and_above(client, rep, senior):
    client.force_login(rep)
    assert 'href="/reports/"' not in client.get("/notifications/").content.decode()
    client.force_login(senior)
    assert 'href="/reports/"' in client.get("/notifications/").content.decode()


# --- filters -------------------------------------------------------------------------------------


def test_presets_give_whole_days_in_the_desk_time_zone():
    wednesday = dt.date(2026, 3, 4)
    assert preset_range("last7", wednesday) == (dt.date(2026, 2, 26), wednesday)
    assert preset_range("last_week", wednesday) == (dt.date(2026, 2, 23), dt.date(2026, 3, 1))
    assert preset_range("last_week", dt.date(2026, 3, 2)) == (dt.date(2026, 2, 23), dt.date(2026, 3, 1))
    assert preset_range("last30", wednesday) == (dt.date(2026, 2, 3), wednesday)
    assert parse_week("2026-W10") == (dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    assert parse_week("2026-W99") is None and parse_week("junk") is None


def test_the_form_gives_the_filters(frozen):
    form = FilterForm(
        {"start": "2026-03-01", "end": "2026-03-03", "tier": "2", "category": "billing", "channel": "web"}
    )
    assert form.is_valid(), form.errors
    assert form.filters() == Filters(dt.date(2026, 3, 1), dt.date(2026, 3, 3), 2, "billing", "web")
    form = FilterForm({"preset": "last_week"}, locked_tier=Tier.SPECIALIST)
    assert form.is_valid(), form.errors
    assert form.filters() == Filters(dt.date(2026, 2, 23), dt.date(2026, 3, 1), Tier.SPECIALIST)
    team = Team.objects.create(name="Chennai phones")
    form = FilterForm({"preset": "last7", "team": str(team.pk)})
    assert form.is_valid(), form.errors
    assert form.filters().team == team.pk


def test_the_team_filter_narrows_the_page_its_csv_links_and_the_weekly_report(client, supervisor, frozen):
    chennai, manila = Team.objects.create(name="Chennai phones"), Team.objects.create(name="Manila <email>")
    priya = UserFactory(username="priya", tier=Tier.REP, team=chennai)
    jose = UserFactory(username="jose", tier=Tier.REP, team=manila)
    inquiries(2, assignee=priya)
    inquiries(3, assignee=jose)
    inquiries(4)  # unassigned: in no team
    client.force_login(supervisor)
    page = client.get(f"/reports/?preset=last7&team={manila.pk}").content.decode()
    assert "Manila &lt;email&gt;" in page and "Manila <email>" not in page  # the select, escaped
    assert f"backlog.csv?start=2026-02-26&amp;end=2026-03-04&amp;team={manila.pk}" in page
    csv_text = client.get(f"/reports/backlog.csv?start=2026-02-26&end=2026-03-04&team={manila.pk}").content.decode()
    assert list(csv.reader(io.StringIO(csv_text)))[1:] == [["Rep", "3", "0", "0", "0"]]  # jose's three, new
    weekly = client.get(f"/reports/weekly/?week=2026-W09&team={chennai.pk}")
    assert weekly.status_code == 200 and "Chennai phones" in weekly.content.decode()
    assert f'href="?week=2026-W08&amp;team={chennai.pk}" rel="prev"' in weekly.content.decode()  # keeps the team


@pytest.mark.parametrize(
    "query",
    [
        "start=yesterday&end=2026-03-01",
        "start=2026-03-05&end=2026-03-01",
        "start=2026-03-01",
        "start=2020-01-01&end=2026-03-01",
        "tier=9",
        "tier=abc",
        "category=nope",
        "channel=pigeon",
        "team=999999",
        "team=abc",
        "preset=forever",
        "start=2026-02-30&end=2026-03-01",
    ],
)
def test_bad_filters_are_form_errors_never_a_500(client, supervisor, frozen, query):
    client.force_login(supervisor)
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 400
    assert response.context["form"].errors
    assert 'class="errorlist' in response.content.decode() or 'role="alert"' in response.content.decode()
    assert client.get(f"/reports/backlog.csv?{query}").status_code == 400


def test_an_unknown_metric_csv_is_404(client, supervisor):
    client.force_login(supervisor)
    assert client.get("/reports/nope.csv").status_code == 404


# --- CSV -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(METRICS))
def test_the_csv_is_the_metrics_table(client, supervisor, frozen, key):
    inquiries(2, Tier.REP, category=Category.BILLING, channel=Channel.WEB)
    inquiries(1, Tier.SENIOR_REP)
    client.force_login(supervisor)
    response = client.get(f"/reports/{key}.csv?start=2026-03-01&end=2026-03-04&category=billing")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{key}_2026-03-01_2026-03-04.csv"'
    table = METRICS[key].compute(Filters(dt.date(2026, 3, 1), dt.date(2026, 3, 4), category="billing"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows[0] == [str(column) for column in table.columns]
    assert rows[1:] == [["" if value is None else str(value) for value in row] for row in table.rows]


def test_the_backlog_csv_counts_by_hand(client, supervisor, frozen):
    inquiries(2, Tier.REP, category=Category.BILLING)
    inquiries(1, Tier.REP)
    client.force_login(supervisor)
    rows = list(csv.reader(io.StringIO(client.get("/reports/backlog.csv?category=billing").content.decode())))
    assert rows[1][0] == str(Tier.REP.label)
    assert sum(int(value) for value in rows[1][1:]) == 2
    assert len(rows) == 2


# --- SVG -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bar", "stacked", "line", "pie"])
def test_an_empty_table_renders_an_accessible_svg(kind):
    svg = charts.render(Table(key="k", title="Empty <one>", columns=["Day", "n"], rows=[], chart=kind))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "Empty &lt;one&gt;" in svg


@pytest.mark.parametrize("kind", ["bar", "stacked", "line"])
def test_all_zero_and_none_values_do_not_divide_by_zero(kind):
    table = Table(key="k", title="t", columns=["Day", "a", "b"], rows=[("Mon", 0, None), ("Tue", 0, 0)], chart=kind)
    svg = charts.render(table)
    assert "nan" not in svg and "inf" not in svg


@pytest.mark.parametrize("kind", ["bar", "stacked", "line"])
def test_values_and_labels_are_on_the_chart(kind):
    table = Table(
        key="k",
        title="t",
        columns=["Tier", "New", "Open"],
        rows=[("Rep", 3, 4), ("Senior <rep>", 10, 2.5)],
        chart=kind,
    )
    svg = charts.render(table)
    for text in ("Rep", "Senior &lt;rep&gt;", ">3<", ">10<", ">2.5<", "New", "Open"):
        assert text in svg, text
    if kind != "line":
        assert svg.count("<rect") >= 4


def test_one_row_one_series():
    svg = charts.render(Table(key="k", title="t", columns=["Day", "n"], rows=[("Mon", 7)], chart="line"))
    assert "<circle" in svg and ">7<" in svg


# --- weekly report ---------------------------------------------------------------------------------


def test_the_weekly_report_has_every_metric_for_monday_to_sunday(client, supervisor, frozen):
    inquiries(1, Tier.REP)
    client.force_login(supervisor)
    response = client.get("/reports/weekly/?week=2026-W09")
    assert response.status_code == 200
    assert response.context["filters"] == Filters(dt.date(2026, 2, 23), dt.date(2026, 3, 1))
    assert [card["table"].key for card in response.context["cards"]] == list(METRICS)
    html = response.content.decode()
    assert html.count("<svg") == len(METRICS)
    assert "?week=2026-W08" in html and "?week=2026-W10" in html
    # Without a week: the last whole week.
    assert client.get("/reports/weekly/").context["week"] == "2026-W09"


def test_a_bad_week_is_400(client, supervisor):
    client.force_login(supervisor)
    for week in ("2026-10", "2026-W60", "junk"):
        assert client.get(f"/reports/weekly/?week={week}").status_code == 400
    assert client.get("/reports/weekly/?week=2026-W10&tier=7").status_code == 400


def test_a_senior_weekly_report_is_their_tier(client, senior, frozen):
    client.force_login(senior)
    response = client.get("/reports/weekly/?week=2026-W09&tier=4")
    assert response.context["filters"].tier == Tier.SENIOR_REP


# --- query counts ----------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_dashboard_query_count_does_not_grow_with_data(client, supervisor, frozen):
    client.force_login(supervisor)
    url = "/reports/?preset=last30"
    inquiries(1, Tier.REP)
    small = _count(client, url)
    inquiries(6, Tier.SENIOR_REP, category=Category.BILLING)
    inquiries(5, Tier.SPECIALIST, channel=Channel.WEB)
    assert _count(client, url) == small
    weekly_small = _count(client, "/reports/weekly/?week=2026-W10")
    inquiries(4, Tier.SUPERVISOR)
    assert _count(client, "/reports/weekly/?week=2026-W10") == weekly_small


def test_the_axis_steps_are_round_and_whole_for_counts():
    svg = charts.render(Table(key="k", title="t", columns=["Tier", "n"], rows=[("Rep", 3)]))
    assert [f">{n}<" in svg for n in (0, 1, 2, 3, 4)] == [True] * 5 and ">0.75<" not in svg
    svg = charts.render(Table(key="k", title="t", columns=["Day", "rate"], rows=[("Mon", 0.3)], chart="line"))
    assert ">0.1<" in svg and ">0.4<" in svg


def test_thirty_days_of_labels_do_not_overlap():
    rows = [(dt.date(2026, 3, 1) + dt.timedelta(days=i), i) for i in range(30)]
    svg = charts.render(Table(key="k", title="t", columns=["Day", "n"], rows=rows, chart="line"))
    assert 2 < svg.count('class="xlabel"') < 30
    assert "Mar 1<" in svg


def test_a_chart_draws_one_unit_and_names_the_columns_left_to_the_table():
    table = Table(
        key="k",
        title="t",
        columns=["Tier", "Reached", "Rate (%)", "Hours"],
        rows=[("Rep", 7, 42.5, 3.25)],
        units={"Rate (%)": "%", "Hours": "h"},
    )
    svg = charts.render(table)
    assert ">7<" in svg and ">42.5<" not in svg and ">3.25<" not in svg
    assert "Only in the table: Rate (%), Hours." in svg
