"""Browser views for inquiries: parse the input, call a service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fulfillment import clock
from fulfillment.actors import as_actor
from fulfillment.errors import DomainError, InvalidInput
from fulfillment.pagination import keyset_page
from fulfillment.permissions import can
from fulfillment.tiers import Tier
from fulfillment.views import staff_required
from orders import selectors as order_selectors
from orders.enums import EXPEDITABLE
from orders.models import Customer, Order
from orders.views import _status_for  # one mapping of refusals to HTTP codes

from . import forms, selectors, services
from . import permissions as perms
from .enums import InquiryStatus, RemedyState, SlaFilter
from .models import Callback, Inquiry, Message, PlanStep, Remedy, parse_reference
from .selectors import Queue

TIMELINE_LIMIT = 60
QUEUE_LABELS = {
    Queue.MINE: gettext_lazy("My inquiries"),
    Queue.UNASSIGNED: gettext_lazy("Unassigned at my tier"),
    Queue.CALLBACKS: gettext_lazy("Callbacks due"),
    Queue.TEAM: gettext_lazy("Team"),
    Queue.ALL: gettext_lazy("All, newest first"),
}
#: The service-target filter over every queue ("" = no filter).
SLA_LABELS = {"": gettext_lazy("All"), **dict(SlaFilter.choices)}


# --- queues ----------------------------------------------------------------------------------


@staff_required
@require_GET
def queue(request):
    name = request.GET.get("queue") or Queue.MINE
    if name not in Queue.CHOICES:
        name = Queue.MINE
    sla = request.GET.get("sla", "")
    if sla not in SlaFilter.values:
        sla = ""
    queryset = selectors.inquiry_queue(actor=request.user, queue=name, sla=sla)
    if name == Queue.ALL:
        page = keyset_page(queryset, cursor=request.GET.get("cursor"), size=settings.FD_PAGE_SIZE, key="created_at")
    elif name == Queue.CALLBACKS:
        page = keyset_page(
            queryset,
            cursor=request.GET.get("cursor"),
            size=settings.FD_PAGE_SIZE,
            key="next_callback_at",
            ascending=True,
        )
    else:
        page = keyset_page(
            queryset, cursor=request.GET.get("cursor"), size=settings.FD_PAGE_SIZE, key="due_at", ascending=True
        )
    # The filter links keep the queue, the tabs keep the filter, the pager keeps both.
    context = {
        "queue": name,
        "queues": [(code, label, _query(code, sla)) for code, label in QUEUE_LABELS.items()],
        "queue_label": QUEUE_LABELS[name],
        "sla": sla,
        "sla_filters": [(code, label, _query(name, code)) for code, label in SLA_LABELS.items()],
        "page": page,
        "query": _query(name, sla),
        "now": clock.now(),
        "may_claim": can(as_actor(request.user), perms.CLAIM),
    }
    return render(request, "inquiries/queue.html", context)


def _query(queue: str, sla: str) -> str:
    return urlencode({"queue": queue, "sla": sla} if sla else {"queue": queue})


@staff_required
@require_GET
def search(request):
    q = request.GET.get("q", "").strip()[:200]
    if q and request.GET.get("go") == "1":
        pk = parse_reference(q)
        if pk and Inquiry.objects.filter(pk=pk).exists():
            return redirect("inquiries:detail", pk=pk)
    results = selectors.search_inquiries(actor=request.user, q=q) if q else []
    return render(request, "inquiries/search.html", {"q": q, "results": results, "now": clock.now()})


# --- intake ------------------------------------------------------------------------------------


def _order_choices(customer_id: int) -> list[tuple[str, str]]:
    return [
        (str(o.pk), f"{o.number} · {o.get_status_display()} · {o.total} {o.currency}")
        for o in selectors.customer_orders(customer_id, limit=15)
    ]


@staff_required
@require_http_methods(["GET", "POST"])
def new_call(request):
    """The "new call" screen: find the caller as they speak, then log everything in one step."""
    q = request.GET.get("q", "").strip()[:200]
    customer = None
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    if customer_id and str(customer_id).isdigit():
        customer = Customer.objects.filter(pk=customer_id).first()
    candidates = []
    if q and customer is None:
        named = order_selectors.orders_named(q)
        candidates = list(order_selectors.customer_list(actor=request.user, q=q, named=named)[:10])
    form = None
    status = 200
    open_inquiries = []
    if customer is not None:
        open_inquiries = selectors.open_inquiries_of(customer.pk)
        form = forms.CallForm(request.POST or None, order_choices=_order_choices(customer.pk))
        if request.method == "POST":
            if form.is_valid():
                data = form.cleaned_data
                inquiry = None
                if data["inquiry"]:
                    inquiry = Inquiry.objects.filter(pk=data["inquiry"], customer=customer).first()
                    if inquiry is None:
                        form.add_error(None, _("That inquiry is not one of this customer's."))
                if not form.errors:
                    orders = list(Order.objects.filter(pk__in=data["orders"], customer=customer))
                    try:
                        inquiry, _call = services.phone_intake(
                            actor=request.user,
                            customer=customer,
                            inquiry=inquiry,
                            subject=data["subject"],
                            category=data["category"],
                            priority=data["priority"],
                            orders=orders,
                            direction=data["direction"],
                            outcome=data["outcome"],
                            duration_seconds=data["duration"],
                            notes=data["notes"],
                            callback_due_at=data["callback_due_at"],
                            callback_note=data["callback_note"],
                        )
                    except DomainError as error:
                        forms.apply_domain_error(form, error)
                        status = _status_for(error)
                    else:
                        messages.success(request, _("Call logged on %(ref)s.") % {"ref": inquiry.reference})
                        return redirect("inquiries:detail", pk=inquiry.pk)
                else:
                    status = 400
            else:
                status = 400
    elif request.method == "POST":
        status = 400
        messages.error(request, _("Find the caller first."))
    context = {
        "q": q,
        "candidates": candidates,
        "customer": customer,
        "form": form,
        "open_inquiries": open_inquiries,
        "recent_orders": selectors.customer_orders(customer.pk, limit=5) if customer else [],
    }
    return render(request, "inquiries/new_call.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def new_inquiry(request, customer_id: int):
    """A letter (with the date received), or an email or web message typed in by a rep."""
    customer = get_object_or_404(Customer, pk=customer_id)
    form = forms.NewInquiryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            numbers = forms.split_numbers(data["orders"])
            orders = list(Order.objects.filter(number__in=numbers, customer=customer))
            missing = sorted(set(numbers) - {o.number for o in orders})
            if missing:
                form.add_error("orders", _("Not this customer's orders: %(n)s") % {"n": ", ".join(missing)})
                status = 400
            else:
                try:
                    inquiry = services.inquiry_create(
                        actor=request.user,
                        customer=customer,
                        subject=data["subject"],
                        channel=data["channel"],
                        category=data["category"],
                        priority=data["priority"],
                        body=data["body"],
                        received_on=data["received_on"],
                        orders=orders,
                    )
                except DomainError as error:
                    forms.apply_domain_error(form, error)
                    status = _status_for(error)
                else:
                    messages.success(request, _("Inquiry %(ref)s opened.") % {"ref": inquiry.reference})
                    return redirect("inquiries:detail", pk=inquiry.pk)
        else:
            status = 400
    return render(request, "inquiries/new_inquiry.html", {"form": form, "customer": customer}, status=status)


# --- the inquiry page ------------------------------------------------------------------------------


def _linked_orders(inquiry: Inquiry) -> list[Order]:
    return [link.order for link in inquiry.order_links.all()]


#: The inquiry page's forms: name → form class (the same class reads the POST of its action).
FORM_CLASSES = {
    "reply": forms.ReplyForm,
    "note": forms.NoteForm,
    "message": forms.CustomerMessageForm,
    "call": forms.LogCallForm,
    "callback": forms.CallbackForm,
    "status": forms.StatusForm,
    "details": forms.DetailsForm,
    "assign": forms.AssignForm,
    "link": forms.LinkOrderForm,
    "handoff": forms.HandoffForm,
    "remedy": forms.RemedyForm,
    "plan": forms.PlanStepForm,
    "customer": forms.CustomerAdjustForm,
}


def _initial(name: str, inquiry: Inquiry) -> dict:
    customer = inquiry.customer
    if name == "reply":
        return {"seen_message_id": inquiry.last_message_id}
    if name == "status":
        return {"version": inquiry.version}
    if name == "details":
        return {
            "version": inquiry.version,
            "subject": inquiry.subject,
            "priority": inquiry.priority,
            "category": inquiry.category,
            "specialty_needed": inquiry.specialty_needed,
            "tags": ", ".join(t.name for t in inquiry.tags.all()),
        }
    if name == "assign":
        return {"assignee": inquiry.assignee_id}
    if name == "customer":
        fields = [f for f in forms.CustomerAdjustForm.base_fields if f != "version"]
        return {"version": customer.version, **{f: getattr(customer, f) for f in fields}}
    return {}


def _form(name: str, inquiry: Inquiry, data=None):
    """One of the page's forms: unbound with its initial values, or bound to a POST."""
    kwargs = {"auto_id": f"id_{name}_%s"}
    order_choices = [(str(o.pk), o.number) for o in _linked_orders(inquiry)]
    if name == "reply":
        kwargs["language"] = inquiry.customer.preferred_language
    elif name == "handoff":
        kwargs["order_choices"] = order_choices
    elif name == "remedy":
        kwargs.update(order_choices=order_choices, kinds=services.offered_kinds(inquiry))
    form_class = FORM_CLASSES[name]
    if data is None:
        return form_class(initial=_initial(name, inquiry), **kwargs)
    return form_class(data, **kwargs)


