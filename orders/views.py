"""Browser views for orders and customers: parse the input, call a service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from fulfillment.actors import as_actor
from fulfillment.errors import Conflict, DomainError, PermissionDenied, TransitionNotAllowed
from fulfillment.pagination import keyset_page
from fulfillment.permissions import can
from fulfillment.views import staff_required

from . import forms, selectors, services
from . import permissions as perms
from .enums import EXPEDITABLE, OrderAction, OrderStatus
from .filters import OrderFilter
from .models import Customer, Handoff, Order
from .services import LineInput


def _status_for(error: DomainError) -> int:
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, (TransitionNotAllowed, Conflict)):
        return 409
    return 400


# --- order list ------------------------------------------------------------------------


@staff_required
def order_list(request):
    base = selectors.order_list(actor=request.user)
    order_filter = OrderFilter(request.GET or None, queryset=base)
    if order_filter.is_bound and not order_filter.is_valid():
        queryset, status = base.none(), 400
    else:
        queryset, status = order_filter.qs, 200
    page = keyset_page(queryset, cursor=request.GET.get("cursor"), size=settings.FD_PAGE_SIZE, key="placed_at")
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "filter": order_filter,
        "page": page,
        "query": query.urlencode(),
        "statuses": OrderStatus.choices,
    }
    return render(request, "orders/order_list.html", context, status=status)


# --- order page -----------------------------------------------------------------------

#: action → (form class, service call). The service does the checking.
ACTIONS = {
    OrderAction.CONFIRM: (
        forms.EmptyActionForm,
        lambda o, u, d: services.order_confirm(actor=u, order=o, expected_version=d.get("version")),
    ),
    OrderAction.PROCESS: (
        forms.EmptyActionForm,
        lambda o, u, d: services.order_start_processing(actor=u, order=o, expected_version=d.get("version")),
    ),
    OrderAction.PACK: (
        forms.EmptyActionForm,
        lambda o, u, d: services.order_pack(actor=u, order=o, expected_version=d.get("version")),
    ),
    OrderAction.SHIP: (
        forms.ShipForm,
        lambda o, u, d: services.order_ship(
            actor=u,
            order=o,
            carrier=d["carrier"],
            tracking_number=d["tracking_number"],
            service_level=d["service_level"],
            expected_version=d.get("version"),
        ),
    ),
    OrderAction.DELIVER: (
        forms.EmptyActionForm,
        lambda o, u, d: services.order_deliver(actor=u, order=o, expected_version=d.get("version")),
    ),
    OrderAction.HOLD: (
        forms.ReasonForm,
        lambda o, u, d: services.order_hold(actor=u, order=o, reason=d["reason"], expected_version=d.get("version")),
    ),
    OrderAction.RELEASE: (
        forms.EmptyActionForm,
        lambda o, u, d: services.order_release(actor=u, order=o, expected_version=d.get("version")),
    ),
    OrderAction.CANCEL: (
        forms.ReasonForm,
        lambda o, u, d: services.order_cancel(actor=u, order=o, reason=d["reason"], expected_version=d.get("version")),
    ),
    OrderAction.RETURN: (
        forms.ReasonForm,
        lambda o, u, d: services.order_mark_returned(
            actor=u, order=o, reason=d["reason"], expected_version=d.get("version")
        ),
    ),
    "expedite": (
        forms.ExpediteForm,
        lambda o, u, d: services.order_request_expedite(
            actor=u, order=o, reason=d["reason"], requested_by=d["requested_by"]
        ),
    ),
    "clear_expedite": (
        forms.OptionalReasonForm,
        lambda o, u, d: services.order_clear_expedite(actor=u, order=o, reason=d["reason"]),
    ),
    "note": (forms.NoteForm, lambda o, u, d: services.order_add_note(actor=u, order=o, text=d["text"])),
    "payment": (
        forms.PaymentForm,
        lambda o, u, d: services.order_record_payment(actor=u, order=o, amount=d["amount"], reference=d["reference"]),
    ),
    "refund": (
        forms.RefundForm,
        lambda o, u, d: services.order_refund(
            actor=u, order=o, amount=d["amount"], reason=d["reason"], reference=d["reference"]
        ),
    ),
    "handoff": (
        forms.HandoffForm,
        lambda o, u, d: services.handoff_create(
            actor=u, order=o, department=d["department"], summary=d["summary"], owner=d["owner"], due_date=d["due_date"]
        ),
    ),
    "dates": (
        forms.OrderDatesForm,
        lambda o, u, d: services.order_update_details(
            actor=u, order=o, ship_by=d["ship_by"], deliver_by=d["deliver_by"], expected_version=d.get("version")
        ),
    ),
}

SUCCESS = {
    OrderAction.CONFIRM: gettext_lazy("Order confirmed."),
    OrderAction.PROCESS: gettext_lazy("Processing started."),
    OrderAction.PACK: gettext_lazy("Order marked packed."),
    OrderAction.SHIP: gettext_lazy("Order marked shipped."),
    OrderAction.DELIVER: gettext_lazy("Order marked delivered."),
    OrderAction.HOLD: gettext_lazy("Order put on hold."),
    OrderAction.RELEASE: gettext_lazy("Hold released."),
    OrderAction.CANCEL: gettext_lazy("Order cancelled."),
    OrderAction.RETURN: gettext_lazy("Order marked returned."),
    "expedite": gettext_lazy("Expedite requested."),
    "clear_expedite": gettext_lazy("Expedite cleared."),
    "note": gettext_lazy("Note added."),
    "payment": gettext_lazy("Payment recorded."),
    "refund": gettext_lazy("Refund recorded."),
    "handoff": gettext_lazy("Hand-off created."),
    "dates": gettext_lazy("Promised dates saved."),
}


def _load_order(request, number: str) -> Order:
    try:
        return selectors.order_detail(actor=request.user, number=number)
    except ObjectDoesNotExist:
        raise Http404(_("No such order.")) from None


def _order_page(request, order: Order, *, bound: dict | None = None, status: int = 200, error=None):
    actor = as_actor(request.user)
    forms_by_action = {
        name: form_class(initial={"version": order.version}, auto_id=f"id_{name}_%s")
        for name, (form_class, _call) in ACTIONS.items()
    }
    forms_by_action["dates"] = forms.OrderDatesForm(
        initial={"version": order.version, "ship_by": order.ship_by, "deliver_by": order.deliver_by},
        auto_id="id_dates_%s",
    )
    if bound:
        forms_by_action.update(bound)
    context = {
        "order": order,
        "forms": forms_by_action,
        "allowed": order.allowed_actions,
        "can_expedite": order.status in EXPEDITABLE,
        "may": {
            "refund": can(actor, perms.REFUND),
            "cancel": can(actor, perms.CANCEL),
            "fulfil": can(actor, perms.FULFIL),
            "payment": can(actor, perms.PAYMENT),
            "change": can(actor, perms.CHANGE),
            "handoff": can(actor, perms.HANDOFF),
            "expedite": can(actor, perms.EXPEDITE),
            "note": can(actor, perms.NOTE),
        },
        "open_action": next(iter(bound), None) if bound else None,
        "error": error,
        "handoff_state_form": forms.HandoffStateForm(),
        "events": list(order.events.all()),
    }
    return render(request, "orders/order_detail.html", context, status=status)


@staff_required
def order_detail(request, number: str):
    return _order_page(request, _load_order(request, number))


@staff_required
@require_POST
def order_action(request, number: str, action: str):
    if action not in ACTIONS:
        raise Http404(_("No such action."))
    order = get_object_or_404(Order.objects.only("id", "number"), number=number)
    form_class, call = ACTIONS[action]
    form = form_class(request.POST, auto_id=f"id_{action}_%s")
    if not form.is_valid():
        return _refused(request, number, action, form, status=400)
    try:
        call(order, request.user, form.cleaned_data)
    except DomainError as error:
        forms.apply_domain_error(form, error)
        return _refused(request, number, action, form, status=_status_for(error), error=error)
    messages.success(request, SUCCESS[action])
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)  # e.g. back to the inquiry page the action was taken from
    return redirect("orders:detail", number=number)


def _refused(request, number: str, action: str, form, *, status: int, error=None):
    """The order page again, with the refused form open and its errors; the address stays the order's."""
    response = _order_page(request, _load_order(request, number), bound={action: form}, status=status, error=error)
    response["HX-Replace-Url"] = reverse("orders:detail", args=[number])
    return response


