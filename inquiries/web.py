"""The public web form: no login, rate-limited per address, with a honeypot. It creates an
inquiry (web channel) and emails the customer its reference."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fulfillment import ratelimit
from fulfillment.actors import Actor
from fulfillment.errors import DomainError
from orders import services as order_services
from orders.models import Customer, Order

from . import forms, services
from .enums import Channel
from .mail.outbound import with_footers

WINDOW_SECONDS = 3600


def _allowed(request) -> bool:
    """At most FD_WEB_FORM_RATE submissions per address per hour (this form and the help center's)."""
    return ratelimit.allow(request, scope="webform", limit=settings.FD_WEB_FORM_RATE, window=WINDOW_SECONDS)


def _acknowledge(inquiry, customer: Customer) -> None:
    with translation.override(customer.preferred_language or translation.get_language() or "en"):
        subject = _("[%(ref)s] We have received your message") % {"ref": inquiry.reference}
        body = _(
            "Dear %(name)s,\n\nThank you for writing to us. Your reference is %(ref)s: please keep it in the "
            "subject line if you write again.\nA member of our team will reply soon.\n\nCustomer fulfillment team"
        ) % {"name": customer.name.split()[0] if customer.name.split() else customer.name, "ref": inquiry.reference}
    body = with_footers(body, inquiry)
    EmailMessage(subject=subject, body=body, from_email=settings.FD_SUPPORT_EMAIL, to=[customer.email]).send(
        fail_silently=True
    )


def submit(data: dict):
    """A web-form message (a valid ``WebInquiryForm``'s data) → a web-channel inquiry for the
    customer with that email (created on first contact, in the page's language), and the
    acknowledgement with its reference mailed after commit. The help center's form calls it too."""
    actor = Actor.system("web form")
    with transaction.atomic():
        customer = Customer.objects.filter(email__iexact=data["email"]).order_by("id").first()
        if customer is None:
            customer = order_services.customer_create(
                actor=actor,
                name=data["name"],
                email=data["email"],
                preferred_channel=Channel.EMAIL,
                preferred_language=translation.get_language() or "en",
            )
        order = None
        if data["order_number"]:
            number = data["order_number"].strip().upper()
            order = Order.objects.filter(number=number, customer=customer).first()
        inquiry = services.inquiry_create(
            actor=actor,
            customer=customer,
            subject=data["subject"],
            channel=Channel.WEB,
            body=data["body"],
            sender_email=data["email"],
            orders=[order] if order else [],
        )
        transaction.on_commit(lambda: _acknowledge(inquiry, customer))
    return inquiry


@require_http_methods(["GET", "POST"])
def contact(request):
    form = forms.WebInquiryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not _allowed(request):
            form.add_error(None, _("Too many messages from your address. Please try again in an hour."))
            return render(request, "inquiries/contact.html", {"form": form}, status=429)
        if form.is_valid():
            data = form.cleaned_data
            if data["website"]:
                # A bot filled the honeypot: thank it, keep nothing.
                return render(request, "inquiries/contact_done.html", {"reference": None})
            try:
                inquiry = submit(data)
            except DomainError as error:
                forms.apply_domain_error(form, error)
                status = 400
            else:
                return render(request, "inquiries/contact_done.html", {"reference": inquiry.reference})
        else:
            status = 400
    return render(request, "inquiries/contact.html", {"form": form}, status=status)