def _page_forms(inquiry: Inquiry) -> dict:
    return {name: _form(name, inquiry) for name in FORM_CLASSES}


def _load(request, pk: int) -> Inquiry:
    try:
        return selectors.inquiry_for_page(actor=request.user, pk=pk)
    except ObjectDoesNotExist:
        raise Http404(_("No such inquiry.")) from None


def _inquiry_page(request, inquiry: Inquiry, *, bound: dict | None = None, status: int = 200, error=None, **extra):
    actor = as_actor(request.user)
    page_forms = _page_forms(inquiry)
    alternative = request.GET.get("alternative", "")
    if alternative.isdigit():
        # "Offer an alternative" (after a decline): the remedy form's own hidden field carries it.
        page_forms["remedy"].initial["alternative_to"] = int(alternative)
    template = request.GET.get("template", "")
    if template.isdigit():
        # A proposed customer update (a reminder's link): the reply form offers that template.
        page_forms["reply"].initial["template"] = int(template)
    if bound:
        page_forms.update(bound)
    before = request.GET.get("before")
    events = selectors.timeline(
        inquiry, limit=TIMELINE_LIMIT, before_id=int(before) if before and before.isdigit() else None
    )
    context = {
        "inquiry": inquiry,
        "targets": selectors.target_clocks(inquiry),
        "customer": inquiry.customer,
        "forms": page_forms,
        "events": events,
        "older": events[0].pk if len(events) == TIMELINE_LIMIT else None,
        "linked_orders": _linked_orders(inquiry),
        "past_inquiries": selectors.customer_inquiries(inquiry.customer_id, exclude=inquiry.pk, limit=8),
        "customer_orders": selectors.customer_orders(inquiry.customer_id, limit=8),
        "allowed_statuses": [(s, InquiryStatus(s).label) for s in inquiry.allowed_statuses],
        "open_action": next(iter(bound), None) if bound else None,
        "error": error,
        "others": services.presence_others(user=request.user, inquiry=inquiry),
        "may": {
            "work": can(actor, perms.WORK),
            "claim": can(actor, perms.CLAIM) and inquiry.assignee_id is None and inquiry.is_active,
            "assign": can(actor, perms.ASSIGN),
            "remedy": can(actor, perms.REMEDY),
        },
        "is_mine": inquiry.assignee_id == request.user.pk,
        "expeditable": EXPEDITABLE,
        "pending_remedies": [r for r in inquiry.remedies.all() if r.state == RemedyState.PROPOSED],
        # declined remedies that already have an alternative: no second "offer an alternative"
        "answered": {r.alternative_to_id for r in inquiry.remedies.all() if r.alternative_to_id},
        **extra,
    }
    services.presence_ping(user=request.user, inquiry=inquiry)
    return render(request, "inquiries/detail.html", context, status=status)


