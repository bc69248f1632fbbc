"""The calls-due queue: follow-up calls due (and callbacks promised) in one place to phone from,
the outcome form on each row, the header badge's count and the inquiry page's follow-up panel.
Parse the input, call ``services.followups``, render."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from fulfillment import clock
from fulfillment.actors import as_actor
from fulfillment.errors import DomainError
from fulfillment.pagination import keyset_page
from fulfillment.permissions import can, require
from fulfillment.tiers import Tier
from fulfillment.views import staff_required
from orders.views import _status_for  # one mapping of refusals to HTTP codes

from . import permissions as perms
from .enums import DONE, CallbackState, FollowUpOutcome, FollowUpState
from .forms import apply_domain_error, staff_choices, staff_label
from .models import Callback, FollowUpCall
from .services import followups

MINE, TEAM = "mine", "team"
VIEW_LABELS = {MINE: gettext_lazy("My calls"), TEAM: gettext_lazy("Team: due and missed")}
#: Missed calls stay on the team view this long (a late call can still be logged there).
MISSED_SHOWN = dt.timedelta(days=7)
#: Callback promises due within this time join "my calls" (a rep phones from one place).
CALLBACKS_AHEAD = dt.timedelta(hours=1)
CALLBACKS_SHOWN = 25
#: Follow-up calls the inquiry page's panel shows (its latest cycles).
PANEL_CALLS = 3


class FollowUpLogForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=FollowUpOutcome.choices)
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, call: FollowUpCall, **kwargs):
        super().__init__(*args, prefix=f"fu{call.pk}", **kwargs)


class FollowUpGiveForm(forms.Form):
    """Give an open or missed call to another caller (senior rep and above). The staff list is
    read once per page and handed to every row's form, so the page's query count stays flat."""

    assignee = forms.TypedChoiceField(label=gettext_lazy("Give to"), coerce=int)

    def __init__(self, *args, call: FollowUpCall, staff: list[tuple[int, str]], **kwargs):
        super().__init__(*args, prefix=f"give{call.pk}", **kwargs)
        self.fields["assignee"].choices = [("", "—"), *staff]
        if not self.is_bound and call.assignee_id:
            self.initial["assignee"] = call.assignee_id


def _staff(user) -> list[tuple[int, str]] | None:
    """The people a call may be given to, for a user who may give calls (None otherwise)."""
    if not can(as_actor(user), perms.ASSIGN):
        return None
    return [(person.pk, staff_label(person)) for person in staff_choices()]


# --- reads -----------------------------------------------------------------------------------


def _may_see_team(user) -> bool:
    return user.is_superuser or (user.tier or 0) >= Tier.SENIOR_REP


def _calls(user, view: str, now: dt.datetime):
    """Mine: my due calls. Team: every due call, and those missed in the last week whose inquiry
    is still resolved or closed (a late call can be logged). Oldest first (``due_at``, id)."""
    rows = FollowUpCall.objects.select_related("inquiry__customer", "assignee")
    if view == MINE:
        return rows.filter(state=FollowUpState.DUE, assignee=user)
    return rows.filter(
        Q(state=FollowUpState.DUE)
        | Q(state=FollowUpState.MISSED, window_ends_at__gte=now - MISSED_SHOWN, inquiry__status__in=DONE)
    )


def _callbacks(user, now: dt.datetime) -> list[Callback]:
    """My pending callback promises due now or within the hour, soonest first (bounded)."""
    return list(
        Callback.objects.filter(state=CallbackState.PENDING, owner=user, due_at__lte=now + CALLBACKS_AHEAD)
        .select_related("inquiry__customer")
        .order_by("due_at", "id")[:CALLBACKS_SHOWN]
    )


def due_count(user, now: dt.datetime) -> int:
    """The badge: my follow-up calls due and my callbacks due now (one query)."""
    calls = FollowUpCall.objects.filter(state=FollowUpState.DUE, assignee=user).order_by().values("pk")
    callbacks = (
        Callback.objects.filter(state=CallbackState.PENDING, owner=user, due_at__lte=now).order_by().values("pk")
    )
    return calls.union(callbacks, all=True).count()


# --- pages -----------------------------------------------------------------------------------


Row = tuple[FollowUpCall, FollowUpLogForm | None, FollowUpGiveForm | None]


def _rows(calls, user, bound: dict | None = None, given: dict | None = None) -> list[Row]:
    """Each call with its outcome form (None when there is nothing to log or this user may not)
    and its "give to" form (None unless the call is open and this user may give calls)."""
    actor = as_actor(user)
    bound, given = bound or {}, given or {}
    staff = _staff(user) if any(call.state in followups.LOGGABLE for call in calls) else None

    def form(call: FollowUpCall) -> FollowUpLogForm | None:
        if call.pk in bound:
            return bound[call.pk]
        loggable = call.state in followups.LOGGABLE and call.inquiry.status in DONE
        return FollowUpLogForm(call=call) if loggable and followups.may_log(actor, call) else None

    def give(call: FollowUpCall) -> FollowUpGiveForm | None:
        if call.pk in given:
            return given[call.pk]
        if staff is None or call.state not in followups.LOGGABLE:
            return None
        return FollowUpGiveForm(call=call, staff=staff)

    return [(call, form(call), give(call)) for call in calls]


def _page(
    request,
    *,
    view: str,
    status: int = 200,
    bound: dict | None = None,
    given: dict | None = None,
    only: FollowUpCall | None = None,
):
    now = clock.now()
    if only is not None:
        page, callbacks = None, []
        calls = [only]
    else:
        page = keyset_page(
            _calls(request.user, view, now),
            cursor=request.GET.get("cursor"),
            size=settings.FD_PAGE_SIZE,
            key="due_at",
            ascending=True,
        )
        calls = page.items
        callbacks = _callbacks(request.user, now) if view == MINE and not request.GET.get("cursor") else []
    context = {
        "view": view,
        "views": [(code, label) for code, label in VIEW_LABELS.items() if code == MINE or _may_see_team(request.user)],
        "rows": _rows(calls, request.user, bound, given),
        "callbacks": callbacks,
        "page": page,
        "query": urlencode({"view": view}),
        "now": now,
        "only": only,
    }
    return render(request, "inquiries/calls_due.html", context, status=status)


def _view(request) -> str:
    view = request.GET.get("view") or request.POST.get("view") or MINE
    if view == TEAM and _may_see_team(request.user):
        return TEAM
    return MINE


@staff_required
@require_GET
def calls_due(request):
    return _page(request, view=_view(request))


def _load(pk: int) -> FollowUpCall:
    call = FollowUpCall.objects.select_related("inquiry__customer", "assignee").filter(pk=pk).first()
    if call is None:
        raise Http404(_("No such follow-up call."))
    return call


def _next_url(request, call: FollowUpCall) -> str:
    """Back where the form was: the inquiry page, or the calls-due view (never elsewhere)."""
    if request.POST.get("next") == "inquiry":
        return reverse("inquiries:detail", args=[call.inquiry_id])
    return f"{reverse('inquiries:calls_due')}?{urlencode({'view': _view(request)})}"


@staff_required
@require_http_methods(["GET", "POST"])
def log(request, pk: int):
    """GET: the one call with its form. POST: log its outcome; a refusal shows the form again
    with its errors (400, or 403 / 409 for a refusal of that kind)."""
    call = _load(pk)
    if request.method == "GET":
        return _page(request, view=_view(request), only=call)
    form = FollowUpLogForm(request.POST, call=call)
    if not form.is_valid():
        return _page(request, view=_view(request), only=call, bound={call.pk: form}, status=400)
    try:
        followups.follow_up_log(
            actor=request.user, call=call, outcome=form.cleaned_data["outcome"], notes=form.cleaned_data["notes"]
        )
    except DomainError as error:
        apply_domain_error(form, error)
        call = _load(pk)
        return _page(request, view=_view(request), only=call, bound={call.pk: form}, status=_status_for(error))
    messages.success(
        request,
        _("%(reference)s: %(outcome)s logged.")
        % {"reference": call.inquiry.reference, "outcome": FollowUpOutcome(form.cleaned_data["outcome"]).label},
    )
    return redirect(_next_url(request, call))


@staff_required
@require_http_methods(["POST"])
def give(request, pk: int):
    """POST: give the call to another caller (a senior rep or above); a refusal shows the call
    again with the form's errors (400, or 403 / 409 for a refusal of that kind)."""
    call = _load(pk)
    form = FollowUpGiveForm(request.POST, call=call, staff=_staff(request.user) or [])
    try:
        require(as_actor(request.user), perms.ASSIGN)
        if not form.is_valid():
            return _page(request, view=_view(request), only=call, given={call.pk: form}, status=400)
        call = followups.follow_up_reassign(actor=request.user, call=call, assignee=form.cleaned_data["assignee"])
    except DomainError as error:
        apply_domain_error(form, error)
        call = _load(pk)
        return _page(request, view=_view(request), only=call, given={call.pk: form}, status=_status_for(error))
    caller = call.assignee.get_full_name() or call.assignee.get_username()
    messages.success(
        request,
        _("%(reference)s: the follow-up call is now %(caller)s's.")
        % {"reference": call.inquiry.reference, "caller": caller},
    )
    return redirect(_next_url(request, call))


@staff_required
@require_GET
def count(request):
    """The header badge's fragment (loaded by htmx, so no page pays for it)."""
    return render(request, "inquiries/_calls_due_count.html", {"count": due_count(request.user, clock.now())})


@staff_required
@require_GET
def panel(request, pk: int):
    """The inquiry page's follow-up panel (loaded by htmx: the page's own queries stay as they were)."""
    calls = list(
        FollowUpCall.objects.filter(inquiry_id=pk)
        .select_related("inquiry__customer", "assignee")
        .order_by("-cycle")[:PANEL_CALLS]
    )
    return render(
        request,
        "inquiries/_follow_up.html",
        {"loaded": True, "rows": _rows(calls, request.user), "inquiry_id": pk, "now": clock.now()},
    )
