"""The customer's pages (no account: the signed link is the key) and the staff buttons on the
inquiry page. Customer pages speak the customer's preferred language."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fulfillment import ratelimit
from fulfillment.actors import as_actor
from fulfillment.errors import DomainError, NotFound
from fulfillment.permissions import can
from inquiries import permissions as inquiry_perms
from inquiries.models import Inquiry

from . import conf, forms, selectors, services
from .enums import LinkPurpose
from .mail import status_url
from .models import CustomerLink

WINDOW_SECONDS = 3600


def _allowed(request, scope: str) -> bool:
    """At most ``FD_PORTAL_RATE`` posts per address per hour for ``scope``."""
    return ratelimit.allow(request, scope=f"portal:{scope}", limit=conf.reply_rate(), window=WINDOW_SECONDS)


def _refused(request, error: DomainError):
    """A link that does not work: a page that says why, in the visitor's language."""
    if isinstance(error, services.LinkExpired):
        status, title = 410, _("This link has expired")
        text = _(
            "For your security, links to your inquiry work for a limited time. The next email we send you "
            "carries a new one, or write to us and quote your reference."
        )
    elif isinstance(error, services.LinkRevoked):
        status, title = 403, _("This link is no longer valid")
        text = _(
            "This link was switched off by our team. The next email we send you carries a new one, or write "
            "to us and quote your reference."
        )
    else:
        status, title = 404, _("We could not find this link")
        text = _("Please check that you copied the whole link from our email, or write to us and quote your reference.")
    return render(request, "portal/refused.html", {"title": title, "text": text}, status=status)


def _link(token: str, purpose: str) -> CustomerLink:
    link = services.link_resolve(token=token, purpose=purpose)
    services.link_used(link)
    return link


def _status_page(request, link: CustomerLink, form, status: int = 200, sent: bool = False):
    inquiry = link.inquiry
    context = {
        "inquiry": inquiry,
        "token": request.resolver_match.kwargs["token"],
        "messages_": list(selectors.conversation(inquiry)),
        "form": form,
        "sent": sent,
    }
    return render(request, "portal/status.html", context, status=status)


@require_http_methods(["GET", "POST"])
def status(request, token: str):
    """Public (the token is the key): the inquiry's status and conversation, and a reply form."""
    try:
        link = _link(token, LinkPurpose.STATUS)
    except DomainError as error:
        return _refused(request, error)
    with translation.override(link.inquiry.customer.preferred_language or "en"):
        if request.method == "GET":
            return _status_page(request, link, forms.ReplyForm(), sent=request.GET.get("sent") == "1")
        form = forms.ReplyForm(request.POST)
        if not _allowed(request, "reply"):
            form.add_error(None, _("Too many messages from your address. Please try again in an hour."))
            return _status_page(request, link, form, status=429)
        if not form.is_valid():
            return _status_page(request, link, form, status=400)
        try:
            services.portal_reply(link=link, body=form.cleaned_data["body"])
        except DomainError as error:
            forms.apply_domain_error(form, error)
            return _status_page(request, link, form, status=400)
        return redirect(f"{request.path}?sent=1")


@require_http_methods(["GET", "POST"])
def rate(request, token: str, score: int | None = None):
    """Public (the token is the key). GET (the link in the mail) asks to confirm and offers a
    comment; only the POST records the rating."""
    try:
        link = _link(token, LinkPurpose.SURVEY)
    except DomainError as error:
        return _refused(request, error)
    inquiry = link.inquiry
    with translation.override(inquiry.customer.preferred_language or "en"):
        existing = selectors.ratings_for(inquiry).filter(cycle=link.cycle).first()
        context = {"inquiry": inquiry, "token": token, "rating": existing}
        if existing is not None:
            return render(request, "portal/rated.html", {**context, "already": request.method == "POST"})
        if request.method == "GET":
            initial = {"score": score} if score in range(1, 6) else {}
            return render(request, "portal/rate.html", {**context, "form": forms.RatingForm(initial=initial)})
        form = forms.RatingForm(request.POST)
        if not _allowed(request, "rate"):
            form.add_error(None, _("Too many answers from your address. Please try again in an hour."))
            return render(request, "portal/rate.html", {**context, "form": form}, status=429)
        if not form.is_valid():
            return render(request, "portal/rate.html", {**context, "form": form}, status=400)
        try:
            rating, _created = services.rating_record(
                link=link, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
            )
        except DomainError as error:
            forms.apply_domain_error(form, error)
            return render(request, "portal/rate.html", {**context, "form": form}, status=400)
        return render(request, "portal/rated.html", {**context, "rating": rating, "already": False})


# --- staff -----------------------------------------------------------------------------------


@login_required
@require_POST
def link_issue(request, inquiry_id: int):
    """Staff (inquiry page): a new status link, shown once to copy into a letter or a call."""
    inquiry = get_object_or_404(Inquiry.objects.select_related("customer"), pk=inquiry_id)
    try:
        link, token = services.link_issue(actor=as_actor(request.user), inquiry=inquiry)
    except DomainError as error:
        return render(request, "portal/staff_error.html", {"inquiry": inquiry, "error": error}, status=403)
    return render(request, "portal/issued.html", {"inquiry": inquiry, "link": link, "url": status_url(token)})


@login_required
@require_POST
def link_revoke(request, link_id: int):
    link = CustomerLink.objects.filter(pk=link_id).select_related("inquiry").first()
    if link is None or not can(as_actor(request.user), inquiry_perms.VIEW):
        raise Http404
    try:
        services.link_revoke(actor=as_actor(request.user), link=link)
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        return render(request, "portal/staff_error.html", {"inquiry": link.inquiry, "error": error}, status=403)
    return redirect("inquiries:detail", link.inquiry_id)