@staff_required
@require_GET
def detail(request, pk: int):
    return _inquiry_page(request, _load(request, pk))


def _order_of(inquiry: Inquiry, order_id) -> Order | None:
    return next((o for o in _linked_orders(inquiry) if str(o.pk) == str(order_id)), None)


def _do_reply(request, inquiry, data):
    return services.reply_send(
        actor=request.user,
        inquiry=inquiry,
        body=data["body"],
        template=data["template"],
        seen_message_id=data["seen_message_id"],
        then_status=data["then_status"] or None,
    )


def _do_status(request, inquiry, data):
    return services.inquiry_set_status(
        actor=request.user,
        inquiry=inquiry,
        status=data["status"],
        reason=data["reason"],
        override_open_steps=data["override_open_steps"],
        expected_version=data.get("version"),
    )


def _do_details(request, inquiry, data):
    return services.inquiry_update(
        actor=request.user,
        inquiry=inquiry,
        expected_version=data.get("version"),
        subject=data["subject"],
        priority=data["priority"],
        category=data["category"],
        specialty_needed=data["specialty_needed"],
        tags=data["tags"].split(","),
    )


def _do_link(request, inquiry, data):
    order = Order.objects.filter(number=data["number"].strip().upper()).first()
    if order is None:
        raise InvalidInput(field_errors={"number": [_("No order with this number.")]})
    return services.link_order(actor=request.user, inquiry=inquiry, order=order)