@staff_required
@require_POST
def handoff_state(request, pk: int):
    handoff = get_object_or_404(Handoff.objects.select_related("order"), pk=pk)
    form = forms.HandoffStateForm(request.POST)
    if form.is_valid():
        try:
            services.handoff_set_state(
                actor=request.user, handoff=handoff, state=form.cleaned_data["state"], note=form.cleaned_data["note"]
            )
            messages.success(request, _("Hand-off updated."))
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("Choose a state for the hand-off."))
    return redirect("orders:detail", number=handoff.order.number)


@staff_required
@require_http_methods(["GET", "POST"])
def order_create(request, customer_id: int):
    customer = get_object_or_404(Customer, pk=customer_id)
    order_form = forms.OrderCreateForm(request.POST or None, initial={"currency": settings.FD_DEFAULT_CURRENCY})
    formset = forms.OrderLineFormSet(request.POST or None, prefix="lines")
    status = 200
    if request.method == "POST":
        if order_form.is_valid() and formset.is_valid():
            lines = [
                LineInput(
                    sku=f["sku"], description=f["description"], quantity=f["quantity"], unit_price=f["unit_price"]
                )
                for f in formset.cleaned_data
                if f and not f.get("DELETE")
            ]
            try:
                order = services.order_create(
                    actor=request.user,
                    customer=customer,
                    lines=lines,
                    source="desk",
                    currency=order_form.cleaned_data["currency"],
                    ship_by=order_form.cleaned_data["ship_by"],
                    deliver_by=order_form.cleaned_data["deliver_by"],
                )
            except DomainError as error:
                forms.apply_domain_error(order_form, error)
                status = _status_for(error)
            else:
                messages.success(request, _("Order %(number)s created.") % {"number": order.number})
                return redirect("orders:detail", number=order.number)
        else:
            status = 400
    return render(
        request, "orders/order_form.html", {"customer": customer, "form": order_form, "formset": formset}, status=status
    )


