"""Browser views for the ladder: the action pages (escalate, take over, return with coaching,
reassign, de-escalate; approve or deny a request), the review queue and "My coaching".

Thin: parse the form, call the service (``escalation.services`` or the remedies' own
``remedy_approve`` / ``remedy_deny``), redirect with a message; a refusal re-renders the form
with the service's words and a 400, 403 or 409. The inquiry page's panel is a template tag
(``templatetags/escalation_tags.py``): inquiries' Python never imports this app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fulfillment import clock
from fulfillment.actors import as_actor
from fulfillment.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from fulfillment.pagination import keyset_page
from fulfillment.permissions import require
from fulfillment.tiers import Tier
from fulfillment.views import staff_required
from inquiries import permissions as inquiry_perms
from inquiries import services as inquiry_services
from inquiries.enums import RemedyState
from inquiries.models import Inquiry, Remedy
from inquiries.services._common import require_workable
from orders.views import _status_for  # one mapping of refusals to HTTP codes

from . import forms, selectors, services
from . import permissions as perms
from .models import Escalation

# --- the ladder's action pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class LadderAction:
    """One action page: its form (whose field names are the service's keyword arguments, the
    hidden ``version`` its ``expected_version``), the service, the title and the rule checked
    before the form is shown; ``tiers``: the tiers the form offers for this actor and inquiry."""

    name: str
    form_class: type
    service: Callable
    title: str
    success: str
    button: str = ""
    rule: object = perms.REVIEW
    tiers: Callable | None = None

    def call(self, request, inquiry: Inquiry, data: dict):
        kwargs = {**data, "expected_version": data.get("version")}
        del kwargs["version"]
        if kwargs.get("to_user") is not None:
            kwargs["to_user"] = get_user_model().objects.filter(pk=kwargs["to_user"]).first()
            if kwargs["to_user"] is None:
                raise InvalidInput(field_errors={"to_user": [_("Choose someone from the list.")]})
        return self.service(actor=request.user, inquiry=inquiry, **kwargs)


def _tiers_above(user, inquiry) -> list[int]:
    return [t for t in Tier.values if t > inquiry.tier]


def _tiers_below(user, inquiry) -> list[int]:
    own = as_actor(user).tier or 0
    return [t for t in Tier.values if t < inquiry.tier and t <= own]


_l = gettext_lazy
ACTIONS = {
    action.name: action
    for action in (
        LadderAction(
            "escalate",
            forms.EscalateForm,
            services.escalate,
            _l("Escalate"),
            _l("Escalated to the %(tier)s tier."),
            rule=perms.ESCALATE,
            tiers=_tiers_above,
        ),
        LadderAction(
            "take_over",
            forms.TakeOverForm,
            services.take_over,
            _l("Take over"),
            _l("You have taken this inquiry over."),
        ),
        LadderAction(
            "return",
            forms.ReturnForm,
            services.return_with_coaching,
            _l("Return with coaching"),
            _l("Returned to the %(tier)s tier with your coaching note."),
            button=_l("Return with the coaching note"),
        ),
        LadderAction(
            "reassign",
            forms.ReassignForm,
            services.reassign,
            _l("Reassign to a lower tier"),
            _l("Reassigned to the %(tier)s tier."),
            button=_l("Reassign"),
            tiers=_tiers_below,
        ),
        LadderAction(
            "de_escalate",
            forms.DeEscalateForm,
            services.de_escalate,
            _l("De-escalate"),
            _l("De-escalated to the %(tier)s tier."),
        ),
    )
}


def _load(pk: int) -> Inquiry:
    return get_object_or_404(Inquiry.objects.select_related("customer", "assignee"), pk=pk)


def _form(action: LadderAction, inquiry: Inquiry, data=None):
    if data is not None:
        return action.form_class(data)
    initial_for = getattr(action.form_class, "initial_for", None)
    return action.form_class(initial=initial_for(inquiry) if initial_for else {"version": inquiry.version})


def _open_escalation(inquiry: Inquiry) -> Escalation | None:
    return (
        Escalation.objects.filter(inquiry=inquiry, closed_at__isnull=True)
        .select_related("from_user", "rule", "taken_by")
        .first()
    )


def _refusal(action: LadderAction, request, inquiry: Inquiry, opened: Escalation | None) -> DomainError | None:
    """Before showing a form: may this user take this action on this inquiry at all? (The
    service decides again on POST, under the lock.)"""
    actor = as_actor(request.user)
    try:
        require(actor, action.rule)
        require_workable(actor, inquiry)
    except DomainError as error:
        return error
    if not inquiry.is_active:
        return InvalidInput(_("Only an active inquiry moves on the ladder. Reopen it first."))
    if action.name == "return" and opened is None:
        return InvalidInput(_("There is no open escalation to return: reassign it instead."))
    if action.tiers is not None and not action.tiers(request.user, inquiry):
        if action.name == "escalate":
            return Conflict(_("This inquiry is already at the top of the ladder."))
        return Conflict(_("There is no lower tier to hand this inquiry to."))
    return None


def _back(request, inquiry_pk: int):
    """Where a done action leads: the inquiry, or the review queue it was started from."""
    if request.POST.get("next") == "review":
        tier = request.POST.get("tier", "")
        url = reverse("escalation:review")
        return redirect(f"{url}?{urlencode({'tier': tier})}" if tier.isdigit() else url)
    return redirect("inquiries:detail", pk=inquiry_pk)


def _render_action(request, action, inquiry, form, *, opened=None, status=200, error=None):
    if form is not None and action.tiers is not None:
        tiers = action.tiers(request.user, inquiry)
        form.offer(tiers, [(t, services.staff_at(t).prefetch_related("specialties")) for t in tiers])
    context = {
        "action": action,
        "inquiry": inquiry,
        "form": form,
        "error": error,
        "open_escalation": opened,
        "now": clock.now(),
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "review_tier": request.POST.get("tier") or request.GET.get("tier", ""),
    }
    return render(request, "escalation/action.html", context, status=status)


def _ladder(request, pk: int, name: str):
    action = ACTIONS[name]
    inquiry = _load(pk)
    if request.method == "GET":
        opened = _open_escalation(inquiry)
        refusal = _refusal(action, request, inquiry, opened)
        if refusal is not None:
            status = _status_for(refusal)
            return _render_action(request, action, inquiry, None, opened=opened, status=status, error=refusal)
        return _render_action(request, action, inquiry, _form(action, inquiry), opened=opened)
    form = _form(action, inquiry, request.POST)
    if not form.is_valid():
        return _render_action(request, action, inquiry, form, opened=_open_escalation(inquiry), status=400)
    try:
        action.call(request, inquiry, form.cleaned_data)
    except DomainError as error:
        forms.apply_domain_error(form, error)
        inquiry = _load(pk)  # show the inquiry as it is now (a Conflict says it changed)
        if isinstance(error, Conflict):
            # The page now shows what changed; sending again is a decision made on it.
            form.data = form.data.copy()
            form.data["version"] = inquiry.version
        status = _status_for(error)
        return _render_action(
            request, action, inquiry, form, opened=_open_escalation(inquiry), status=status, error=error
        )
    inquiry = _load(pk)
    messages.success(request, str(action.success) % {"tier": Tier(inquiry.tier).label})
    return _back(request, pk)


@staff_required
@require_http_methods(["GET", "POST"])
def escalate(request, pk: int):
    return _ladder(request, pk, "escalate")


@staff_required
@require_POST
def take_over(request, pk: int):
    return _ladder(request, pk, "take_over")


@staff_required
@require_http_methods(["GET", "POST"])
def return_with_coaching(request, pk: int):
    return _ladder(request, pk, "return")


@staff_required
@require_http_methods(["GET", "POST"])
def reassign(request, pk: int):
    return _ladder(request, pk, "reassign")


@staff_required
@require_http_methods(["GET", "POST"])
def de_escalate(request, pk: int):
    return _ladder(request, pk, "de_escalate")


# --- approval requests ----------------------------------------------------------------------------


def _approval_refusal(user, remedy: Remedy) -> DomainError | None:
    """Before showing the approve or deny form (the service decides again on POST)."""
    if remedy.state != RemedyState.PENDING_APPROVAL:
        return Conflict(_("This request is no longer waiting: %(state)s.") % {"state": remedy.get_state_display()})
    actor = as_actor(user)
    try:
        require(actor, inquiry_perms.APPROVE)
    except DomainError as error:
        return error
    if remedy.proposed_by_id == user.pk:
        return PermissionDenied(_("Nobody approves their own request: another colleague must decide."))
    if not selectors.may_approve(user, remedy):
        return PermissionDenied(
            _("This request needs the %(tier)s tier or above.") % {"tier": Tier(remedy.approval_tier).label}
        )
    return None


def _decide(request, remedy_id: int, *, approve: bool):
    remedy = get_object_or_404(
        Remedy.objects.select_related("inquiry", "inquiry__customer", "inquiry__assignee", "order", "proposed_by"),
        pk=remedy_id,
    )
    form_class = forms.ApproveForm if approve else forms.DenyForm
    context = {
        "remedy": remedy,
        "inquiry": remedy.inquiry,
        "approve": approve,
        "now": clock.now(),
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "review_tier": request.POST.get("tier") or request.GET.get("tier", ""),
    }
    if request.method == "GET":
        refusal = _approval_refusal(request.user, remedy)
        if refusal is not None:
            context["error"] = refusal
            return render(request, "escalation/approval.html", context, status=_status_for(refusal))
        context["form"] = form_class()
        return render(request, "escalation/approval.html", context)
    form = form_class(request.POST)
    context["form"] = form
    if not form.is_valid():
        return render(request, "escalation/approval.html", context, status=400)
    try:
        if approve:
            done = inquiry_services.remedy_approve(
                actor=request.user, remedy=remedy, amount=form.cleaned_data["amount"], note=form.cleaned_data["note"]
            )
        else:
            done = inquiry_services.remedy_deny(actor=request.user, remedy=remedy, note=form.cleaned_data["note"])
    except DomainError as error:
        forms.apply_domain_error(form, error)
        context.update(error=error, remedy=Remedy.objects.select_related("order", "proposed_by").get(pk=remedy.pk))
        return render(request, "escalation/approval.html", context, status=_status_for(error))
    if approve:
        amount = f" {done.amount} {done.currency}" if done.amount is not None else ""
        messages.success(
            request,
            _("Approved: %(kind)s%(amount)s carried out on %(ref)s.")
            % {"kind": done.get_kind_display(), "amount": amount, "ref": remedy.inquiry.reference},
        )
    else:
        messages.success(request, _("Not approved. %(ref)s has your note.") % {"ref": remedy.inquiry.reference})
    return _back(request, remedy.inquiry_id)


@staff_required
@require_http_methods(["GET", "POST"])
def approve(request, remedy_id: int):
    return _decide(request, remedy_id, approve=True)


@staff_required
@require_http_methods(["GET", "POST"])
def deny(request, remedy_id: int):
    return _decide(request, remedy_id, approve=False)


# --- the review queue and coaching ---------------------------------------------------------------

#: The review page shows the longest-waiting approval requests; the rest are a click away.
REVIEW_APPROVALS = 10
#: Review rows are taller than queue rows (who, why, since when, an action each): 25 a page.
REVIEW_PAGE_SIZE = 25


@staff_required
@require_GET
def review(request):
    """Approvals waiting for the tier and the inquiries escalated to it, oldest target first.
    Five queries whatever the rows: session, user, the approvals, the page, its escalations."""
    try:
        tier = selectors.review_tier(request.user, request.GET.get("tier"))
    except DomainError as error:
        raise HttpForbidden(str(error.message)) from None
    unassigned = request.GET.get("unassigned") == "1"
    # The longest-waiting requests, and a link to all of them when there are more.
    approvals = selectors.pending_approvals(actor=request.user, tier=tier, limit=REVIEW_APPROVALS + 1)
    more_approvals, approvals = len(approvals) > REVIEW_APPROVALS, approvals[:REVIEW_APPROVALS]
    for remedy in approvals:
        remedy.may_decide = selectors.may_approve(request.user, remedy)
    page = selectors.review_queue(
        actor=request.user, tier=tier, cursor=request.GET.get("cursor"), size=REVIEW_PAGE_SIZE, unassigned=unassigned
    )
    own = as_actor(request.user).tier or Tier.SUPERVISOR
    keep = {"tier": tier, **({"unassigned": "1"} if unassigned else {})}
    context = {
        "tier": tier,
        "tier_label": Tier(tier).label,
        "tiers": [(t, Tier(t).label) for t in Tier.values if Tier.SENIOR_REP <= t <= own],
        "unassigned": unassigned,
        "approvals": approvals,
        "more_approvals": more_approvals,
        "page": page,
        "query": urlencode(keep),
        "all_query": urlencode({"tier": tier}),
        "unassigned_query": urlencode({"tier": tier, "unassigned": "1"}),
        "now": clock.now(),
    }
    return render(request, "escalation/review.html", context)


@staff_required
@require_GET
def approvals(request):
    """Every approval request the tier may answer, the longest waiting first, page by page."""
    try:
        tier = selectors.review_tier(request.user, request.GET.get("tier"))
    except DomainError as error:
        raise HttpForbidden(str(error.message)) from None
    page = keyset_page(
        selectors.approval_requests(actor=request.user, tier=tier),
        cursor=request.GET.get("cursor"),
        size=settings.FD_PAGE_SIZE,
        key="created_at",
        ascending=True,
    )
    for remedy in page.items:
        remedy.may_decide = selectors.may_approve(request.user, remedy)
    context = {
        "tier": tier,
        "tier_label": Tier(tier).label,
        "page": page,
        "query": urlencode({"tier": tier}),
        "now": clock.now(),
    }
    return render(request, "escalation/approvals.html", context)


@staff_required
@require_GET
def coaching(request):
    """The coaching notes addressed to me, newest first."""
    return render(
        request, "escalation/coaching.html", {"notes": selectors.coaching_for(request.user), "now": clock.now()}
    )