def _do_call(request, inquiry, data):
    return services.call_log(
        actor=request.user,
        inquiry=inquiry,
        direction=data["direction"],
        outcome=data["outcome"],
        duration_seconds=data["duration"],
        notes=data["notes"],
        callback_due_at=data["callback_due_at"],
        callback_note=data["callback_note"],
    )


def _do_handoff(request, inquiry, data):
    return services.handoff_to_department(
        actor=request.user,
        inquiry=inquiry,
        order=_order_of(inquiry, data["order"]),
        department=data["department"],
        summary=data["summary"],
        due_date=data["due_date"],
    )


def _do_remedy(request, inquiry, data):
    alternative = (
        Remedy.objects.filter(pk=data["alternative_to"], inquiry=inquiry).first() if data["alternative_to"] else None
    )
    return services.remedy_propose(
        actor=request.user,
        inquiry=inquiry,
        kind=data["kind"],
        reason=data["reason"],
        amount=data["amount"],
        order=_order_of(inquiry, data["order"]) if data["order"] else None,
        description=data["description"],
        alternative_to=alternative,
    )


def _remedy_proposed(remedy: Remedy) -> str:
    """Above the proposer's authority a remedy is not offered yet: it waits for an approver."""
    if remedy.state == RemedyState.PENDING_APPROVAL:
        return _("Above your authority: sent to the %(tier)s tier for approval.") % {
            "tier": Tier(remedy.approval_tier).label
        }
    return _("Remedy proposed.")


def _do_customer(request, inquiry, data):
    fields = {k: v for k, v in data.items() if k != "version"}
    return services.customer_adjust(actor=request.user, inquiry=inquiry, expected_version=data.get("version"), **fields)


#: action → (service call, success message — or a function of the call's result that says it)
ACTIONS = {
    "reply": (_do_reply, gettext_lazy("Reply sent.")),
    "note": (
        lambda request, inquiry, d: services.note_add(actor=request.user, inquiry=inquiry, body=d["body"]),
        gettext_lazy("Note added."),
    ),
    "message": (
        lambda request, inquiry, d: services.message_receive(
            actor=request.user, inquiry=inquiry, body=d["body"], channel=d["channel"], received_on=d["received_on"]
        ),
        gettext_lazy("Customer message recorded."),
    ),
    "call": (_do_call, gettext_lazy("Call logged.")),
    "callback": (
        lambda request, inquiry, d: services.callback_promise(
            actor=request.user, inquiry=inquiry, due_at=d["due_at"], note=d["note"]
        ),
        gettext_lazy("Callback promised."),
    ),
    "status": (_do_status, gettext_lazy("Status changed.")),
    "details": (_do_details, gettext_lazy("Details saved.")),
    "assign": (
        lambda request, inquiry, d: services.inquiry_assign(
            actor=request.user, inquiry=inquiry, assignee=d["assignee"]
        ),
        gettext_lazy("Assignment saved."),
    ),
    "link": (_do_link, gettext_lazy("Order linked.")),
    "handoff": (_do_handoff, gettext_lazy("Handed off.")),
    "remedy": (_do_remedy, _remedy_proposed),
    "plan": (
        lambda request, inquiry, d: services.plan_step_add(
            actor=request.user, inquiry=inquiry, title=d["title"], owner=d["owner"], due_date=d["due_date"]
        ),
        gettext_lazy("Plan step added."),
    ),
    "customer": (_do_customer, gettext_lazy("Customer details saved.")),
}