# --- customers --------------------------------------------------------------------------


@staff_required
def customer_list(request):
    q = request.GET.get("q", "")[:200]
    queryset = selectors.customer_list(actor=request.user, q=q)
    page = keyset_page(queryset, cursor=request.GET.get("cursor"), size=settings.FD_PAGE_SIZE, key="created_at")
    return render(request, "orders/customer_list.html", {"page": page, "q": q})


@staff_required
def customer_detail(request, pk: int):
    try:
        customer = selectors.customer_detail(actor=request.user, pk=pk)
    except ObjectDoesNotExist:
        raise Http404(_("No such customer.")) from None
    orders = keyset_page(
        selectors.customer_orders(actor=request.user, customer=customer),
        cursor=request.GET.get("cursor"),
        size=settings.FD_PAGE_SIZE,
        key="placed_at",
    )
    events = customer.events.select_related("actor_user").order_by("-created_at", "-id")[:50]
    return render(request, "orders/customer_detail.html", {"customer": customer, "page": orders, "events": events})


@staff_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk: int | None = None):
    customer = get_object_or_404(Customer, pk=pk) if pk else None
    form = forms.CustomerForm(request.POST or None, instance=customer)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in services.CUSTOMER_FIELDS}
            try:
                if customer:
                    customer = services.customer_update(
                        actor=request.user, customer=customer, expected_version=form.cleaned_data.get("version"), **data
                    )
                    messages.success(request, _("Customer saved."))
                else:
                    customer = services.customer_create(actor=request.user, **data)
                    messages.success(request, _("Customer created."))
            except DomainError as error:
                forms.apply_domain_error(form, error)
                status = _status_for(error)
            else:
                return redirect("orders:customer", pk=customer.pk)
        else:
            status = 400
    return render(request, "orders/customer_form.html", {"form": form, "customer": customer}, status=status)


# --- the header search: "who is calling?" -------------------------------------------------


@staff_required
def search(request):
    q = request.GET.get("q", "").strip()[:200]
    customers, orders = [], []
    if q:
        if request.GET.get("go") == "1":
            exact = list(selectors.order_exact_matches(actor=request.user, q=q)[:2])
            if len(exact) == 1:  # an order number or reference names one order: open it
                return redirect("orders:detail", number=exact[0].number)
        named = selectors.orders_named(q)
        customers = list(selectors.customer_list(actor=request.user, q=q, named=named).order_by("name", "id")[:20])
        order_q = Q(id__in=[order_id for order_id, _c in named]) | Q(customer_id__in=[c.pk for c in customers])
        orders = list(selectors.order_list(actor=request.user).filter(order_q).order_by("-placed_at", "-id")[:20])
    return render(request, "orders/search.html", {"q": q, "search_q": q, "customers": customers, "orders": orders})
