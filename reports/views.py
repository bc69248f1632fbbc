"""The reports pages: the dashboard (/reports/), one metric's CSV (/reports/<key>.csv) and the
printable weekly report (/reports/weekly/?week=YYYY-Www). Each parses the filters with
``FilterForm`` and reads ``METRICS``; bad input is a form error (or 400), never a 500."""

from __future__ import annotations

import csv
import datetime as dt
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fulfillment import clock
from fulfillment.actors import Actor
from fulfillment.errors import PermissionDenied as DomainPermissionDenied
from fulfillment.tiers import Tier
from fulfillment.views import staff_required

from . import charts, rollups
from .forms import FilterForm, iso_week, parse_week
from .metrics import METRICS, Filters, Table
from .permissions import locked_tier


def _locked_tier(request) -> int | None:
    try:
        return locked_tier(Actor.for_user(request.user))
    except DomainPermissionDenied as exc:
        raise PermissionDenied(exc.message) from exc


def _query(form: FilterForm) -> str:
    """The filters as a query string (for the CSV links and the weekly link)."""
    filters = form.filters()
    params = {"start": filters.start.isoformat(), "end": filters.end.isoformat()}
    for name in ("category", "channel", "team"):
        if getattr(filters, name):
            params[name] = getattr(filters, name)
    if filters.tier and form.locked_tier is None:
        params["tier"] = filters.tier
    return urlencode(params)


def _cards(filters: Filters, *, fresh: bool = False) -> tuple[list[dict], dt.datetime | None]:
    """Every metric's card, read from the rollups (reports/rollups.py) unless ``fresh``; and
    the time the oldest figure used was computed (None: all computed now)."""
    cards = []
    with rollups.reading() if not fresh else rollups.refreshing() as oldest:
        for metric in METRICS.values():
            table = metric.compute(filters)
            cards.append({"metric": metric, "table": table, "svg": charts.render(table)})
    return cards, oldest[0] if oldest else None


@staff_required
@require_GET
def dashboard(request):
    tier = _locked_tier(request)
    form = FilterForm(request.GET if request.GET else {"preset": "last7"}, locked_tier=tier)
    cards, as_of, query, status = [], None, "", 400
    if form.is_valid():
        (cards, as_of), query, status = _cards(form.filters(), fresh="fresh" in request.GET), _query(form), 200
    return render(
        request,
        "reports/dashboard.html",
        {"form": form, "cards": cards, "as_of": as_of, "query": query, "week": iso_week(form_week(form))},
        status=status,
    )


def form_week(form: FilterForm) -> dt.date:
    """A day of the week the weekly link opens: the range's start, or the last whole week."""
    if form.is_valid():
        return form.cleaned_data["start"]
    return clock.today() - dt.timedelta(days=7)


def table_csv(table: Table, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return response


@staff_required
@require_GET
def metric_csv(request, key: str):
    metric = METRICS.get(key)
    if metric is None:
        raise Http404(_("No such report."))
    form = FilterForm(request.GET, locked_tier=_locked_tier(request))
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    filters = form.filters()
    return table_csv(metric.compute(filters), f"{key}_{filters.start}_{filters.end}.csv")


@staff_required
@require_GET
def weekly(request):
    tier = _locked_tier(request)
    week = request.GET.get("week") or iso_week(clock.today() - dt.timedelta(days=7))
    days = parse_week(week)
    if days is None:
        return render(
            request,
            "reports/weekly.html",
            {"error": _("Give the week as YYYY-Www, for example 2026-W10."), "week": week},
            status=400,
        )
    data = {key: value for key, value in request.GET.items() if key in ("category", "channel", "tier", "team")}
    data.update(start=days[0].isoformat(), end=days[1].isoformat())
    form = FilterForm(data, locked_tier=tier)
    if not form.is_valid():
        return render(request, "reports/weekly.html", {"form": form, "week": week}, status=400)
    monday = days[0]
    cards, as_of = _cards(form.filters(), fresh="fresh" in request.GET)
    return render(
        request,
        "reports/weekly.html",
        {
            "form": form,
            "filters": form.filters(),
            "tier_label": Tier(form.filters().tier).label if form.filters().tier else "",
            "team": form.cleaned_data.get("team"),
            "cards": cards,
            "as_of": as_of,
            "week": week,
            "keep": urlencode({key: value for key, value in data.items() if key not in ("start", "end") and value}),
            "previous": iso_week(monday - dt.timedelta(days=7)),
            "next": iso_week(monday + dt.timedelta(days=7)),
        },
    )