@staff_required
@require_POST
def action(request, pk: int, name: str):
    if name not in ACTIONS:
        raise Http404(_("No such action."))
    inquiry = _load(request, pk)
    call, success = ACTIONS[name]
    form = _form(name, inquiry, request.POST)
    if not form.is_valid():
        return _refused(request, inquiry, name, form, status=400)
    try:
        result = call(request, inquiry, form.cleaned_data)
    except services.StaleReply as error:
        # Held back: show the new messages first, keep the draft, let the rep send again.
        return _refused(request, inquiry, name, form, status=409, error=error, stale=error.new_message_ids)
    except DomainError as error:
        forms.apply_domain_error(form, error)
        return _refused(request, inquiry, name, form, status=_status_for(error), error=error)
    messages.success(request, success(result) if callable(success) else success)
    return redirect("inquiries:detail", pk=pk)


def _refused(request, inquiry, name, form, *, status: int, error=None, stale=None):
    inquiry = _load(request, inquiry.pk)
    if stale:
        # A fresh reply form carries the new "seen" mark, with the rep's draft kept.
        data = form.data.copy()
        data["seen_message_id"] = inquiry.last_message_id
        form = _form("reply", inquiry, data)
        form.is_valid()
    response = _inquiry_page(request, inquiry, bound={name: form}, status=status, error=error, stale=stale or [])
    response["HX-Replace-Url"] = reverse("inquiries:detail", args=[inquiry.pk])
    return response


@staff_required
@require_POST
def claim(request, pk: int):
    inquiry = get_object_or_404(Inquiry.objects.only("id"), pk=pk)
    try:
        services.inquiry_claim(actor=request.user, inquiry=inquiry)
        messages.success(request, _("The inquiry is yours."))
    except DomainError as error:
        messages.error(request, error.message)
    target = request.POST.get("next")
    if target == "queue":
        return redirect(f"{reverse('inquiries:queue')}?queue=unassigned")
    return redirect("inquiries:detail", pk=pk)


@staff_required
@require_POST
def remedy_decide(request, pk: int, remedy_id: int):
    remedy = get_object_or_404(Remedy, pk=remedy_id, inquiry_id=pk)
    form = forms.RemedyDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what the customer said."))
        return redirect("inquiries:detail", pk=pk)
    try:
        remedy = services.remedy_decide(
            actor=request.user, remedy=remedy, state=form.cleaned_data["state"], note=form.cleaned_data["note"]
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("inquiries:detail", pk=pk)
    if remedy.state == RemedyState.DECLINED:
        messages.info(request, _("Declined. Offer an alternative: the remedy form is open below."))
        return redirect(f"{reverse('inquiries:detail', args=[pk])}?alternative={remedy.pk}#remedies")
    messages.success(request, _("Remedy %(state)s.") % {"state": remedy.get_state_display().lower()})
    return redirect("inquiries:detail", pk=pk)


@staff_required
@require_POST
def plan_step_done(request, pk: int, step_id: int):
    step = get_object_or_404(PlanStep, pk=step_id, inquiry_id=pk)
    done = request.POST.get("done", "1") == "1"
    try:
        services.plan_step_set_done(actor=request.user, step=step, done=done)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("inquiries:detail", pk=pk)


@staff_required
@require_POST
def callback_done(request, pk: int, callback_id: int):
    callback = get_object_or_404(Callback, pk=callback_id, inquiry_id=pk)
    try:
        services.callback_complete(actor=request.user, callback=callback, cancelled=request.POST.get("cancel") == "1")
        messages.success(request, _("Callback marked done."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("inquiries:detail", pk=pk)


@staff_required
@require_GET
def presence(request, pk: int):
    """Polled by the inquiry page: who else is here, and did anything arrive since it loaded."""
    inquiry = get_object_or_404(Inquiry.objects.only("id", "last_message_id", "version"), pk=pk)
    services.presence_ping(user=request.user, inquiry=inquiry, composing=request.GET.get("composing") == "1")
    seen = request.GET.get("seen", "")
    newer = 0
    if seen.isdigit() and inquiry.last_message_id > int(seen):
        newer = Message.objects.filter(inquiry=inquiry, pk__gt=int(seen)).exclude(author=request.user).count()
    return render(
        request,
        "inquiries/_presence.html",
        {"others": services.presence_others(user=request.user, inquiry=inquiry), "newer": newer, "inquiry": inquiry},
    )


@staff_required
@require_POST
def leave(request, pk: int):
    inquiry = get_object_or_404(Inquiry.objects.only("id"), pk=pk)
    services.presence_leave(user=request.user, inquiry=inquiry)
    return render(request, "inquiries/_empty.html", status=200)
