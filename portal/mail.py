"""What the portal puts into mails to the customer: the status link under every mail, and the
survey mail. Words in the customer's preferred language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from inquiries.models import Inquiry

from . import services
from .enums import SCORES


def _language(inquiry: Inquiry) -> str:
    return inquiry.customer.preferred_language or "en"


def status_url(token: str) -> str:
    return settings.FD_SITE_URL + reverse("portal:status", args=[token])


def status_footer(inquiry: Inquiry) -> str:
    """The line under every mail to the customer (registered in inquiries' mail footers)."""
    if not inquiry.customer.email:
        return ""
    url = status_url(services.status_token(inquiry=inquiry))
    with translation.override(_language(inquiry)):
        return _("Follow your inquiry %(ref)s and reply online: %(url)s") % {"ref": inquiry.reference, "url": url}


def survey_message(inquiry: Inquiry, token: str) -> EmailMessage:
    """The survey mail: one link per score (each opens a page that asks to confirm)."""
    links = [
        f"{n}: {settings.FD_SITE_URL}{reverse('portal:rate', kwargs={'token': token, 'score': n})}" for n in SCORES
    ]
    customer = inquiry.customer
    name = customer.name.split()[0] if customer.name.split() else customer.name
    with translation.override(_language(inquiry)):
        subject = _("[%(ref)s] How did we do?") % {"ref": inquiry.reference}
        body = _(
            "Dear %(name)s,\n\nWe have resolved your inquiry %(ref)s (%(subject)s). How satisfied are you "
            "with how we handled it? Choose a score from 1 (not at all) to 5 (very):\n\n%(links)s\n\n"
            "You can add a comment on the next page. Thank you for your time.\n\nCustomer fulfillment team"
        ) % {"name": name, "ref": inquiry.reference, "subject": inquiry.subject, "links": "\n".join(links)}
    return EmailMessage(subject=subject, body=body, from_email=settings.FD_SUPPORT_EMAIL, to=[customer.email])
